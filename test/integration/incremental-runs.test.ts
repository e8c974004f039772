import { SyncEngine } from '../../lib/sync/engine';
import type { StApi } from '../../lib/sync/ports';
import { DEFAULT_SETTINGS, type RunDeps } from '../../lib/sync/run-types';
import { runStaged } from '../support/staged';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

/**
 * Incremental runs miss nothing ServiceTitan changed before they started, whatever its clock or listing does:
 * the cursor is bounded by ServiceTitan's own clock (the Date header of its answers), a full run re-arms it, the
 * window reaches back when that clock stepped back, the export feed's continuation token keeps a change from
 * sliding past the run, and its deleted records reach the local database within one incremental run.
 */
let h: SyncHarness;
afterEach(async () => h?.close());

const HOUR = 3600_000;
const material = (id: number) => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
const cursor = async () => (await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'")).cursor_raw as string;
const incremental = () => h.engine.run({ kind: 'incremental', entityType: 'materials' });
/** An edit by a ServiceTitan user a little later (its clock moves on as time passes). */
const stEdit = (id: number, changes: Record<string, unknown>) => {
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, changes);
};

beforeEach(async () => {
	h = await startHarness();
	expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
});

describe("ServiceTitan's clock", () => {
	it('one record stamped hours in the future (a clock jump) does not pin the cursor: later edits still arrive', async () => {
		const [ahead, later] = h.sim.control.listIds('materials');
		h.sim.control.stepClock(3 * HOUR);
		stEdit(ahead, { displayName: 'Stamped in the future' });
		h.sim.control.stepClock(-3 * HOUR);
		expect((await incremental()).success).toBe(true);
		expect((await material(ahead)).display_name).toBe('Stamped in the future');
		// The cursor stayed at ServiceTitan's clock, not three hours ahead of it.
		expect(Date.parse(await cursor())).toBeLessThanOrEqual(h.sim.control.now() + 2000);
		stEdit(later, { displayName: 'Edited after the jump' });
		expect((await incremental()).success).toBe(true);
		expect((await material(later)).display_name).toBe('Edited after the jump');
	});

	it('a full run re-arms a cursor left in the future, and an incremental run pulls it back too', async () => {
		const [a, b] = h.sim.control.listIds('materials');
		const future = new Date(h.sim.control.now() + 3 * HOUR).toISOString().replace('Z', '0000Z');
		await h.t.db.none("UPDATE sync_state SET cursor_raw = $1 WHERE entity_type = 'materials'", [future]);
		expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
		expect(Date.parse(await cursor())).toBeLessThanOrEqual(h.sim.control.now() + 2000);
		stEdit(a, { displayName: 'After the full run' });
		await incremental();
		expect((await material(a)).display_name).toBe('After the full run');

		await h.t.db.none("UPDATE sync_state SET cursor_raw = $1 WHERE entity_type = 'materials'", [future]);
		stEdit(b, { displayName: 'Cursor was ahead' });
		expect((await incremental()).success).toBe(true);
		expect((await material(b)).display_name).toBe('Cursor was ahead');
		expect(Date.parse(await cursor())).toBeLessThanOrEqual(h.sim.control.now() + 2000);
	});

	it('a clock that steps back by more than the overlap: edits stamped before the cursor still arrive', async () => {
		const [a] = h.sim.control.listIds('materials');
		stEdit(h.sim.control.listIds('materials')[1], { displayName: 'Moves the cursor' });
		await incremental();
		h.sim.control.stepClock(-HOUR);
		stEdit(a, { displayName: 'Stamped an hour before the cursor' });
		expect((await incremental()).success).toBe(true);
		expect((await material(a)).display_name).toBe('Stamped an hour before the cursor');
	});
});

describe('a listing that moves while it is read', () => {
	it('an item edited in ServiceTitan while the run pages makes no other item slide past it, and comes in next run', async () => {
		h.sim.control.setQuirks({ order: 'modifiedOn', pageDrift: true, exportBatchSize: 4 });
		const ids = h.sim.control.listIds('materials').slice(0, 12);
		for (const [i, id] of ids.entries()) stEdit(id, { displayName: `Changed ${i}` });
		// After the run's first page, a ServiceTitan user edits the first item it read.
		let pages = 0;
		const moving = new Proxy(h.client, {
			get(target, name, receiver) {
				const value = Reflect.get(target, name, receiver);
				if (name === 'iteratePages') {
					// The paged listing (what incremental runs read before the export feed): the same edit after its first page.
					return async function* (...args: unknown[]) {
						for await (const page of (value as (...a: unknown[]) => AsyncIterable<unknown>).apply(target, args)) {
							yield page;
							if (++pages === 1) stEdit(ids[0], { displayName: 'Edited while the run paged' });
						}
					};
				}
				if (name === 'exportPage' || name === 'listPage') {
					return async (...args: unknown[]) => {
						const page = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
						if (++pages === 2) stEdit(ids[0], { displayName: 'Edited while the run paged' });
						return page;
					};
				}
				return typeof value === 'function' ? value.bind(target) : value;
			},
		}) as StApi;
		const engine = new SyncEngine({ db: h.t.db, st: moving, settings: { pageSize: 4 } });
		const r = await engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r).toMatchObject({ success: true });
		for (const [i, id] of ids.entries()) if (i > 0) expect((await material(id)).display_name).toBe(`Changed ${i}`);
		await incremental();
		expect((await material(ids[0])).display_name).toBe('Edited while the run paged');
	});
});

describe('deletes and deactivations in ServiceTitan', () => {
	it('reach the local database within one incremental run: deleted soft-deleted, edited-and-deleted a conflict, deactivated kept', async () => {
		const [gone, edited, inactive] = h.sim.control.listIds('materials');
		await retoolUpdate(h.t, 'pricebook_materials', edited, { price: 77 });
		h.sim.control.advanceClock(60_000);
		h.sim.control.deleteItem('materials', gone);
		h.sim.control.deleteItem('materials', edited);
		h.sim.control.deactivate('materials', inactive);
		const r = await incremental();
		expect(r).toMatchObject({ success: true, summary: { deletedInST: 1 }, conflictsDetected: 1 });
		expect(await material(gone)).toMatchObject({ deleted_in_st: true, deleted_at: expect.any(Date) });
		expect(await material(edited)).toMatchObject({ deleted_at: null, sync_status: 'conflict', price: '77' });
		expect(await material(inactive)).toMatchObject({ deleted_at: null, active: false, sync_status: 'synced' });
		// Nothing left for the nightly full run.
		expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).summary.deletedInST).toBe(0);
	});

	it('many deletes at once stop at the mass-delete guard, as a full run does; nothing is deleted', async () => {
		const ids = h.sim.control.listIds('materials').slice(0, 20);
		h.sim.control.advanceClock(60_000);
		for (const id of ids) h.sim.control.deleteItem('materials', id);
		const r = await incremental();
		expect(r).toMatchObject({ success: false, failureKind: 'needs_confirmation', massDeleteBlocked: { wouldDelete: 20 } });
		expect((await h.t.db.one('SELECT count(*)::int AS n FROM pricebook_materials WHERE deleted_at IS NOT NULL')).n).toBe(0);
		const confirmed = await h.engine.run({ kind: 'full', entityType: 'materials', confirmMassDelete: true });
		expect(confirmed.summary.deletedInST).toBe(20);
	});

	it('a category deleted in ServiceTitan is soft-deleted by the next incremental run (it reads the whole tree)', async () => {
		await h.engine.run({ kind: 'full', entityType: 'categories' });
		const leaf = h.sim.control
			.listIds('categories')
			.find((id) => !h.sim.control.listIds('categories').some((other) => h.sim.control.getItem('categories', other)!.parentId === id))!;
		h.sim.control.deleteItem('categories', leaf);
		const r = await h.engine.run({ kind: 'incremental', entityType: 'categories' });
		expect(r).toMatchObject({ success: true, kind: 'incremental', summary: { deletedInST: 1 } });
		expect((await h.t.db.one('SELECT deleted_in_st FROM pricebook_categories WHERE id = $1', [leaf])).deleted_in_st).toBe(true);
	});

	it('the n8n steps read the export feed page after page from its tokens, deletes included', async () => {
		h.sim.control.setQuirks({ exportBatchSize: 3 });
		const ids = h.sim.control.listIds('materials').slice(0, 10);
		for (const [i, id] of ids.entries()) stEdit(id, { displayName: `Via n8n ${i}` });
		h.sim.control.deleteItem('materials', ids[9]);
		const deps: RunDeps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: DEFAULT_SETTINGS };
		const [r] = await runStaged(deps, 'incremental', ['materials']);
		expect(r).toMatchObject({ success: true, kind: 'incremental', summary: { deletedInST: 1 } });
		const exportCalls = h.sim.control.requests.filter((q) => q.method === 'GET' && q.path.includes('/export/materials'));
		expect(exportCalls.length).toBeGreaterThanOrEqual(4);
		for (const [i, id] of ids.slice(0, 9).entries()) expect((await material(id)).display_name).toBe(`Via n8n ${i}`);
		expect((await material(ids[9])).deleted_in_st).toBe(true);
	});
});
