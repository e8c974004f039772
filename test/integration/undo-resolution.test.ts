import { resolveConflict, type ResolveRequest } from '../../lib/sync/resolve';
import { undoRun } from '../../lib/sync/undo';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

/**
 * Undo of a resolution (issue 21): the conflict opens again with both versions as they were before the decision,
 * on both sides (ServiceTitan goes back too when the decision had pushed to it), when nothing changed since; with a
 * later edit it refuses and changes nothing. Real PostgreSQL, the simulator over HTTP.
 */
let h: SyncHarness;
let id: number;
let conflictId: number;
afterEach(async () => h?.close());

/** Material `id` changed in ST (price 11, description) and locally (price 12.5, cost), then synced into a conflict. */
beforeEach(async () => {
	h = await startHarness();
	await h.engine.run({ kind: 'full', entityType: 'materials' });
	id = h.sim.control.listIds('materials')[5];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { price: 11, description: 'ST description' });
	await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5, cost: 3.25 });
	expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).conflictsDetected).toBe(1);
	conflictId = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id;
});

const row = () => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
const conflict = () => h.t.db.one('SELECT * FROM sync_conflicts WHERE id = $1', [conflictId]);
const stItem = () => h.sim.control.getItem('materials', id)!;
async function resolve(request: Partial<ResolveRequest>): Promise<number> {
	await resolveConflict({ db: h.t.db, st: h.client }, { conflictId, resolvedBy: 'ann', ...request } as ResolveRequest);
	return (await h.t.db.one("SELECT max(id)::int AS id FROM sync_runs WHERE kind = 'resolution'")).id;
}
const undo = (runId: number, dryRun = false) => undoRun({ db: h.t.db, st: h.client }, { runId, by: 'bob', dryRun });

/** Both sides as the conflict showed them, and the conflict open on the row and in its table. */
async function expectReopened(stBefore: Record<string, unknown>) {
	expect(await row()).toMatchObject({
		price: '12.5',
		cost: '3.25',
		sync_status: 'conflict',
		has_conflict: true,
		conflict_resolution: null,
		resolved_by: null,
	});
	expect((await row()).conflict_data).toMatchObject({ conflictId });
	expect(await conflict()).toMatchObject({ status: 'open', resolution: null, resolved_by: null });
	expect(stItem()).toMatchObject(stBefore);
	// The next sync keeps it open: nothing is decided for the person.
	const next = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	expect(next).toMatchObject({ success: true, itemsPushed: 0, itemsSynced: 0, conflictsDetected: 0 });
	expect(await conflict()).toMatchObject({ status: 'open' });
}

it('use_st: the conflict reopens with the local version from before (ServiceTitan was not changed by it)', async () => {
	const stBefore = { price: 11, description: 'ST description', cost: stItem().cost };
	const runId = await resolve({ resolution: 'use_st' });
	expect(await row()).toMatchObject({ price: '11', sync_status: 'synced' });
	const patchesBefore = h.sim.control.requests.filter((q) => q.method === 'PATCH').length;

	const plan = await undo(runId, true);
	expect(plan.items[0].restore).toEqual(
		expect.arrayContaining([
			{ field: 'price', side: 'local', now: '11', afterUndo: '12.5' },
			{ field: 'cost', side: 'local', now: expect.anything(), afterUndo: '3.25' },
		]),
	);
	expect(plan.items[0].restore.filter((r) => r.side === 'servicetitan')).toEqual([]);
	expect(plan.message).toMatch(`conflict ${conflictId} would open again`);

	const result = await undo(runId);
	expect(result).toMatchObject({ success: true, status: 'succeeded', undoes: runId });
	expect(h.sim.control.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
	await expectReopened(stBefore);
	// And it can be decided again.
	await resolve({ resolution: 'use_local' });
	expect(stItem()).toMatchObject({ price: 12.5, cost: 3.25 });
});

it('use_local: ServiceTitan goes back to its version and the conflict reopens', async () => {
	const stBefore = { price: 11, description: 'ST description', cost: stItem().cost };
	const runId = await resolve({ resolution: 'use_local' });
	expect(stItem()).toMatchObject({ price: 12.5, cost: 3.25 });
	const result = await undo(runId);
	expect(result).toMatchObject({ success: true, itemsPushed: 1 });
	await expectReopened(stBefore);
});

it('merged: both sides go back and the conflict reopens', async () => {
	const stBefore = { price: 11, description: 'ST description', cost: stItem().cost };
	const runId = await resolve({ resolution: 'merged', mergedData: { price: 13 } });
	expect(stItem()).toMatchObject({ price: 13 });
	expect(await undo(runId)).toMatchObject({ success: true });
	await expectReopened(stBefore);
});

it('a later edit since the resolution: the dry run says why, the undo refuses and changes nothing', async () => {
	const runId = await resolve({ resolution: 'use_local' });
	await retoolUpdate(h.t, 'pricebook_materials', id, { display_name: 'Later Retool edit' });
	const plan = await undo(runId, true);
	expect(plan.items[0]).toMatchObject({
		restore: [],
		skipped: [{ field: 'display_name', reason: 'changed locally since the resolution (now "Later Retool edit")' }],
	});
	expect(plan.message).toMatch(/nothing would change: a later edit would be lost/);
	const before = { row: await row(), conflict: await conflict(), st: stItem() };
	await expect(undo(runId)).rejects.toThrow(`the item changed since resolution run ${runId} (display_name changed locally`);
	expect(await row()).toEqual(before.row);
	expect(await conflict()).toEqual(before.conflict);
	expect(stItem()).toEqual(before.st);
});

it('a ServiceTitan edit since the resolution is a later edit too', async () => {
	const runId = await resolve({ resolution: 'use_st' });
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { displayName: 'Later ST edit' });
	await expect(undo(runId)).rejects.toThrow(/display_name changed in ServiceTitan since the resolution/);
	expect(await conflict()).toMatchObject({ status: 'resolved' });
});
