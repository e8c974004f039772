import { parse } from 'csv-parse/sync';
import { listConflicts } from '../../lib/reporting/conflicts';
import { listRuns, toCsv } from '../../lib/reporting/logs';
import { getSyncStatus, nextRuns } from '../../lib/reporting/status';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
let conflictId: number;
let conflictItem: number;
let deletedItem: number;
let pendingItem: number;

/**
 * A known state: everything synced once; then one material in conflict (price on both sides), one material
 * deleted in ServiceTitan, one material whose push ServiceTitan refused (pending with a reason).
 */
beforeAll(async () => {
	h = await startHarness();
	for (const r of await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment'])) expect(r.success).toBe(true);
	const ids = h.sim.control.listIds('materials');
	[conflictItem, deletedItem, pendingItem] = [ids[1], ids[2], ids[3]];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', conflictItem, { price: 11 });
	await retoolUpdate(h.t, 'pricebook_materials', conflictItem, { price: 12.5 });
	await retoolUpdate(h.t, 'pricebook_materials', pendingItem, { display_name: 'Refused by ST' });
	h.sim.control.deleteItem('materials', deletedItem);
	h.sim.control.failNext({ action: { kind: 'status', status: 400 }, match: { method: 'PATCH', path: '/materials' } });
	const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
	expect(r.success).toBe(true);
	conflictId = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE status = 'open'")).id;
});
afterAll(async () => h?.close());

describe('sync status', () => {
	it('counts per entity type match the known state', async () => {
		const status = await getSyncStatus(h.t.db);
		const materials = h.sim.control.listIds('materials', { includeInactive: true }).length;
		// The edit ServiceTitan refused (400) is held: pending, and counted as held.
		expect(status.materials).toMatchObject({ total: materials, synced: materials - 2, pending: 1, conflicts: 1, deleted: 1, pushErrors: 1, pushesHeld: 1 });
		// Every kind of change arrives with the next incremental run.
		expect(status.changesArriveBy).toEqual({
			serviceTitanEdits: status.nextIncrementalSync,
			serviceTitanDeletes: status.nextIncrementalSync,
			retoolEdits: status.nextIncrementalSync,
		});
		expect(status.services).toMatchObject({ total: h.sim.control.listIds('services', { includeInactive: true }).length, pending: 0, conflicts: 0 });
		expect(status.openConflicts).toBe(1);
		expect(status.lastFullSync).not.toBeNull();
		expect(status.recentErrors[0]).toMatchObject({ kind: 'push_rejected', entityId: pendingItem });
	});

	it('is yellow while a conflict waits, and says why', async () => {
		const status = await getSyncStatus(h.t.db);
		expect(status.health).toBe('yellow');
		expect(status.healthReasons.join(' ')).toMatch(/1 materials conflict/);
	});

	it('is red when the last run failed or nothing synced for an hour, green when all is clean', async () => {
		const later = await getSyncStatus(h.t.db, { now: new Date(Date.now() + 2 * 3600_000) });
		expect(later.health).toBe('red');
		expect(later.healthReasons.join(' ')).toMatch(/last synced more than 60 min ago/);

		const fresh = await startHarness();
		try {
			await fresh.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
			expect((await getSyncStatus(fresh.t.db)).health).toBe('green');
			fresh.sim.control.setFaults({ errorRate: 1, errorStatus: 500 });
			await fresh.engine.run({ kind: 'incremental', entityType: 'equipment' });
			const failed = await getSyncStatus(fresh.t.db);
			expect(failed.health).toBe('red');
			expect(failed.healthReasons.join(' ')).toMatch(/equipment last run failed/);
		} finally {
			await fresh.close();
		}
	});

	it('knows the next scheduled runs: every 15 minutes, and the full sync at 02:00', () => {
		const next = nextRuns(new Date('2024-12-10T10:07:00Z'), { zone: 'UTC' });
		expect(next.incremental.toISOString()).toBe('2024-12-10T10:15:00.000Z');
		expect(next.full.toISOString()).toBe('2024-12-11T02:00:00.000Z');
		expect(nextRuns(new Date('2024-12-10T01:59:00Z'), { zone: 'UTC' }).full.toISOString()).toBe('2024-12-10T02:00:00.000Z');
	});
});

describe('conflict list and views', () => {
	it('lists open conflicts with a side-by-side diff and a suggested merge, filterable', async () => {
		const [c] = await listConflicts(h.t.db, { entityType: 'materials' });
		expect(c).toMatchObject({ id: conflictId, entityType: 'materials', entityId: conflictItem, status: 'open' });
		expect(c.diff).toEqual([{ field: 'price', base: expect.any(String), st: '11', local: '12.5' }]);
		expect(c.suggestedMerge).toMatchObject({ suggestion: true, unresolvedFields: ['price'] });
		expect(await listConflicts(h.t.db, { entityType: 'services' })).toEqual([]);
	});

	it('the views return what the README documents', async () => {
		const status = await h.t.db.any('SELECT * FROM pricebook_sync_status_v ORDER BY entity_type');
		expect(status.map((r) => r.entity_type)).toEqual(['categories', 'equipment', 'materials', 'services']);
		const m = status.find((r) => r.entity_type === 'materials');
		expect(m).toMatchObject({ conflicts: 1, pending: 1, deleted: 1, last_run_status: 'succeeded', last_run_kind: 'full' });
		const [open] = await h.t.db.any('SELECT * FROM pricebook_open_conflicts_v');
		expect(open).toMatchObject({ conflict_id: conflictId, entity_type: 'materials', entity_id: conflictItem, deleted_in_st: false });
		expect(open.diff).toEqual([{ field: 'price', base: expect.any(String), st: '11', local: '12.5' }]);
		expect(open.item_label).toBe(h.sim.control.getItem('materials', conflictItem)!.code);
		const runs = await h.t.db.any('SELECT * FROM pricebook_recent_runs_v');
		expect(runs[0]).toMatchObject({ kind: 'full', entity_type: 'materials', status: 'succeeded' });
		expect(Number(runs[0].duration_s)).toBeGreaterThanOrEqual(0);
		// The columns, in order, as docs/database.md lists them (new columns only ever go last).
		const columns = async (view: string) =>
			(
				await h.t.db.any(
					'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
					[view],
				)
			).map((c) => c.column_name as string);
		expect(await columns('pricebook_sync_status_v')).toEqual(
			'entity_type, total, synced, pending, conflicts, deleted, push_errors, last_full_sync_at, last_incremental_sync_at, last_success_at, consecutive_failures, incremental_cursor, last_run_status, last_run_kind, last_run_finished_at, last_run_error, pushes_held'.split(
				', ',
			),
		);
		expect(await columns('pricebook_recent_runs_v')).toEqual(
			'run_id, kind, entity_type, trigger, dry_run, status, started_at, finished_at, duration_s, counts, items_synced, items_pushed, conflicts_detected, errors_count, error, window_from, window_to, pushes_verified, pushes_normalized, pushes_ignored'.split(
				', ',
			),
		);
		expect(await columns('pricebook_held_pushes_v')).toEqual(
			'entity_type, entity_id, item_label, fields, held_values, st_values, reason, held_since'.split(', '),
		);
	});
});

describe('logs', () => {
	it('runs are filterable by entity type and status, and the CSV export parses back to the same rows', async () => {
		const runs = await listRuns(h.t.db, { entityType: 'materials' });
		expect(runs.every((r) => r.entityType === 'materials')).toBe(true);
		expect(await listRuns(h.t.db, { status: 'failed' })).toEqual([]);
		const csv = toCsv(runs as unknown as Record<string, unknown>[]);
		const parsed = parse(csv, { columns: true }) as Record<string, string>[];
		expect(parsed).toHaveLength(runs.length);
		expect(parsed[0].runId).toBe(String(runs[0].runId));
		expect(parsed[0].kind).toBe(runs[0].kind);
		expect(toCsv([{ a: 'x,"y"\nz', b: null, c: { k: 1 } }])).toBe('a,b,c\r\n"x,""y""\nz",,"{""k"":1}"\r\n');
	});

	it('a CSV cell a spreadsheet would run as a formula stays text; numbers, negative ones too, stay numbers', () => {
		const hostile = {
			error: '=HYPERLINK("http://evil.example","click")',
			at: '@SUM(A1)',
			plus: '+1+2',
			tab: '\t=1',
			price: '-12.5',
			count: -3,
			note: 'a = b',
		};
		const [row] = parse(toCsv([hostile]), { columns: true }) as Record<string, string>[];
		expect(row).toEqual({
			error: `'${hostile.error}`,
			at: "'@SUM(A1)",
			plus: "'+1+2",
			tab: "'\t=1",
			price: '-12.5',
			count: '-3',
			note: 'a = b',
		});
	});

	it('the CLI prints runs as CSV and changes as JSON', async () => {
		const csv = await runCliCaptured(['logs', '--entity', 'materials', '--csv'], h.env);
		expect(csv.code).toBe(0);
		const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
		expect(rows.length).toBeGreaterThan(0);
		expect(rows.every((r) => r.entityType === 'materials')).toBe(true);
		const changes = await runCliCaptured(['logs', '--changes', '--json', '--entity', 'materials', '--limit', '5'], h.env);
		expect(JSON.parse(changes.stdout).changes).toHaveLength(5);
		expect((await runCliCaptured(['logs', '--since', 'soon'], h.env)).code).toBe(2);
	});
});

describe('CLI: conflicts, status and resolve', () => {
	it('conflicts --json lists id, entityType, entityId, detectedAt, diff, suggestedMerge', async () => {
		const run = await runCliCaptured(['conflicts', '--json'], h.env);
		expect(run.code).toBe(0);
		const { conflicts } = JSON.parse(run.stdout);
		expect(conflicts[0]).toMatchObject({
			id: conflictId,
			entityType: 'materials',
			entityId: conflictItem,
			detectedAt: expect.any(String),
			diff: expect.any(Array),
			suggestedMerge: expect.any(Object),
		});
		const text = await runCliCaptured(['conflicts'], h.env);
		expect(text.stdout).toMatch(new RegExp(`conflict ${conflictId}: materials ${conflictItem}`));
		expect(text.stdout).toMatch(/price: last synced .* \| ServiceTitan "11" \| local "12.5"/);
	});

	it('status --json is the SyncStatus object', async () => {
		const run = await runCliCaptured(['status', '--json'], h.env);
		expect(run.code).toBe(0);
		expect(JSON.parse(run.stdout)).toMatchObject({ health: 'yellow', materials: { conflicts: 1 }, nextScheduledSync: expect.any(String) });
	});

	it('resolve validates its input, then resolves once and reports the second call as already resolved', async () => {
		const usage = [
			['resolve', String(conflictId), '--by', 'ann'],
			['resolve', String(conflictId), '--resolution', 'both', '--by', 'ann'],
			['resolve', String(conflictId), '--resolution', 'use_st'],
			['resolve', 'x', '--resolution', 'use_st', '--by', 'ann'],
			['resolve', String(conflictId), '--resolution', 'merged', '--merged-data', '{price', '--by', 'ann'],
			['resolve', String(conflictId), '--resolution', 'merged', '--merged-data', '{"price": "cheap"}', '--by', 'ann'],
			['resolve', String(conflictId), '--resolution', 'merged', '--merged-data', '{"price": 12, "memberPrice": 9, "member_price": 9}', '--by', 'ann'],
		];
		for (const argv of usage) {
			const run = await runCliCaptured(argv, h.env);
			expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
		}
		expect((await runCliCaptured(['resolve', '99999', '--resolution', 'use_st', '--by', 'ann'], h.env)).stderr).toMatch(/does not exist/);
		const ok = await runCliCaptured(
			['resolve', String(conflictId), '--resolution', 'merged', '--merged-data', '{"price": 12}', '--by', 'ann', '--json'],
			h.env,
		);
		expect(ok.code).toBe(0);
		expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'resolved', resolution: 'merged', resolvedBy: 'ann' });
		expect(h.sim.control.getItem('materials', conflictItem)!.price).toBe(12);
		const again = await runCliCaptured(['resolve', String(conflictId), '--resolution', 'use_st', '--by', 'bob'], h.env);
		expect(again.code).toBe(0);
		expect(again.stdout).toMatch(/already resolved \(merged by ann\)/);
	});
});
