import { undoRun, type UndoRequest } from '../../lib/sync/undo';
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
		expect(ledger).toMatchObject({ kind: 'undo', entity_type: 'materials', status: 'succeeded', details: expect.objectContaining({ undoes: run.runId, by: 'ann' }) });
		// The next sync finds nothing to do: both sides agree.
		expect(await incremental()).toMatchObject({ itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0 });
	});
});
