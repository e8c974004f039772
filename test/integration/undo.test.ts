import { undoRun, type UndoRequest } from '../../lib/sync/undo';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

/**
 * Undo of a sync run (issue 21): every field the run changed goes back to its value before the run on both sides
 * (the local row and ServiceTitan's record), while both still hold what the run left; a field someone changed since,
 * in Retool or in ServiceTitan, is skipped and listed, never overwritten. Real PostgreSQL, the simulator over HTTP.
 */
let h: SyncHarness;
afterEach(async () => h?.close());
beforeEach(async () => {
	h = await startHarness();
	expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
});

const row = (id: number) => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
const stItem = (id: number) => h.sim.control.getItem('materials', id)!;
const incremental = () => h.engine.run({ kind: 'incremental', entityType: 'materials' });
const undo = (runId: number, extra: Partial<UndoRequest> = {}) => undoRun({ db: h.t.db, st: h.client }, { runId, by: 'ann', ...extra });
/** An edit by a ServiceTitan user a little later (its clock moves on as time passes). */
const stEdit = (id: number, changes: Record<string, unknown>) => {
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, changes);
};

describe('undo of a run that pulled ServiceTitan changes', () => {
	it('restores both sides to the values before the run, as a recorded undo run', async () => {
		const [a, b] = h.sim.control.listIds('materials');
		const before = { a: await row(a), b: await row(b) };
		stEdit(a, { displayName: 'Renamed in ST', price: 99.5 });
		stEdit(b, { description: 'New text in ST' });
		const run = await incremental();
		expect(run.itemsSynced).toBe(2);
		expect((await row(a)).display_name).toBe('Renamed in ST');

		const result = await undo(run.runId!);
		expect(result).toMatchObject({ success: true, status: 'succeeded', undoes: run.runId, fieldsRestored: 3, fieldsSkipped: 0, itemsPushed: 2 });
		expect(await row(a)).toMatchObject({ display_name: before.a.display_name, price: before.a.price, sync_status: 'synced' });
		expect(await row(b)).toMatchObject({ description: before.b.description, sync_status: 'synced' });
		expect(stItem(a)).toMatchObject({ displayName: before.a.display_name, price: Number(before.a.price) });
		expect(stItem(b)).toMatchObject({ description: before.b.description });
		const ledger = await h.t.db.one('SELECT * FROM sync_runs WHERE id = $1', [result.runId]);
		expect(ledger).toMatchObject({
			kind: 'undo',
			entity_type: 'materials',
			status: 'succeeded',
			details: expect.objectContaining({ undoes: run.runId, by: 'ann' }),
		});
		// The next sync finds nothing to do: both sides agree.
		expect(await incremental()).toMatchObject({ itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0 });
	});
});

describe('undo of a run that pushed a Retool edit', () => {
	it('puts the old value back in ServiceTitan and locally', async () => {
		const id = h.sim.control.listIds('materials')[2];
		const old = await row(id);
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: '42.25', display_name: 'Edited in Retool' });
		const run = await incremental();
		expect(run.itemsPushed).toBe(1);
		expect(stItem(id)).toMatchObject({ price: 42.25, displayName: 'Edited in Retool' });

		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 2, fieldsSkipped: 0 });
		expect(stItem(id)).toMatchObject({ price: Number(old.price), displayName: old.display_name });
		expect(await row(id)).toMatchObject({ price: old.price, display_name: old.display_name, sync_status: 'synced' });
	});
});

describe('later edits are never overwritten', () => {
	it('a field edited in Retool since the run is skipped and kept; the other fields are restored', async () => {
		const id = h.sim.control.listIds('materials')[3];
		const old = await row(id);
		stEdit(id, { displayName: 'Renamed in ST', price: 77 });
		const run = await incremental();
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: '80' });

		const result = await undo(run.runId!);
		expect(result).toMatchObject({ success: true, fieldsRestored: 1 });
		expect(result.items).toEqual([
			{
				entityId: id,
				restore: [{ field: 'display_name', now: 'Renamed in ST', afterUndo: old.display_name }],
				skipped: [{ field: 'price', reason: 'changed locally since the run (now "80"); kept' }],
			},
		]);
		// The Retool edit went on to ServiceTitan with the undo's push, untouched.
		expect(await row(id)).toMatchObject({ display_name: old.display_name, price: '80', sync_status: 'synced' });
		expect(stItem(id)).toMatchObject({ displayName: old.display_name, price: 80 });
	});

	it('an undo that restored nothing (every field edited since) does not count as undoing the run', async () => {
		const id = h.sim.control.listIds('materials')[17];
		stEdit(id, { displayName: 'Renamed in ST' });
		const run = await incremental();
		await retoolUpdate(h.t, 'pricebook_materials', id, { display_name: 'Renamed again in Retool' });
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 0, fieldsSkipped: 1 });
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 0, fieldsSkipped: 1 });
		expect((await row(id)).display_name).toBe('Renamed again in Retool');
	});

	it('a field edited in ServiceTitan since the run is skipped and kept; the other fields are restored', async () => {
		const id = h.sim.control.listIds('materials')[4];
		const old = await row(id);
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: '12.5', description: 'Retool text' });
		const run = await incremental();
		stEdit(id, { description: 'Changed in ST later' });

		const result = await undo(run.runId!);
		expect(result.items[0].skipped).toEqual([{ field: 'description', reason: 'changed in ServiceTitan since the run (now "Changed in ST later"); kept' }]);
		expect(result.items[0].restore.map((r) => r.field)).toEqual(['price']);
		expect(stItem(id)).toMatchObject({ price: Number(old.price), description: 'Changed in ST later' });
		expect(await row(id)).toMatchObject({ price: old.price, description: 'Changed in ST later', sync_status: 'synced' });
	});
});

describe('dry run', () => {
	it('lists per item and field now -> after undo and what it would skip, and changes nothing', async () => {
		const [a, b] = h.sim.control.listIds('materials').slice(5, 7);
		const old = await row(a);
		stEdit(a, { displayName: 'Renamed in ST' });
		stEdit(b, { displayName: 'Also renamed' });
		const run = await incremental();
		await retoolUpdate(h.t, 'pricebook_materials', b, { display_name: 'Retool after' });
		const runsBefore = (await h.t.db.one('SELECT count(*)::int AS n FROM sync_runs')).n;
		const patchesBefore = h.sim.control.requests.filter((q) => q.method === 'PATCH').length;

		const plan = await undo(run.runId!, { dryRun: true });
		expect(plan).toMatchObject({ dryRun: true, status: 'planned', runId: null, fieldsRestored: 1, fieldsSkipped: 1 });
		expect(plan.items).toEqual(
			expect.arrayContaining([
				{ entityId: a, restore: [{ field: 'display_name', now: 'Renamed in ST', afterUndo: old.display_name }], skipped: [] },
				{ entityId: b, restore: [], skipped: [{ field: 'display_name', reason: 'changed locally since the run (now "Retool after"); kept' }] },
			]),
		);
		expect(plan.message).toMatch(/would restore 1 field/);
		expect((await row(a)).display_name).toBe('Renamed in ST');
		expect(stItem(a).displayName).toBe('Renamed in ST');
		expect((await h.t.db.one('SELECT count(*)::int AS n FROM sync_runs')).n).toBe(runsBefore);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
	});
});

describe('undo of an undo', () => {
	it('restores the run’s values again, and a run is not undone twice', async () => {
		const id = h.sim.control.listIds('materials')[8];
		const old = await row(id);
		stEdit(id, { displayName: 'Renamed in ST' });
		const run = await incremental();
		const first = await undo(run.runId!);
		expect((await row(id)).display_name).toBe(old.display_name);

		await expect(undo(run.runId!)).rejects.toThrow(
			`run ${run.runId} was already undone by run ${first.runId}; undo run ${first.runId} to bring its changes back`,
		);
		const again = await undo(first.runId!);
		expect(again).toMatchObject({ success: true, fieldsRestored: 1, fieldsSkipped: 0 });
		expect(await row(id)).toMatchObject({ display_name: 'Renamed in ST', sync_status: 'synced' });
		expect(stItem(id).displayName).toBe('Renamed in ST');
		// Its undo undone, the original run may be undone once more.
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 1 });
		expect(stItem(id).displayName).toBe(old.display_name);
	});
});

describe('full and single-entity runs', () => {
	it('undo of a full run restores what it pulled', async () => {
		const [a, b] = h.sim.control.listIds('materials').slice(9, 11);
		const old = { a: await row(a), b: await row(b) };
		stEdit(a, { price: 5.5 });
		stEdit(b, { displayName: 'Full run rename' });
		const run = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(run.itemsSynced).toBe(2);
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 2, fieldsSkipped: 0 });
		expect(stItem(a).price).toBe(Number(old.a.price));
		expect(stItem(b).displayName).toBe(old.b.display_name);
		expect((await row(a)).price).toBe(old.a.price);
		expect((await row(b)).display_name).toBe(old.b.display_name);
	});

	it('undo of an entity run restores its one item', async () => {
		const id = h.sim.control.listIds('materials')[11];
		const old = await row(id);
		stEdit(id, { description: 'Entity run text' });
		const run = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: id });
		expect(run.itemsSynced).toBe(1);
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 1 });
		expect(stItem(id).description).toBe(old.description);
		expect(await row(id)).toMatchObject({ description: old.description, sync_status: 'synced' });
	});

	it('an item the run added is listed as not removed, with the reason', async () => {
		const created = h.sim.control.createItem('materials', { code: 'UNDO-NEW', displayName: 'New in ST' });
		const run = await incremental();
		const result = await undo(run.runId!);
		expect(result.items).toEqual([
			{ entityId: created.id, restore: [], skipped: [{ reason: expect.stringMatching(/^new in ServiceTitan.*undo does not remove items/) }] },
		]);
		expect((await row(created.id)).deleted_at).toBeNull();
	});
});

describe('a run that failed part-way', () => {
	it('is undone for what it had changed, and the answer says it had failed', async () => {
		const [a, b] = h.sim.control.listIds('materials').slice(14, 16);
		const old = await row(a);
		stEdit(a, { displayName: 'Pulled before the failure' });
		await retoolUpdate(h.t, 'pricebook_materials', b, { description: 'Never pushed' });
		h.sim.control.failNext({ action: { kind: 'status', status: 503 }, match: { method: 'PATCH' }, times: 10 });
		const run = await incremental();
		expect(run).toMatchObject({ status: 'failed', itemsSynced: 1 });
		h.sim.control.clearFaults();

		const plan = await undo(run.runId!, { dryRun: true });
		expect(plan.message).toMatch(`(run ${run.runId} failed part-way; what it had changed is undone)`);
		expect(plan.items.map((p) => p.entityId)).toEqual([a]);
		expect(await undo(run.runId!)).toMatchObject({ success: true, fieldsRestored: 1 });
		expect(stItem(a).displayName).toBe(old.display_name);
		expect(await row(a)).toMatchObject({ display_name: old.display_name, sync_status: 'synced' });
		// The edit the failed run never pushed is still pending, untouched by the undo.
		expect(await row(b)).toMatchObject({ description: 'Never pushed', sync_status: 'pending_push' });
	});
});

describe('what the sync does with the restore is what the answer says', () => {
	it('a value ServiceTitan does not take back is listed as not restored, and waits locally as a held edit', async () => {
		const id = h.sim.control.listIds('materials')[16];
		const old = await row(id);
		stEdit(id, { cost: 9.75, displayName: 'Renamed in ST' });
		const run = await incremental();
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'], entities: ['materials'], echo: true } } });
		const result = await undo(run.runId!);
		expect(result).toMatchObject({ success: true, fieldsRestored: 1, fieldsSkipped: 1 });
		expect(result.items[0].restore.map((r) => r.field)).toEqual(['display_name']);
		expect(result.items[0].skipped).toEqual([
			{
				field: 'cost',
				reason: expect.stringMatching(
					/^not in ServiceTitan yet \(ServiceTitan did not apply cost.*the restored value waits locally as a pending edit$/,
				),
			},
		]);
		expect(stItem(id)).toMatchObject({ cost: 9.75, displayName: old.display_name });
		expect(await row(id)).toMatchObject({ cost: old.cost, sync_status: 'pending_push' });
	});
});

describe('refusals say what to do', () => {
	it('an unknown run, a run older than the undo window, a run still running, no name, an n8n run under way', async () => {
		await expect(undo(999_999)).rejects.toThrow('run 999999 does not exist; `pricebook-sync logs` lists the runs');
		const run = await incremental();
		const later = () => new Date(Date.now() + 91 * 86_400_000);
		await expect(undoRun({ db: h.t.db, st: h.client, now: later }, { runId: run.runId!, by: 'ann' })).rejects.toThrow(
			/longer ago than the undo window of 90 days/,
		);
		expect(await undoRun({ db: h.t.db, st: h.client, now: later, retentionDays: 120 }, { runId: run.runId!, by: 'ann', dryRun: true })).toMatchObject({
			success: true,
		});
		await h.t.db.none("UPDATE sync_runs SET status = 'running' WHERE id = $1", [run.runId]);
		await expect(undo(run.runId!)).rejects.toThrow(`run ${run.runId} is still running; undo it when it has finished`);
		await expect(undo(run.runId!, { by: ' ' })).rejects.toThrow(/say who undoes the run/);
		await h.t.db.none("UPDATE sync_runs SET status = 'succeeded' WHERE id = $1", [run.runId]);
		await h.t.db.none(
			"UPDATE sync_state SET lease_run_id = $1, lease_mode = 'staged', lease_expires_at = now() + interval '5 minutes' WHERE entity_type = 'materials'",
			[run.runId],
		);
		await expect(undo(run.runId!)).rejects.toThrow(`an n8n materials sync (run ${run.runId}) is under way; try again when it has finished`);
	});
});

describe('pricebook-sync undo', () => {
	it('--dry-run prints every field now -> after undo; the undo itself names its run; errors say what to do', async () => {
		const [a, b] = h.sim.control.listIds('materials').slice(12, 14);
		const old = await row(a);
		stEdit(a, { displayName: 'CLI rename' });
		stEdit(b, { displayName: 'Kept rename' });
		const run = await incremental();
		await retoolUpdate(h.t, 'pricebook_materials', b, { display_name: 'Retool later' });

		const dry = await runCliCaptured(['undo', String(run.runId), '--dry-run', '--by', 'ann'], h.env);
		expect(dry).toMatchObject({ code: 0, stderr: '' });
		expect(dry.stdout).toContain(`materials ${a} display_name: "CLI rename" -> ${JSON.stringify(old.display_name)}`);
		expect(dry.stdout).toContain(`materials ${b} display_name: skipped, changed locally since the run (now "Retool later"); kept`);
		expect(dry.stdout).toContain(`Nothing was changed. To carry it out: pricebook-sync undo ${run.runId} --by <user>`);
		expect(stItem(a).displayName).toBe('CLI rename');

		const done = await runCliCaptured(['undo', String(run.runId), '--by', 'ann', '--json'], h.env);
		expect(done.code).toBe(0);
		const result = JSON.parse(done.stdout);
		expect(result).toMatchObject({ success: true, undoes: run.runId, fieldsRestored: 1, fieldsSkipped: 1 });
		expect(stItem(a).displayName).toBe(old.display_name);

		const again = await runCliCaptured(['undo', String(run.runId), '--by', 'ann'], h.env);
		expect(again.code).toBe(3);
		expect(again.stderr).toContain(`run ${run.runId} was already undone by run ${result.runId}`);
		const unknown = await runCliCaptured(['undo', '424242', '--by', 'ann'], h.env);
		expect(unknown.code).not.toBe(0);
		expect(unknown.stderr).toContain('run 424242 does not exist');
		const noName = await runCliCaptured(['undo', String(run.runId)], h.env);
		expect(noName).toMatchObject({ code: 2, stderr: expect.stringContaining('--by is required') });
		const window = await runCliCaptured(['undo', String(run.runId), '--by', 'ann'], { ...h.env, CHANGE_LOG_RETENTION_DAYS: 'soon' });
		expect(window).toMatchObject({ code: 2, stderr: expect.stringContaining('CHANGE_LOG_RETENTION_DAYS') });
	});
});
