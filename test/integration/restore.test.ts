import { restoreItem, type RestoreRequest } from '../../lib/sync/restore';
import { undoRun } from '../../lib/sync/undo';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

/**
 * Restore of one item to an earlier state (issue 21): the values are derived from the item's change log and go back
 * on both sides (the local row and ServiceTitan's record) through the sync's own push, as a run that undo can take
 * back. Later synced edits are overwritten on purpose; an edit not synced yet is skipped and kept. Real PostgreSQL,
 * the simulator over HTTP.
 */
let h: SyncHarness;
let id: number;
let original: { price: string; description: string; display_name: string };
/** The change id of the push of the Retool price edit: the first change after the full sync. */
let pushChange: number;
/** A moment between the price edit and the ServiceTitan description edit. */
let between: string;

afterEach(async () => h?.close());
beforeEach(async () => {
	h = await startHarness();
	expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
	id = h.sim.control.listIds('materials')[3];
	original = await row(id);
	await retoolUpdate(h.t, 'pricebook_materials', id, { price: '101.5' });
	expect((await incremental()).itemsPushed).toBe(1);
	await pause();
	between = new Date().toISOString();
	await pause();
	stEdit(id, { description: 'Changed in ServiceTitan' });
	expect((await incremental()).itemsSynced).toBe(1);
	pushChange = (await h.t.db.one("SELECT id FROM sync_change_log WHERE entity_id = $1 AND action = 'pushed' ORDER BY id LIMIT 1", [id])).id;
	pushChange = Number(pushChange);
});

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
const row = (itemId: number) => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [itemId]);
const stItem = (itemId: number) => h.sim.control.getItem('materials', itemId)!;
const incremental = () => h.engine.run({ kind: 'incremental', entityType: 'materials' });
const restore = (extra: Partial<RestoreRequest>) =>
	restoreItem({ db: h.t.db, st: h.client }, { entityType: 'materials', entityId: id, by: 'ann', ...extra } as RestoreRequest);
/** An edit by a ServiceTitan user a little later (its clock moves on as time passes). */
const stEdit = (itemId: number, changes: Record<string, unknown>) => {
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', itemId, changes);
};

describe('restore to before a change', () => {
	it('takes back that change and every later one, on both sides, as a recorded restore run', async () => {
		const result = await restore({ changeId: pushChange });
		expect(result).toMatchObject({ success: true, status: 'succeeded', fieldsRestored: 2, fieldsSkipped: 0, itemsPushed: 1, changeId: pushChange });
		expect(result.item.restore).toEqual([
			{ field: 'description', now: 'Changed in ServiceTitan', afterUndo: original.description },
			{ field: 'price', now: '101.5', afterUndo: expect.anything() },
		]);
		expect(await row(id)).toMatchObject({ price: original.price, description: original.description, sync_status: 'synced' });
		expect(stItem(id)).toMatchObject({ price: Number(original.price), description: original.description });
		const ledger = await h.t.db.one('SELECT * FROM sync_runs WHERE id = $1', [result.runId]);
		expect(ledger).toMatchObject({
			kind: 'restore',
			entity_type: 'materials',
			status: 'succeeded',
			details: expect.objectContaining({ by: 'ann', changeId: pushChange }),
		});
		// The next sync finds nothing to do: both sides agree.
		expect(await incremental()).toMatchObject({ itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0 });
	});
});

describe('restore to a moment', () => {
	it('takes back only what changed after it', async () => {
		const result = await restore({ at: between });
		expect(result).toMatchObject({ success: true, fieldsRestored: 1, fieldsSkipped: 0 });
		expect(await row(id)).toMatchObject({ price: '101.5', description: original.description, sync_status: 'synced' });
		expect(stItem(id)).toMatchObject({ price: 101.5, description: original.description });
	});
});

describe('edits not synced yet are never overwritten', () => {
	it('a field with a ServiceTitan edit the sync has not pulled is skipped and keeps it; the others are restored', async () => {
		stEdit(id, { description: 'Newer in ServiceTitan, not pulled' });
		const result = await restore({ changeId: pushChange });
		expect(result.item.skipped).toEqual([
			{
				field: 'description',
				reason: 'changed in ServiceTitan and not synced yet (now "Newer in ServiceTitan, not pulled"); run a sync first, then restore again',
			},
		]);
		expect(result.item.restore.map((r) => r.field)).toEqual(['price']);
		expect(stItem(id)).toMatchObject({ price: Number(original.price), description: 'Newer in ServiceTitan, not pulled' });
		expect(await row(id)).toMatchObject({ price: original.price, sync_status: 'synced' });
	});

	it('a field with a Retool edit not pushed yet is skipped and keeps it', async () => {
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: '7' });
		const result = await restore({ changeId: pushChange });
		expect(result.item.skipped).toEqual([{ field: 'price', reason: 'holds a Retool edit not pushed yet (now "7"); run a sync first, then restore again' }]);
		expect(stItem(id)).toMatchObject({ price: 7, description: original.description });
	});

	it('an item in conflict is skipped whole, with what to do first', async () => {
		stEdit(id, { cost: 44 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { cost: 45 });
		expect((await incremental()).conflictsDetected).toBe(1);
		const result = await restore({ changeId: pushChange, dryRun: true });
		expect(result).toMatchObject({ fieldsRestored: 0, item: { skipped: [{ reason: expect.stringContaining('resolve the conflict first') }] } });
	});
});

describe('dry run', () => {
	it('lists per field now -> after restore and writes nothing', async () => {
		const runsBefore = (await h.t.db.one('SELECT count(*)::int AS n FROM sync_runs')).n;
		const logBefore = (await h.t.db.one('SELECT count(*)::int AS n FROM sync_change_log')).n;
		const patchesBefore = h.sim.control.requests.filter((q) => q.method === 'PATCH').length;
		const plan = await restore({ changeId: pushChange, dryRun: true });
		expect(plan).toMatchObject({ dryRun: true, status: 'planned', runId: null, fieldsRestored: 2 });
		expect(plan.message).toMatch(/would restore 2 field/);
		expect(await row(id)).toMatchObject({ price: '101.5', description: 'Changed in ServiceTitan' });
		expect(stItem(id)).toMatchObject({ price: 101.5, description: 'Changed in ServiceTitan' });
		expect((await h.t.db.one('SELECT count(*)::int AS n FROM sync_runs')).n).toBe(runsBefore);
		expect((await h.t.db.one('SELECT count(*)::int AS n FROM sync_change_log')).n).toBe(logBefore);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
	});
});

describe('refusals say what to do', () => {
	it('an unknown change, another item’s change, a change or a time beyond the retention window', async () => {
		await expect(restore({ changeId: 987654321 })).rejects.toThrow(/change 987654321 does not exist.*pricebook-sync history materials/);
		const other = h.sim.control.listIds('materials')[5];
		const otherChange = Number((await h.t.db.one('SELECT id FROM sync_change_log WHERE entity_id = $1 ORDER BY id LIMIT 1', [other])).id);
		await expect(restore({ changeId: otherChange })).rejects.toThrow(`change ${otherChange} is of materials ${other}, not materials ${id}`);
		const later = new Date(Date.now() + 91 * 86_400_000);
		await expect(
			restoreItem({ db: h.t.db, st: h.client, now: () => later }, { entityType: 'materials', entityId: id, changeId: pushChange, by: 'ann' }),
		).rejects.toThrow(/beyond the 90-day retention window \(CHANGE_LOG_RETENTION_DAYS\): the log no longer reaches back that far/);
		await expect(restore({ at: '2020-01-01T00:00:00Z' })).rejects.toThrow(/the log no longer reaches back that far/);
		await expect(restore({ changeId: pushChange, by: ' ' })).rejects.toThrow(/say who restores/);
		await expect(restore({ changeId: pushChange, at: between })).rejects.toThrow(/not both/);
		// Nothing was written by any of them.
		expect((await h.t.db.one("SELECT count(*)::int AS n FROM sync_runs WHERE kind = 'restore'")).n).toBe(0);
	});
});

describe('undo of a restore', () => {
	it('brings back the values the restore overwrote, on both sides', async () => {
		const result = await restore({ changeId: pushChange });
		expect(result.fieldsRestored).toBe(2);
		const undone = await undoRun({ db: h.t.db, st: h.client }, { runId: result.runId!, by: 'ann' });
		expect(undone).toMatchObject({ success: true, undoes: result.runId, fieldsRestored: 2, fieldsSkipped: 0 });
		expect(await row(id)).toMatchObject({ price: '101.5', description: 'Changed in ServiceTitan', sync_status: 'synced' });
		expect(stItem(id)).toMatchObject({ price: 101.5, description: 'Changed in ServiceTitan' });
	});
});

describe('pricebook-sync restore', () => {
	it('--dry-run prints every field now -> after restore; the restore names its run and how to undo it; errors say what to do', async () => {
		const dry = await runCliCaptured(['restore', 'materials', String(id), '--change', String(pushChange), '--dry-run', '--by', 'ann'], h.env);
		expect(dry).toMatchObject({ code: 0, stderr: '' });
		expect(dry.stdout).toContain(`materials ${id} description: "Changed in ServiceTitan" -> ${JSON.stringify(original.description)}`);
		expect(dry.stdout).toContain(`Nothing was changed. To carry it out: pricebook-sync restore materials ${id} --change ${pushChange} --by <user>`);
		expect(stItem(id).description).toBe('Changed in ServiceTitan');

		const done = await runCliCaptured(['restore', 'materials', String(id), '--change', String(pushChange), '--by', 'ann', '--json'], h.env);
		expect(done.code).toBe(0);
		const result = JSON.parse(done.stdout);
		expect(result).toMatchObject({ success: true, status: 'succeeded', fieldsRestored: 2 });
		expect(stItem(id).description).toBe(original.description);

		const text = await runCliCaptured(['restore', 'materials', String(id), '--at', between, '--by', 'ann'], h.env);
		expect(text.code).toBe(0);
		expect(text.stdout).toMatch(/restore of materials \d+ to its state at .*: restored 1 field\(s\); 0 skipped \(restore run \d+\)/);
		expect(text.stdout).toMatch(/To take it back: pricebook-sync undo \d+ --by <user>/);

		const unknown = await runCliCaptured(['restore', 'materials', String(id), '--change', '987654321', '--by', 'ann'], h.env);
		expect(unknown.code).not.toBe(0);
		expect(unknown.stderr).toContain('change 987654321 does not exist');
		const neither = await runCliCaptured(['restore', 'materials', String(id), '--by', 'ann'], h.env);
		expect(neither).toMatchObject({ code: 2, stderr: expect.stringContaining('give either --at <time> or --change <changeId>') });
		const badTime = await runCliCaptured(['restore', 'materials', String(id), '--at', 'yesterday', '--by', 'ann'], h.env);
		expect(badTime).toMatchObject({ code: 2, stderr: expect.stringContaining('--at must be an ISO-8601 time') });
		const noName = await runCliCaptured(['restore', 'materials', String(id), '--change', String(pushChange)], h.env);
		expect(noName).toMatchObject({ code: 2, stderr: expect.stringContaining('--by is required') });
	});
});
