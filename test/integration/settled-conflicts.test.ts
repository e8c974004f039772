import { listConflicts } from '../../lib/reporting/conflicts';
import { getSyncStatus } from '../../lib/reporting/status';
import { resolveConflict } from '../../lib/sync/resolve';
import { DEFAULT_SETTINGS, type RunDeps } from '../../lib/sync/run-types';
import type { RunResult } from '../../lib/sync/run-types';
import { runCliCaptured } from '../support/cli';
import { runStaged } from '../support/staged';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
let id: number;
let conflictId: number;

afterEach(async () => h?.close());

/** Material `id` changed in ServiceTitan (price 11, description) and in Retool (price 12.5), then synced into a conflict. */
beforeEach(async () => {
	h = await startHarness();
	expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
	id = h.sim.control.listIds('materials')[4];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { price: 11, description: 'ST description' });
	await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
	expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).conflictsDetected).toBe(1);
	conflictId = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id;
	await moveCursorPastOverlap();
});

/**
 * Lets the incremental cursor pass the conflict's ServiceTitan change by more than the overlap (another item changes
 * ten minutes later and is synced), so the next incremental listing no longer returns the item: as for a conflict
 * a person gets to after a while, nothing brings it to the run but the conflict itself.
 */
async function moveCursorPastOverlap() {
	h.sim.control.advanceClock(10 * 60_000);
	h.sim.control.updateItem('materials', h.sim.control.listIds('materials')[20], { displayName: 'Later change elsewhere' });
	expect(await h.engine.run({ kind: 'incremental', entityType: 'materials' })).toMatchObject({ success: true, kind: 'incremental' });
	h.sim.control.advanceClock(60_000);
	h.sim.control.resetStats();
}

/** Runs `sync` (an incremental run); checks that ServiceTitan's export feed did not list `item` to it (only its conflict could bring it). */
async function notListing(item: number, sync: () => Promise<RunResult>): Promise<RunResult> {
	const from = h.contract.exchanges.length;
	const run = await sync();
	const listed = h.contract.exchanges
		.slice(from)
		.filter((x) => x.method === 'GET' && x.path.includes('/export/materials'))
		.flatMap((x) => ((x.responseBody as { data?: { id: number }[] } | undefined)?.data ?? []).map((d) => d.id));
	expect(listed.length).toBeGreaterThan(0);
	expect(listed).not.toContain(item);
	return run;
}

const row = () => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
const conflict = () => h.t.db.one('SELECT * FROM sync_conflicts WHERE id = $1', [conflictId]);
const patches = () => h.sim.control.requests.filter((q) => q.method === 'PATCH');
const incremental = () => h.engine.run({ kind: 'incremental', entityType: 'materials' });
const stagedDeps = (): RunDeps => ({ db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: { ...DEFAULT_SETTINGS, pageSize: 25 } });

/** A person types ServiceTitan's values into the row in Retool, in their own spelling of the decimal. */
const typeStValuesInRetool = () => retoolUpdate(h.t, 'pricebook_materials', id, { price: '11.00', description: 'ST description' });

/** What a conflict settled by hand must have left behind, with the run that closed it. */
async function expectSettled(run: RunResult) {
	expect(run).toMatchObject({ success: true, conflictsDetected: 0, itemsPushed: 0 });
	expect(run.summary.conflicts).toBe(0);
	expect(run.summary.noChange).toBeGreaterThan(0);
	const c = await conflict();
	expect(c).toMatchObject({ status: 'resolved', resolution: 'settled_by_hand', resolved_by: 'sync: both sides agree' });
	expect(c.resolved_at).toBeInstanceOf(Date);
	expect(c.resolution_before).toMatchObject({ st: { price: '11', description: 'ST description' }, local: { price: '11', description: 'ST description' } });
	expect(c.resolution_after).toMatchObject({ price: '11', description: 'ST description' });
	const st = h.sim.control.getItem('materials', id)!;
	const r = await row();
	expect(r).toMatchObject({
		price: '11',
		description: 'ST description',
		sync_status: 'synced',
		has_conflict: false,
		conflict_data: null,
		// Nobody chose one of the three resolutions Retool knows: the column keeps to them, resolved_by says who closed it.
		conflict_resolution: null,
		resolved_by: 'sync: both sides agree',
		st_modified_on_raw: st.modifiedOn,
		deleted_at: null,
	});
	expect(r.conflict_resolved_at).toBeInstanceOf(Date);
	expect(r.sync_base).toMatchObject({ price: '11', description: 'ST description' });
	const log = await h.t.db.any("SELECT run_id, before, after FROM sync_change_log WHERE entity_id = $1 AND action = 'conflict_settled'", [id]);
	expect(log).toHaveLength(1);
	expect(Number(log[0].run_id)).toBe(run.runId);
	expect(log[0].before).toMatchObject({ conflictId: Number(conflictId), local: { price: '11' }, st: { price: '11' } });
	expect(log[0].after).toMatchObject({ price: '11' });
	// Nothing is sent to ServiceTitan, which already holds these values.
	expect(patches()).toHaveLength(0);
	expect(h.sim.control.getItem('materials', id)).toMatchObject({ price: 11, description: 'ST description' });
	// No longer shown as open anywhere.
	expect(await h.t.db.any('SELECT 1 FROM pricebook_open_conflicts_v WHERE entity_id = $1', [id])).toHaveLength(0);
	expect(await listConflicts(h.t.db)).toHaveLength(0);
	expect((await getSyncStatus(h.t.db)).materials).toMatchObject({ conflicts: 0, pending: 0 });
}

describe('a conflict settled by hand', () => {
	it("a person types ServiceTitan's values in Retool: the next incremental run closes it as settled, rebased and logged, sending nothing", async () => {
		await typeStValuesInRetool();
		expect(await row()).toMatchObject({ sync_status: 'conflict', has_conflict: true });
		// A dry run shows the settlement in its plan (as no change: the six categories stay as they are) and writes nothing.
		const plan = await h.engine.run({ kind: 'incremental', entityType: 'materials', dryRun: true });
		expect(plan.plan?.noChange).toContainEqual(expect.objectContaining({ id, action: 'settle_conflict' }));
		expect(await conflict()).toMatchObject({ status: 'open' });
		await expectSettled(await notListing(id, incremental));
		// Settled once: the next run finds nothing to do for it.
		h.sim.control.resetStats();
		const next = await incremental();
		expect(next).toMatchObject({ conflictsDetected: 0, itemsSynced: 0, itemsPushed: 0 });
		expect(next.summary.conflicts).toBe(0);
		expect(patches()).toHaveLength(0);
		expect(await h.t.db.one("SELECT count(*)::int AS n FROM sync_change_log WHERE entity_id = $1 AND action = 'conflict_settled'", [id])).toEqual({ n: 1 });
	});

	it('through the n8n steps (staged driver) the same', async () => {
		await typeStValuesInRetool();
		await expectSettled(await notListing(id, async () => (await runStaged(stagedDeps(), 'incremental', ['materials']))[0]));
	});

	it('by a full run and by a single-entity run too', async () => {
		await typeStValuesInRetool();
		await expectSettled(await h.engine.run({ kind: 'full', entityType: 'materials' }));
		// A second conflict, settled by hand and then synced on its own (Retool's save button).
		const other = h.sim.control.listIds('materials')[7];
		h.sim.control.updateItem('materials', other, { price: 21 });
		await retoolUpdate(h.t, 'pricebook_materials', other, { price: 22 });
		expect((await incremental()).conflictsDetected).toBe(1);
		await retoolUpdate(h.t, 'pricebook_materials', other, { price: 21 });
		const single = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: other });
		expect(single).toMatchObject({ success: true, conflictsDetected: 0 });
		expect(await h.t.db.one('SELECT status, resolution FROM sync_conflicts WHERE entity_id = $1', [other])).toEqual({
			status: 'resolved',
			resolution: 'settled_by_hand',
		});
		expect(await h.t.db.one('SELECT sync_status, has_conflict FROM pricebook_materials WHERE id = $1', [other])).toEqual({
			sync_status: 'synced',
			has_conflict: false,
		});
	});

	it('someone types the local values in ServiceTitan: settled the same way', async () => {
		const local = await row();
		h.sim.control.updateItem('materials', id, { price: 12.5, description: local.description });
		const run = await incremental();
		expect(run).toMatchObject({ success: true, conflictsDetected: 0, itemsPushed: 0 });
		expect(await conflict()).toMatchObject({ status: 'resolved', resolution: 'settled_by_hand' });
		expect(await row()).toMatchObject({ price: '12.5', sync_status: 'synced', has_conflict: false });
		expect(patches()).toHaveLength(0);
	});

	it('resolving a conflict already settled (library, as the webhook calls it, and CLI) answers "already resolved" and changes nothing', async () => {
		await typeStValuesInRetool();
		await incremental();
		const before = { row: await row(), conflict: await conflict() };
		h.sim.control.resetStats();
		const again = await resolveConflict({ db: h.t.db, st: h.client, lockWaitMs: 2000 }, { conflictId, resolution: 'use_local', resolvedBy: 'ann' });
		expect(again).toMatchObject({ status: 'already_resolved', resolution: 'settled_by_hand', resolvedBy: 'sync: both sides agree' });
		expect(again.message).toMatch(/already resolved \(settled by hand/);
		const cli = await runCliCaptured(['resolve', String(conflictId), '--resolution', 'use_st', '--by', 'bob'], h.env);
		expect(cli).toMatchObject({ code: 0, stdout: expect.stringMatching(/already resolved \(settled by hand/) });
		expect(await row()).toEqual(before.row);
		expect(await conflict()).toEqual(before.conflict);
		expect(h.sim.control.requests).toHaveLength(0);
	});

	it.each(['incremental', 'full'] as const)(
		'an item deleted in ServiceTitan whose row a person soft-deletes too: the next %s run settles it, the delete kept',
		async (kind) => {
			const gone = h.sim.control.listIds('materials')[9];
			await retoolUpdate(h.t, 'pricebook_materials', gone, { description: 'edited here' });
			h.sim.control.deleteItem('materials', gone);
			expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).conflictsDetected).toBe(1);
			const goneConflict = await h.t.db.one("SELECT id, kind FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [gone]);
			expect(goneConflict.kind).toBe('deleted_in_st');
			await moveCursorPastOverlap();
			// Not an edit of a synced column: the row stays in conflict until a run sees both sides agree.
			await retoolUpdate(h.t, 'pricebook_materials', gone, { deleted_at: new Date('2025-01-02T03:04:05Z') });
			expect(await h.t.db.one('SELECT sync_status FROM pricebook_materials WHERE id = $1', [gone])).toEqual({ sync_status: 'conflict' });
			const run = kind === 'incremental' ? await notListing(gone, incremental) : await h.engine.run({ kind: 'full', entityType: 'materials' });
			expect(run).toMatchObject({ success: true, conflictsDetected: 0 });
			expect(run.summary.deletedInST).toBe(0);
			expect(await h.t.db.one('SELECT * FROM sync_conflicts WHERE id = $1', [goneConflict.id])).toMatchObject({
				status: 'resolved',
				resolution: 'settled_by_hand',
				resolved_by: 'sync: both sides agree',
				resolution_before: { st: null, local: { description: 'edited here' } },
				resolution_after: { deleted: true },
			});
			const r = await h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [gone]);
			expect(r).toMatchObject({ has_conflict: false, sync_status: 'synced', deleted_in_st: true, conflict_data: null, description: 'edited here' });
			expect(r.deleted_at).toEqual(new Date('2025-01-02T03:04:05Z'));
			expect(await h.t.db.one("SELECT count(*)::int AS n FROM sync_change_log WHERE entity_id = $1 AND action = 'conflict_settled'", [gone])).toEqual({
				n: 1,
			});
			expect(patches()).toHaveLength(0);
		},
	);
});

describe('a conflict whose sides still differ', () => {
	it("stays open, and the row in conflict, when a person typed only part of ServiceTitan's values", async () => {
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 11 });
		const local = await row();
		expect(local.description).not.toBe('ST description');
		for (const run of [
			await incremental(),
			(await runStaged(stagedDeps(), 'incremental', ['materials']))[0],
			await h.engine.run({ kind: 'full', entityType: 'materials' }),
		]) {
			expect(run.success).toBe(true);
			expect(await conflict()).toMatchObject({ status: 'open', resolution: null });
			expect(await row()).toMatchObject({ price: '11', sync_status: 'conflict', has_conflict: true });
		}
		expect(await h.t.db.any("SELECT 1 FROM sync_change_log WHERE action = 'conflict_settled'")).toHaveLength(0);
		expect(patches()).toHaveLength(0);
		expect(await listConflicts(h.t.db)).toHaveLength(1);
	});

	it('a soft-deleted row whose item ServiceTitan still has is no settlement of a delete: the conflict stays open', async () => {
		await retoolUpdate(h.t, 'pricebook_materials', id, { deleted_at: new Date() });
		expect((await incremental()).success).toBe(true);
		expect(await conflict()).toMatchObject({ status: 'open' });
	});
});
