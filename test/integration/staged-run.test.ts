import { DEFAULT_SETTINGS, type RunDeps } from '../../lib/sync/run-types';
import { applyStagedPage, categorizeStagedPage, fetchStagedPage, finishStagedRun, startStagedRuns } from '../../lib/sync/staged-run';
import { failStagedRuns } from '../../lib/sync/staged-failure';
import { runStaged } from '../support/staged';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
let deps: RunDeps;
afterEach(async () => h?.close());
beforeEach(async () => {
	h = await startHarness();
	deps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: { ...DEFAULT_SETTINGS, pageSize: 25 } };
});

const SNAPSHOT = `SELECT id, code, price, active, categories, sync_status, sync_base, deleted_in_st, has_conflict FROM pricebook_materials ORDER BY id`;

describe('a run split into n8n steps', () => {
	it('creates a row inserted in Retool and deactivates one soft-deleted there, as the library run does', async () => {
		await runStaged(deps, 'full', ['materials']);
		const { id: temp } = await h.t.db.one(`INSERT INTO pricebook_materials (code, description) VALUES ('STAGED-NEW', 'From Retool') RETURNING id`);
		const gone = h.sim.control.listIds('materials')[3];
		await retoolUpdate(h.t, 'pricebook_materials', gone, { deleted_at: new Date() });
		for (const kind of ['incremental', 'full'] as const) expect((await runStaged(deps, kind, ['materials']))[0]).toMatchObject({ success: true });
		const created = h.sim.control.listIds('materials').filter((id) => h.sim.control.getItem('materials', id)!.code === 'STAGED-NEW');
		expect(created).toHaveLength(1);
		expect(await h.t.db.oneOrNone('SELECT id FROM pricebook_materials WHERE id = $1', [temp])).toBeNull();
		expect(h.sim.control.getItem('materials', gone)!.active).toBe(false);
		const row = await h.t.db.one('SELECT deleted_at, active FROM pricebook_materials WHERE id = $1', [gone]);
		expect(row.deleted_at).toBeInstanceOf(Date);
		expect(row.active).toBe(false);
	});

	it('a page staged by the same run id in another database is never taken for this one', async () => {
		// Both databases are new, so both runs get id 1: the process that staged B's page 1 last must not hand it to A.
		const other = await startHarness({ sim: { seed: 8, counts: { categories: 2, materials: 10, equipment: 1, services: 1 } } });
		try {
			const otherDeps: RunDeps = { ...deps, db: other.t.db, st: other.client };
			const [a] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
			const [b] = await startStagedRuns(otherDeps, { kind: 'full', entityTypes: ['materials'] });
			if (a.status !== 'started' || b.status !== 'started') throw new Error('a run did not start');
			expect(a.ref.runId).toBe(b.ref.runId);
			await fetchStagedPage(deps, a.ref);
			await fetchStagedPage(otherDeps, b.ref);
			let ref = a.ref;
			for (let fetched = { hasMore: true }; ; ref = { ...ref, page: ref.page + 1 }) {
				if (ref.page > 1) fetched = await fetchStagedPage(deps, ref);
				await categorizeStagedPage(deps, ref);
				await applyStagedPage(deps, ref, 'changes');
				await applyStagedPage(deps, ref, 'conflicts');
				if (ref.page > 1 && !fetched.hasMore) break;
			}
			expect(await finishStagedRun(deps, ref)).toMatchObject({ success: true });
			const rows = await h.t.db.any<{ id: number; code: string }>('SELECT id, code FROM pricebook_materials ORDER BY id');
			expect(rows.map((r) => r.id)).toEqual([...h.sim.control.listIds('materials', { includeInactive: true })].sort((x, y) => x - y));
			for (const r of rows) expect(r.code).toBe(h.sim.control.getItem('materials', r.id)!.code);
		} finally {
			await other.close();
		}
	});

	it('counts an item ServiceTitan lists again on a later page once, as the library run does', async () => {
		// Pages ordered by last change: an item changed after page 1 was read moves to the last page and is listed twice.
		h.sim.control.setQuirks({ order: 'modifiedOn', pageDrift: true });
		const total = h.sim.control.listIds('materials', { includeInactive: true }).length;
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		if (start.status !== 'started') throw new Error('the run did not start');
		let ref = start.ref;
		for (;;) {
			const fetched = await fetchStagedPage(deps, ref);
			if (ref.page === 1) {
				const [first] = (await h.client.listPage('materials', { page: 1, pageSize: 25, active: 'Any' })).data;
				h.sim.control.updateItem('materials', first.id as number, { price: 12.5 });
			}
			await categorizeStagedPage(deps, ref);
			await applyStagedPage(deps, ref, 'changes');
			await applyStagedPage(deps, ref, 'conflicts');
			if (!fetched.hasMore) break;
			ref = { ...ref, page: ref.page + 1 };
		}
		const staged = await finishStagedRun(deps, ref);
		// The move also shifts the next item back onto page 1, already read: 60 entries listed, one of them twice.
		const run = await h.t.db.one('SELECT items_seen FROM sync_runs WHERE id = $1', [staged.runId]);
		expect(run.items_seen).toBe(total);
		const { n: created } = await h.t.db.one('SELECT count(*)::int AS n FROM pricebook_materials');
		expect(created).toBe(total - 1);
		expect(staged.summary.newInST).toBe(created);
		expect(Object.values(staged.summary).reduce((a, b) => a + b, 0)).toBe(created);
	});

	it('ends in the same state as the same run through the library, page by page', async () => {
		const [staged] = await runStaged(deps, 'full', ['materials']);
		expect(staged).toMatchObject({ success: true, kind: 'full' });
		expect(staged.summary.newInST).toBe(h.sim.control.listIds('materials', { includeInactive: true }).length);
		const viaSteps = await h.t.db.any(SNAPSHOT);
		const run = await h.t.db.one('SELECT pages_read, items_synced, counts FROM sync_runs WHERE id = $1', [staged.runId]);
		expect(run.pages_read).toBe(Math.ceil(staged.summary.newInST / 25));
		expect(run.items_synced).toBe(staged.itemsSynced);
		expect(await h.t.db.one('SELECT count(*)::int AS n FROM sync_page_stage')).toEqual({ n: 0 });

		const other = await startHarness();
		try {
			await other.engine.run({ kind: 'full', entityType: 'materials' });
			expect(await other.t.db.any(SNAPSHOT)).toEqual(viaSteps);
		} finally {
			await other.close();
		}
	});

	it('pushes local edits and soft-deletes (an incremental run already: the export feed carries the delete)', async () => {
		await runStaged(deps, 'full', ['materials']);
		const [a, b] = h.sim.control.listIds('materials');
		await retoolUpdate(h.t, 'pricebook_materials', a, { price: 42 });
		h.sim.control.deleteItem('materials', b);
		const [inc] = await runStaged(deps, 'incremental', ['materials']);
		expect(inc).toMatchObject({ kind: 'incremental', success: true, itemsPushed: 1, summary: { deletedInST: 1 } });
		expect(h.sim.control.getItem('materials', a)!.price).toBe(42);
		expect((await h.t.db.one('SELECT deleted_in_st FROM pricebook_materials WHERE id = $1', [b])).deleted_in_st).toBe(true);
		const [full] = await runStaged(deps, 'full', ['materials']);
		expect(full.summary.deletedInST).toBe(0);
	});

	it('running a step again does not apply or count twice; finishing twice returns the same result', async () => {
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		if (start.status !== 'started') throw new Error('expected a start');
		let ref = start.ref;
		for (;;) {
			const fetched = await fetchStagedPage(deps, ref);
			const again = await fetchStagedPage(deps, ref);
			expect(again.fetched).toBe(fetched.fetched);
			const first = await applyStagedPage(deps, ref, 'changes');
			const second = await applyStagedPage(deps, ref, 'changes');
			expect(second).toEqual({ ...first, alreadyDone: true });
			await applyStagedPage(deps, ref, 'conflicts');
			if (!fetched.hasMore) break;
			ref = { ...ref, page: ref.page + 1 };
		}
		const result = await finishStagedRun(deps, ref);
		expect(await finishStagedRun(deps, ref)).toMatchObject({ runId: result.runId, success: true, itemsSynced: result.itemsSynced });
		expect(result.itemsSynced).toBe(h.sim.control.listIds('materials', { includeInactive: true }).length);
	});

	it('storing conflicts returns the conflicts it stored, read back from the run; the same when it runs again', async () => {
		await runStaged(deps, 'full', ['materials']);
		const [x, y] = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		for (const [id, price] of [
			[x, 11],
			[y, 22],
		] as const) {
			h.sim.control.updateItem('materials', id, { price });
			await retoolUpdate(h.t, 'pricebook_materials', id, { price: price + 100 });
		}
		const [start] = await startStagedRuns(deps, { kind: 'incremental', entityTypes: ['materials'] });
		if (start.status !== 'started') throw new Error('expected a start');
		const fetched = await fetchStagedPage(deps, start.ref);
		expect(fetched).toMatchObject({ source: 'export', readBefore: false, listed: null });
		await applyStagedPage(deps, start.ref, 'changes');
		const first = await applyStagedPage(deps, start.ref, 'conflicts');
		const ids = await h.t.db.map("SELECT id FROM sync_conflicts WHERE entity_type = 'materials' ORDER BY entity_id", [], (r: { id: number }) => r.id);
		expect(first).toMatchObject({ alreadyDone: false, hasMore: fetched.hasMore, stored: { total: 2 } });
		expect(first.stored!.rows.map((r) => [r.id, r.entity_id, r.kind, r.diff?.fields])).toEqual([
			[ids[0], Math.min(x, y), 'modified', ['price']],
			[ids[1], Math.max(x, y), 'modified', ['price']],
		]);
		const again = await applyStagedPage(deps, start.ref, 'conflicts');
		expect(again).toEqual({ ...first, alreadyDone: true });
		expect(await fetchStagedPage(deps, start.ref)).toMatchObject({ readBefore: true, fetched: fetched.fetched });
		expect(await finishStagedRun(deps, start.ref)).toMatchObject({ success: true, conflictsDetected: 2 });
	});

	it('a run that stops part-way deletes nothing, keeps the cursor, and its lease expires for the next run', async () => {
		await runStaged(deps, 'full', ['materials']);
		const cursor = await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'");
		h.sim.control.deleteItem('materials', h.sim.control.listIds('materials')[0]);
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		if (start.status !== 'started') throw new Error('expected a start');
		await fetchStagedPage(deps, start.ref);
		// The n8n execution dies here. Until the lease expires, other runs are busy:
		const [busy] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		expect(busy.status).toBe('busy');
		expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).status).toBe('busy');
		// Finishing the broken run says why and changes nothing.
		const broken = await finishStagedRun(deps, start.ref);
		expect(broken.success).toBe(false);
		expect(broken.message).toMatch(/before every page was fetched and applied/);
		expect(await h.t.db.one('SELECT count(*)::int AS n FROM pricebook_materials WHERE deleted_at IS NOT NULL')).toEqual({ n: 0 });
		expect(await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'")).toEqual(cursor);
	});

	it('a dead execution is taken over once its lease expired, and its run is marked abandoned', async () => {
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		if (start.status !== 'started') throw new Error('expected a start');
		await fetchStagedPage(deps, start.ref);
		const later: RunDeps = { ...deps, now: () => new Date(Date.now() + DEFAULT_SETTINGS.leaseTtlMs + 60_000) };
		const [next] = await runStaged(later, 'full', ['materials']);
		expect(next.success).toBe(true);
		const old = await h.t.db.one('SELECT status, error FROM sync_runs WHERE id = $1', [start.ref.runId]);
		expect(old.status).toBe('failed');
		expect(old.error).toMatch(/abandoned/);
		await expect(fetchStagedPage(deps, { ...start.ref, page: 2 })).rejects.toThrow(/no longer running/);
	});

	it('a failed step closes its run with the cause at once: counts kept, lease free, staged pages dropped, the next run not busy', async () => {
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'], execution: 'exec-1' });
		if (start.status !== 'started') throw new Error('expected a start');
		await fetchStagedPage(deps, start.ref);
		await applyStagedPage(deps, start.ref, 'changes');
		await applyStagedPage(deps, start.ref, 'conflicts');
		const counted = await h.t.db.one('SELECT pages_read, items_seen, items_synced FROM sync_runs WHERE id = $1', [start.ref.runId]);
		expect(counted).toEqual({ pages_read: 1, items_seen: 25, items_synced: 25 });
		const failure = { run: start.ref, message: 'ServiceTitan answered 503', failureKind: 'st_unavailable' as const, step: 'ST Fetch Page' };

		const [failed] = await failStagedRuns(deps, { execution: 'exec-1', failures: [failure] });
		expect(failed).toEqual({
			stopped: false,
			result: expect.objectContaining({
				runId: start.ref.runId,
				status: 'failed',
				failureKind: 'st_unavailable',
				message: 'ServiceTitan answered 503',
				itemsSynced: 25,
			}),
		});
		expect(await h.t.db.one('SELECT status, error, pages_read, items_seen, items_synced FROM sync_runs WHERE id = $1', [start.ref.runId])).toEqual({
			status: 'failed',
			error: 'ServiceTitan answered 503',
			...counted,
		});
		expect(await h.t.db.one("SELECT lease_run_id, consecutive_failures FROM sync_state WHERE entity_type = 'materials'")).toEqual({
			lease_run_id: null,
			consecutive_failures: 1,
		});
		expect(await h.t.db.one('SELECT count(*)::int AS n FROM sync_page_stage WHERE run_id = $1', [start.ref.runId])).toEqual({ n: 0 });
		// Failing it again (a second failed item, a step run again) changes nothing.
		expect(await failStagedRuns(deps, { execution: 'exec-1', failures: [failure] })).toEqual([]);
		expect((await h.t.db.one('SELECT error FROM sync_runs WHERE id = $1', [start.ref.runId])).error).toBe('ServiceTitan answered 503');
		// The next run is not busy, and a run that finished is not touched by a late failure naming it.
		const [next] = await runStaged(deps, 'full', ['materials']);
		expect(next).toMatchObject({ status: 'succeeded' });
		expect(await failStagedRuns(deps, { failures: [{ ...failure, run: { runId: next.runId!, entityType: 'materials' } }] })).toEqual([]);
		expect(await h.t.db.one('SELECT status, error FROM sync_runs WHERE id = $1', [next.runId])).toEqual({ status: 'succeeded', error: null });
	});

	it("a failed step also closes the other runs its execution holds, and nothing of another execution's", async () => {
		const [services, equipment] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['services', 'equipment'], execution: 'exec-2' });
		const [materials] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'], execution: 'exec-3' });
		if (services.status !== 'started' || equipment.status !== 'started' || materials.status !== 'started') throw new Error('expected starts');
		// A failure with no run of its own (Start Sync Run failed on a later type) still closes what the execution started.
		const closed = await failStagedRuns(deps, {
			execution: 'exec-2',
			failures: [{ message: 'connection lost', failureKind: 'database', step: 'Start Sync Run (services, equipment)' }],
		});
		expect(closed.map((c) => [c.result.entityType, c.stopped, c.result.failureKind]).sort()).toEqual([
			['equipment', true, 'database'],
			['services', true, 'database'],
		]);
		expect(closed[0].result.message).toBe('stopped with its n8n execution: Start Sync Run (services, equipment) failed: connection lost');
		expect(await h.t.db.one('SELECT status FROM sync_runs WHERE id = $1', [materials.ref.runId])).toEqual({ status: 'running' });
		expect(await h.t.db.any('SELECT entity_type FROM sync_state WHERE lease_run_id IS NOT NULL')).toEqual([{ entity_type: 'materials' }]);
	});

	it('a late failure of a run another execution took over leaves both runs as they are', async () => {
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'], execution: 'exec-4' });
		if (start.status !== 'started') throw new Error('expected a start');
		const later: RunDeps = { ...deps, now: () => new Date(Date.now() + DEFAULT_SETTINGS.leaseTtlMs + 60_000) };
		const [taker] = await startStagedRuns(later, { kind: 'full', entityTypes: ['materials'], execution: 'exec-5' });
		if (taker.status !== 'started') throw new Error('expected the takeover');
		expect(
			await failStagedRuns(later, { execution: 'exec-4', failures: [{ run: start.ref, message: 'too late', failureKind: 'st_unavailable' }] }),
		).toEqual([]);
		const rows = await h.t.db.any('SELECT id, status, error FROM sync_runs WHERE id IN ($1:csv) ORDER BY id', [[start.ref.runId, taker.ref.runId]]);
		expect(rows).toEqual([
			{ id: start.ref.runId, status: 'failed', error: expect.stringMatching(/^abandoned/) },
			{ id: taker.ref.runId, status: 'running', error: null },
		]);
		expect(await h.t.db.one("SELECT lease_run_id FROM sync_state WHERE entity_type = 'materials'")).toEqual({ lease_run_id: taker.ref.runId });
	});

	it('a staged start while a library run of the same type is running reports busy', async () => {
		h.sim.control.setFaults({ latencyMs: 40 });
		const running = h.engine.run({ kind: 'full', entityType: 'materials' });
		for (let i = 0; i < 200; i++) {
			const { n } = await h.t.db.one("SELECT count(*)::int AS n FROM sync_runs WHERE status = 'running'");
			if (n > 0) break;
			await new Promise((r) => setTimeout(r, 10));
		}
		const [start] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		expect(start.status).toBe('busy');
		expect((await running).status).toBe('succeeded');
	});
});
