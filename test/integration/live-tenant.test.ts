import { DEFAULT_SETTINGS, type RunDeps } from '../../lib/sync/run-types';
import { runStaged } from '../support/staged';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(300_000);

/**
 * A tenant of Perfect Catch's size and shape, as captured from a live tenant (the simulator's `perfect-catch`
 * preset): 1,160 categories nested six levels deep and sent without timestamps, 2,161 services with category
 * objects, material and equipment links and warranties, equipment, materials whose cost is their primary vendor's,
 * literal "Null" strings, HTML descriptions, 3 to 7 fractional digits. It must sync with no error at all, and the
 * runs right after must find nothing to do, through the library and through the n8n steps.
 */
let h: SyncHarness;
afterEach(async () => h?.close());

const ALL = ['categories', 'services', 'materials', 'equipment'] as const;

async function errorRows(): Promise<number> {
	return (await h.t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM sync_error_log')).n;
}

it('syncs with zero error rows; a second full run and an incremental right after change nothing', async () => {
	h = await startHarness({ sim: { tenant: 'perfect-catch', counts: undefined } });
	const total = (type: (typeof ALL)[number]) => h.sim.control.listIds(type, { includeInactive: true }).length;
	expect(total('categories')).toBeGreaterThanOrEqual(1100);
	expect(total('services')).toBeGreaterThanOrEqual(2000);

	const first = await h.engine.runMany('full', ALL);
	for (const r of first) {
		expect({ type: r.entityType, success: r.success, errors: r.errors, conflicts: r.conflictsDetected }).toEqual({
			type: r.entityType,
			success: true,
			errors: 0,
			conflicts: 0,
		});
		expect(r.summary.newInST).toBe(total(r.entityType));
	}
	expect(await errorRows()).toBe(0);
	const linked = await h.t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM pricebook_services WHERE jsonb_array_length(materials_included) > 0');
	expect(linked.n).toBeGreaterThan(0);
	expect((await h.t.db.one<{ n: number }>("SELECT count(*)::int AS n FROM pricebook_materials WHERE unit_of_measure = 'Null'")).n).toBeGreaterThan(0);

	const again = await h.engine.runMany('full', ALL);
	for (const r of again) {
		expect({ type: r.entityType, success: r.success, synced: r.itemsSynced, pushed: r.itemsPushed, errors: r.errors }).toEqual({
			type: r.entityType,
			success: true,
			synced: 0,
			pushed: 0,
			errors: 0,
		});
		expect(r.summary.noChange).toBe(total(r.entityType));
	}
	const incremental = await h.engine.runMany('incremental', ALL);
	for (const r of incremental) {
		expect({ type: r.entityType, kind: r.kind, success: r.success, synced: r.itemsSynced, pushed: r.itemsPushed, errors: r.errors }).toEqual({
			type: r.entityType,
			kind: 'incremental',
			success: true,
			synced: 0,
			pushed: 0,
			errors: 0,
		});
	}
	// The n8n steps agree: an incremental through them changes nothing either.
	const deps: RunDeps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: { ...DEFAULT_SETTINGS } };
	for (const r of await runStaged(deps, 'incremental', [...ALL])) {
		expect({ type: r.entityType, kind: r.kind, success: r.success, synced: r.itemsSynced, errors: r.errors }).toEqual({
			type: r.entityType,
			kind: 'incremental',
			success: true,
			synced: 0,
			errors: 0,
		});
	}
	expect(await errorRows()).toBe(0);
	expect(await h.t.db.one("SELECT count(*)::int AS n FROM pricebook_categories WHERE sync_status <> 'synced'")).toEqual({ n: 0 });
});
