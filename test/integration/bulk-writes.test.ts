import { WRITE_CHUNK } from '../../lib/db/pricebook-store';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

/**
 * A ServiceTitan page (up to 5000 items) is written in statements of WRITE_CHUNK rows inside the page's
 * transaction, with its payloads sent as bind parameters: a page larger than one statement, ending in a partial
 * chunk, must come out exactly as if it had been one statement.
 */
jest.setTimeout(120_000);

const N = 2 * WRITE_CHUNK + 345;

describe('pages larger than one write statement', () => {
	let h: SyncHarness;

	beforeAll(async () => {
		h = await startHarness({ sim: { counts: { categories: 12, materials: N, equipment: 5, services: 5 } } });
	});

	afterAll(async () => {
		await h?.close();
	});

	const count = async (sql: string, values: unknown[] = []): Promise<number> =>
		(await h.t.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) s`, values)).n;

	it('a full sync of one page writes every row with its base, ST data and one change-log entry', async () => {
		const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(r).toMatchObject({ status: 'succeeded', itemsSynced: N, errors: 0 });
		expect(r.summary.newInST).toBe(N);
		expect(await count(`SELECT 1 FROM pricebook_materials WHERE sync_status = 'synced' AND sync_base IS NOT NULL AND st_data ? 'primaryVendor'`)).toBe(N);
		expect(await count(`SELECT DISTINCT entity_id FROM sync_change_log WHERE run_id = $1 AND action = 'created'`, [r.runId])).toBe(N);
		expect(await count('SELECT 1 FROM sync_change_log WHERE run_id = $1', [r.runId])).toBe(N);
		const run = await h.t.db.one('SELECT pages_read, items_seen FROM sync_runs WHERE id = $1', [r.runId]);
		expect(run).toEqual({ pages_read: 1, items_seen: N });
		// Rows on both sides of every chunk boundary are ServiceTitan's values.
		const ids = h.sim.control.listIds('materials').sort((a, b) => a - b);
		for (const i of [0, WRITE_CHUNK - 1, WRITE_CHUNK, 2 * WRITE_CHUNK, N - 1]) {
			const st = h.sim.control.getItem('materials', ids[i])!;
			const row = await h.t.db.one('SELECT code, price, st_modified_on_raw, st_data FROM pricebook_materials WHERE id = $1', [ids[i]]);
			expect(row.code).toBe(st.code);
			expect(Number(row.price)).toBe(st.price);
			expect(row.st_modified_on_raw).toBe(st.modifiedOn);
			expect(row.st_data.primaryVendor).toEqual(st.primaryVendor);
			expect(row.st_data).not.toHaveProperty('price');
		}
	});

	it('an incremental run updates and pushes across chunk boundaries, and a full sync then finds nothing to do', async () => {
		const ids = h.sim.control.listIds('materials').sort((a, b) => a - b);
		const stEdited = ids.filter((_, i) => i % 2 === 0);
		expect(stEdited.length).toBeGreaterThan(WRITE_CHUNK);
		stEdited.forEach((id, i) => h.sim.control.updateItem('materials', id, { price: 5000 + i / 100 }));
		const retoolEdited = [ids[1], ids[WRITE_CHUNK + 1], ids[N - 2]];
		for (const id of retoolEdited) await retoolUpdate(h.t, 'pricebook_materials', id, { display_name: `edited in Retool ${id}` });

		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r).toMatchObject({ status: 'succeeded', kind: 'incremental', itemsPushed: retoolEdited.length, conflictsDetected: 0 });
		expect(r.summary.modifiedInSTOnly).toBe(stEdited.length);
		expect(r.summary.modifiedLocalOnly).toBe(retoolEdited.length);

		const edited = await h.t.db.any<{ id: number; price: string; base: string }>(
			`SELECT id, price::text, sync_base->>'price' AS base FROM pricebook_materials WHERE id = ANY($1::bigint[]) AND sync_status = 'synced'`,
			[stEdited],
		);
		expect(edited).toHaveLength(stEdited.length);
		for (const row of edited) {
			const want = 5000 + stEdited.indexOf(row.id) / 100;
			expect(Number(row.price)).toBe(want);
			expect(Number(row.base)).toBe(want);
		}
		for (const id of retoolEdited) {
			expect(h.sim.control.getItem('materials', id)!.displayName).toBe(`edited in Retool ${id}`);
			expect(await h.t.db.one('SELECT sync_status, display_name FROM pricebook_materials WHERE id = $1', [id])).toEqual({
				sync_status: 'synced',
				display_name: `edited in Retool ${id}`,
			});
		}
		expect(await count(`SELECT 1 FROM sync_change_log WHERE run_id = $1 AND action = 'updated_from_st'`, [r.runId])).toBe(stEdited.length);

		const again = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(again).toMatchObject({ status: 'succeeded', itemsSynced: 0, itemsPushed: 0 });
		expect(again.summary.noChange).toBe(N);
	});
});
