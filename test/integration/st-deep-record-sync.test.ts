import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
afterAll(async () => {
	await h?.close();
});

it('a record nested 10,000 levels deep is skipped and logged by the sync like any invalid record; the run goes on', async () => {
	h = await startHarness();
	const id = h.sim.control.listIds('materials')[0];
	// Twice: a run's first request reads ServiceTitan's clock with a one-item listing, the second is its first page.
	h.sim.control.failNext({ action: { kind: 'deep_record', depth: 10_000 }, match: { method: 'GET', path: '/materials' }, times: 2 });
	const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
	expect(r).toMatchObject({ success: true, errors: 1 });
	const err = await h.t.db.one('SELECT kind, message FROM sync_error_log WHERE entity_id = $1', [id]);
	expect(err).toEqual({ kind: 'invalid_st_record', message: 'nested deeper than 64 levels' });
	const listed = h.sim.control.listIds('materials', { includeInactive: true }).length;
	expect((await h.t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM pricebook_materials')).n).toBe(listed - 1);
});
