import { markEngineWrites } from '../../lib/db/engine-session';
import { SyncEngine } from '../../lib/sync/engine';
import { getSyncStatus } from '../../lib/reporting/status';
import { resolveConflict } from '../../lib/sync/resolve';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
afterEach(async () => {
	await h?.close();
});

const ALL = ['categories', 'services', 'materials', 'equipment'] as const;

async function fullSyncAll() {
	const results = await h.engine.runMany('full', ALL);
	for (const r of results) expect(r).toMatchObject({ success: true, status: 'succeeded' });
	return results;
}

async function material(id: number) {
	return h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
}

async function count(sql: string, values: unknown[] = []): Promise<number> {
	return (await h.t.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) s`, values)).n;
}

/** The harness's client, except that a PATCH reaches ServiceTitan and its answer never comes back (a timeout after ST applied it, or a crash). */
function losingPushAnswers(): typeof h.client {
	return Object.assign(Object.create(h.client), {
		patch: async (entity: 'materials', itemId: number, body: Record<string, unknown>) => {
			await h.client.patch(entity, itemId, body);
			throw new Error('socket hang up');
		},
	});
}

function anyMaterialId(): number {
	return h.sim.control.listIds('materials')[3];
}

describe('initial full sync', () => {
	it('brings all four entity types in, with the category tree and materials_included intact', async () => {
		h = await startHarness();
		const results = await fullSyncAll();
		expect(results.map((r) => r.entityType)).toEqual(['categories', 'services', 'materials', 'equipment']);
		for (const r of results) {
			const simCount = h.sim.control.listIds(r.entityType, { includeInactive: true }).length;
			expect(r.summary.newInST).toBe(simCount);
			expect(r.itemsSynced).toBe(simCount);
			expect(r.conflictsDetected).toBe(0);
			expect(await count(`SELECT 1 FROM pricebook_${r.entityType}`)).toBe(simCount);
		}
		// The tree: every category's parent as in ServiceTitan, and every parent present locally.
		const cats = await h.t.db.any('SELECT id, parent_id FROM pricebook_categories');
		const local = new Set(cats.map((c) => c.id));
		for (const c of cats) {
			expect(c.parent_id).toBe(h.sim.control.getItem('categories', c.id)!.parentId ?? null);
			if (c.parent_id !== null) expect(local.has(c.parent_id)).toBe(true);
		}
		expect(cats.some((c) => c.parent_id !== null)).toBe(true);
		// Services: materials_included mirrors serviceMaterials and points at real materials.
		const svc = await h.t.db.one('SELECT id, materials_included FROM pricebook_services WHERE jsonb_array_length(materials_included) > 0 LIMIT 1');
		const simLines = (h.sim.control.getItem('services', svc.id)!.serviceMaterials as { skuId: number; quantity: number }[])
			.map((l) => ({ materialId: l.skuId, quantity: l.quantity }))
			.sort((a, b) => a.materialId - b.materialId);
		expect(svc.materials_included).toEqual(simLines);
		for (const line of svc.materials_included) expect(await count('SELECT 1 FROM pricebook_materials WHERE id = $1', [line.materialId])).toBe(1);
		// Every row is synced and has a base.
		expect(await count("SELECT 1 FROM pricebook_materials WHERE sync_status <> 'synced' OR sync_base IS NULL OR last_synced_at IS NULL")).toBe(0);
		const run = await h.t.db.one("SELECT * FROM sync_runs WHERE entity_type = 'materials' AND kind = 'full'");
		expect(run).toMatchObject({ status: 'succeeded', items_synced: results[2].itemsSynced });
	});

	it("the spec's own case: 1,000 services → itemsSynced 1000, 0 conflicts", async () => {
		h = await startHarness({ sim: { seed: 3, counts: { categories: 10, services: 1000, materials: 50, equipment: 5 } } });
		const [result] = await h.engine.runMany('full', ['services']);
		expect(result.itemsSynced).toBe(1000);
		expect(result.conflictsDetected).toBe(0);
		expect(result.summary.conflicts).toBe(0);
	});

	it('a second run changes nothing', async () => {
		h = await startHarness();
		await fullSyncAll();
		const versions = await h.t.db.any('SELECT id, row_version FROM pricebook_materials ORDER BY id');
		const logRows = await count('SELECT 1 FROM sync_change_log');
		const again = await h.engine.runMany('full', ALL);
		for (const r of again) {
			expect(r.summary).toMatchObject({ newInST: 0, deletedInST: 0, modifiedInSTOnly: 0, modifiedLocalOnly: 0, conflicts: 0 });
			expect(r.summary.noChange).toBe(h.sim.control.listIds(r.entityType, { includeInactive: true }).length);
		}
		expect(await h.t.db.any('SELECT id, row_version FROM pricebook_materials ORDER BY id')).toEqual(versions);
		expect(await count('SELECT 1 FROM sync_change_log')).toBe(logRows);
		const incremental = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(incremental.kind).toBe('incremental');
		expect(incremental.summary.modifiedInSTOnly + incremental.summary.newInST + incremental.summary.conflicts).toBe(0);
	});
});

describe('categories as a live tenant sends them (no createdOn, no modifiedOn)', () => {
	/** The harness's client, with every category (nested children too) stripped of its timestamps. */
	function unstampedCategories(): typeof h.client {
		const strip = (record: Record<string, unknown>): Record<string, unknown> => {
			const { createdOn: _c, modifiedOn: _m, subcategories, ...rest } = record;
			return { ...rest, ...(Array.isArray(subcategories) ? { subcategories: subcategories.map((c) => strip(c as Record<string, unknown>)) } : {}) };
		};
		const strips = <T extends Record<string, unknown>>(entity: string, record: T): T => (entity === 'categories' ? (strip(record) as T) : record);
		return Object.assign(Object.create(h.client), {
			listPage: async (entity: 'categories', params: object) => {
				const page = await h.client.listPage(entity, params as never);
				return { ...page, data: page.data.map((r) => strips(entity, r)) };
			},
			iteratePages: async function* (entity: 'categories', params: object) {
				for await (const page of h.client.iteratePages(entity, params as never)) yield { ...page, data: page.data.map((r) => strips(entity, r)) };
			},
			getByIds: async (entity: 'categories', ids: readonly number[]) => (await h.client.getByIds(entity, ids)).map((r) => strips(entity, r)),
			get: async (entity: 'categories', id: number) => {
				const r = await h.client.get(entity, id);
				return r && strips(entity, r);
			},
		});
	}

	it('sync fully with no error logged; a second full run and an incremental right after change nothing, and incrementals stay incremental', async () => {
		h = await startHarness();
		const engine = new SyncEngine({ db: h.t.db, st: unstampedCategories() });
		const first = await engine.run({ kind: 'full', entityType: 'categories' });
		const total = h.sim.control.listIds('categories', { includeInactive: true }).length;
		expect(first).toMatchObject({ success: true, errors: 0 });
		expect(first.summary.newInST).toBe(total);
		expect(await count('SELECT 1 FROM sync_error_log')).toBe(0);
		expect(await count("SELECT 1 FROM pricebook_categories WHERE sync_status = 'synced' AND st_modified_on IS NULL")).toBe(total);

		const again = await engine.run({ kind: 'full', entityType: 'categories' });
		expect(again).toMatchObject({ success: true, errors: 0, itemsSynced: 0 });
		expect(again.summary.noChange).toBe(total);
		const incremental = await engine.run({ kind: 'incremental', entityType: 'categories' });
		expect(incremental).toMatchObject({ success: true, kind: 'incremental', errors: 0, itemsSynced: 0 });
		expect(incremental.ranAsFullBecause).toBeUndefined();
		expect(incremental.summary.noChange).toBe(total);
		// No cursor is taken from a type without stamps.
		expect(await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'categories'")).toEqual({ cursor_raw: null });

		// A change is found by content, by an incremental run (which reads the whole tree).
		const id = h.sim.control.listIds('categories')[1];
		h.sim.control.updateItem('categories', id, { name: 'Renamed in ServiceTitan' });
		const found = await engine.run({ kind: 'incremental', entityType: 'categories' });
		expect(found).toMatchObject({ success: true, kind: 'incremental', itemsSynced: 1 });
		expect(found.summary.modifiedInSTOnly).toBe(1);
		expect(await h.t.db.one('SELECT name FROM pricebook_categories WHERE id = $1', [id])).toEqual({ name: 'Renamed in ServiceTitan' });
		expect(await count('SELECT 1 FROM sync_error_log')).toBe(0);
	});
});

describe('changes flowing both ways', () => {
	beforeEach(async () => {
		h = await startHarness();
		await fullSyncAll();
	});

	it('an ST edit reaches the local row on the next incremental run', async () => {
		const id = anyMaterialId();
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 321.45, displayName: 'Changed in ST' });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.summary.modifiedInSTOnly).toBe(1);
		const row = await material(id);
		expect(row).toMatchObject({ price: '321.45', display_name: 'Changed in ST', sync_status: 'synced' });
		expect(row.sync_base).toMatchObject({ price: '321.45' });
		const log = await h.t.db.one("SELECT * FROM sync_change_log WHERE entity_id = $1 AND action = 'updated_from_st'", [id]);
		expect(log.after).toMatchObject({ price: '321.45' });
	});

	it('a Retool edit is pushed to ST and rebased, and the next incremental does not see it as an ST change', async () => {
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
		expect((await material(id)).sync_status).toBe('pending_push');
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.itemsPushed).toBe(1);
		expect(r.summary.modifiedLocalOnly).toBe(1);
		expect(h.sim.control.getItem('materials', id)!.price).toBe(12.5);
		const row = await material(id);
		expect(row).toMatchObject({ sync_status: 'synced', price: '12.5', push_error: null });
		expect(row.st_modified_on_raw).toBe(h.sim.control.getItem('materials', id)!.modifiedOn);
		expect(row.st_modified_on).toBeInstanceOf(Date);
		// Only the differing field went to ST.
		const patch = h.sim.control.requests.filter((q) => q.method === 'PATCH');
		expect(patch).toHaveLength(1);
		expect(patch[0].body).toEqual({ price: 12.5 });

		const next = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(next.summary.modifiedInSTOnly).toBe(0);
		expect(next.summary.conflicts).toBe(0);
		expect(next.itemsPushed).toBe(0);
		expect((await material(id)).sync_status).toBe('synced');
	});

	it('a push ServiceTitan applied but whose answer was lost does not undo a newer Retool edit (found by the model-based suite)', async () => {
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { active: false });
		const lostAnswer = losingPushAnswers();
		const lost = await new SyncEngine({ db: h.t.db, st: lostAnswer }).run({ kind: 'incremental', entityType: 'materials' });
		expect(lost.status).toBe('failed');
		expect(h.sim.control.getItem('materials', id)!.active).toBe(false);
		expect((await material(id)).sync_status).toBe('pending_push');

		// Meanwhile the person changes their mind in Retool.
		await retoolUpdate(h.t, 'pricebook_materials', id, { active: true });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r).toMatchObject({ status: 'succeeded', itemsPushed: 1, conflictsDetected: 0 });
		expect(h.sim.control.getItem('materials', id)!.active).toBe(true);
		expect(await material(id)).toMatchObject({ active: true, sync_status: 'synced', push_in_flight: null });
	});

	it('after a lost push answer, a conflict on other fields suggests and accepts the merge the sync base implies', async () => {
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 10 });
		const lostAnswer = losingPushAnswers();
		expect((await new SyncEngine({ db: h.t.db, st: lostAnswer }).run({ kind: 'incremental', entityType: 'materials' })).status).toBe('failed');
		// A newer Retool price and a ServiceTitan description edit: both sides changed, different fields.
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { description: 'Changed in ST' });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.conflictsDetected).toBe(1);
		const conflict = await h.t.db.one("SELECT id, suggested_merge FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id]);
		expect(conflict.suggested_merge.unresolvedFields).toEqual([]);
		const resolved = await resolveConflict(
			{ db: h.t.db, st: h.client },
			{ conflictId: conflict.id, resolution: 'merged', mergedData: {}, resolvedBy: 'ann' },
		);
		expect(resolved.status).toBe('resolved');
		expect(h.sim.control.getItem('materials', id)).toMatchObject({ price: 12.5, description: 'Changed in ST' });
	});

	it('an item edited on both sides becomes one conflict with full ConflictData, and neither side changes', async () => {
		const id = anyMaterialId();
		const stBefore = h.sim.control.getItem('materials', id)!;
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 11 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
		for (let i = 0; i < 2; i++) {
			const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
			expect(r.summary.conflicts).toBe(1);
		}
		expect(h.sim.control.getItem('materials', id)!.price).toBe(11);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH')).toHaveLength(0);
		const row = await material(id);
		expect(row).toMatchObject({ price: '12.5', sync_status: 'conflict', has_conflict: true });
		const conflicts = await h.t.db.any("SELECT * FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id]);
		expect(conflicts).toHaveLength(1);
		const data = conflicts[0].conflict_data;
		expect(data).toMatchObject({
			entityType: 'material',
			entityId: id,
			kind: 'modified',
			stVersion: { modifiedOn: h.sim.control.getItem('materials', id)!.modifiedOn, data: { id, price: 11 } },
			localVersion: { data: { price: '12.5' } },
			diff: { fields: ['price'], stValues: { price: '11' }, localValues: { price: '12.5' } },
		});
		expect(data.baseVersion.data.price).toBe(String(stBefore.price).replace(/\.0+$/, ''));
		expect(typeof data.detectedAt).toBe('string');
		expect(row.conflict_data.conflictId).toBe(conflicts[0].id);
		expect(conflicts[0].suggested_merge).toMatchObject({ suggestion: true, unresolvedFields: ['price'] });
	});

	it('a newer ST change refreshes the open conflict instead of overwriting anything', async () => {
		const id = anyMaterialId();
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 11 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 13 });
		const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(r.conflictsDetected).toBe(1);
		const conflicts = await h.t.db.any('SELECT * FROM sync_conflicts WHERE entity_id = $1', [id]);
		expect(conflicts).toHaveLength(1);
		expect(conflicts[0].conflict_data.diff.stValues.price).toBe('13');
		expect((await material(id)).price).toBe('12.5');
	});

	it('the same change on both sides is not a conflict', async () => {
		const id = anyMaterialId();
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 77 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 77 });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.summary.conflicts).toBe(0);
		expect((await material(id)).sync_status).toBe('synced');
	});
});

describe('a refused push', () => {
	it('leaves no push in flight: a ServiceTitan user later setting the refused value is an edit there, so a newer Retool edit meets it as a conflict', async () => {
		h = await startHarness();
		await fullSyncAll();
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 50 });
		h.sim.control.failNext({ action: { kind: 'status', status: 400 }, match: { method: 'PATCH', path: `/materials/${id}` } });
		const refused = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(refused.itemsPushed).toBe(0);
		expect(await material(id)).toMatchObject({ sync_status: 'pending_push', push_in_flight: null, push_error: expect.stringMatching(/rejected/) });
		// Then both sides move: a Retool user to 60, a ServiceTitan user to the 50 that was refused.
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 60 });
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 50 });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.summary.conflicts).toBe(1);
		expect(h.sim.control.getItem('materials', id)!.price).toBe(50);
		expect(Number((await material(id)).price)).toBe(60);
	});
});

describe('a refused push after one whose answer was lost', () => {
	it('still takes ServiceTitan holding the lost push as our own echo: the newer Retool edit stays held, no conflict (found by the model-based suite)', async () => {
		h = await startHarness();
		await fullSyncAll();
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { description: 'First wording' });
		const lost = await new SyncEngine({ db: h.t.db, st: losingPushAnswers() }).run({ kind: 'incremental', entityType: 'materials' });
		expect(lost.status).toBe('failed');
		expect(h.sim.control.getItem('materials', id)!.description).toBe('First wording');
		// The person rewords it; ServiceTitan refuses the new wording (400).
		await retoolUpdate(h.t, 'pricebook_materials', id, { description: 'Second wording' });
		h.sim.control.failNext({ action: { kind: 'status', status: 400 }, match: { method: 'PATCH', path: `/materials/${id}` } });
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);
		expect(await material(id)).toMatchObject({
			description: 'Second wording',
			sync_status: 'pending_push',
			push_refused: { description: 'Second wording' },
		});
		// ServiceTitan's "First wording" is our own earlier push, not an edit there: nothing to decide between.
		const next = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(next.conflictsDetected).toBe(0);
		expect(await material(id)).toMatchObject({ description: 'Second wording', sync_status: 'pending_push', has_conflict: false });
	});
});

describe('a held edit whose later push landed but whose answer was lost', () => {
	it('takes what ServiceTitan stored as the base, so a ServiceTitan edit after it is never pushed over (found by the model-based suite, seed 20261125 path 114)', async () => {
		h = await startHarness();
		await fullSyncAll();
		const id = anyMaterialId();
		const original = h.sim.control.getItem('materials', id)!.price;
		// ServiceTitan keeps its own description: the reworded one is held.
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['description'], entities: ['materials'] } } });
		await retoolUpdate(h.t, 'pricebook_materials', id, { description: 'Held wording' });
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);
		expect(await material(id)).toMatchObject({ sync_status: 'pending_push', push_refused: { description: 'Held wording' } });
		// A new price is pushed with the held description; ServiceTitan takes the price, and the answer is lost.
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 100 });
		const lost = await new SyncEngine({ db: h.t.db, st: losingPushAnswers() }).run({ kind: 'incremental', entityType: 'materials' });
		expect(lost.status).toBe('failed');
		expect(h.sim.control.getItem('materials', id)!.price).toBe(100);
		// The next run meets ServiceTitan holding our price: its version becomes the row's base, the description stays held.
		expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
		const stored = h.sim.control.getItem('materials', id)!;
		expect(await material(id)).toMatchObject({
			price: '100',
			description: 'Held wording',
			sync_status: 'pending_push',
			push_in_flight: null,
			push_refused: { description: 'Held wording' },
			st_modified_on_raw: stored.modifiedOn,
			sync_base: expect.objectContaining({ price: '100' }),
		});
		// A ServiceTitan user then puts the old price back: that is their edit, never overwritten by our 100.
		const patchesBefore = h.sim.control.requests.filter((q) => q.method === 'PATCH').length;
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: original });
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
		expect(h.sim.control.getItem('materials', id)!.price).toBe(original);
		expect(await material(id)).toMatchObject({ has_conflict: true });
	});
});

describe('values ServiceTitan cannot take', () => {
	it('an emptied price or description is refused before any push, logged once naming the item and field, and pushed once filled in', async () => {
		h = await startHarness();
		await fullSyncAll();
		const id = anyMaterialId();
		const other = h.sim.control.listIds('materials')[5];
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: null, description: null });
		await retoolUpdate(h.t, 'pricebook_materials', other, { display_name: 'Still pushed' });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.success).toBe(true);
		expect(r.itemsPushed).toBe(1);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH').map((q) => q.path)).toEqual([expect.stringContaining(`/materials/${other}`)]);
		const logged = await h.t.db.any('SELECT entity_id, kind, message FROM sync_error_log WHERE entity_id = $1', [id]);
		expect(logged).toHaveLength(1);
		expect(logged[0].message).toMatch(new RegExp(`material ${id}: ServiceTitan cannot take an empty description, price`));
		expect(await material(id)).toMatchObject({ sync_status: 'pending_push', push_error: logged[0].message });
		// The next run refuses it again without logging it again; ServiceTitan still has its values.
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(await count('SELECT 1 FROM sync_error_log WHERE entity_id = $1', [id])).toBe(1);
		expect(h.sim.control.getItem('materials', id)!.price).not.toBeNull();
		// Filled in: pushed.
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 42.5, description: 'Filled in' });
		const fixed = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(fixed.itemsPushed).toBe(1);
		expect(h.sim.control.getItem('materials', id)).toMatchObject({ price: 42.5, description: 'Filled in' });
		expect(await material(id)).toMatchObject({ sync_status: 'synced', push_error: null });
	});

	it('a refused emptied value leaves its row as it is on every later run (found by the model-based suite, after an undo restored an empty value)', async () => {
		h = await startHarness();
		await fullSyncAll();
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { description: null });
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		const refused = await material(id);
		expect(refused).toMatchObject({ sync_status: 'pending_push', push_error: expect.stringContaining('cannot take an empty description') });
		// Nothing changed since: a re-run, incremental or full, rewrites nothing (a row version that moves would make a
		// Retool save or a push of the row under way start over for no reason).
		for (const kind of ['incremental', 'full'] as const) {
			expect((await h.engine.run({ kind, entityType: 'materials' })).success).toBe(true);
			expect(await material(id)).toEqual(refused);
		}
	});

	it('a category may be moved to the root (parentId null is the one empty value ServiceTitan takes)', async () => {
		h = await startHarness();
		await fullSyncAll();
		const child = (await h.t.db.one('SELECT id FROM pricebook_categories WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1')).id;
		await retoolUpdate(h.t, 'pricebook_categories', child, { parent_id: null });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'categories' });
		expect(r).toMatchObject({ success: true, itemsPushed: 1, errors: 0 });
		expect(h.sim.control.getItem('categories', child)!.parentId ?? null).toBeNull();
	});
});

describe('an app without write permission', () => {
	it('a 403 on a push holds the edits with the reason; reads and the rest of the run go on; status says what to do; granting it pushes them', async () => {
		h = await startHarness();
		await fullSyncAll();
		const [a, b, c] = h.sim.control.listIds('materials').slice(2, 5);
		await retoolUpdate(h.t, 'pricebook_materials', a, { price: 71.5 });
		await retoolUpdate(h.t, 'pricebook_materials', b, { price: 72.5 });
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', c, { displayName: 'Changed in ServiceTitan' });
		h.sim.control.setFaults({ writeScope: false });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r).toMatchObject({ success: true, itemsPushed: 0 });
		// The read side went on: ServiceTitan's change arrived.
		expect((await material(c)).display_name).toBe('Changed in ServiceTitan');
		// Only the pushes already under way when the first 403 came were sent (at most the push concurrency), none applied.
		const patches = h.sim.control.requests.filter((q) => q.method === 'PATCH');
		expect(patches.length).toBeLessThanOrEqual(4);
		expect(patches.every((q) => q.status === 403)).toBe(true);
		for (const id of [a, b])
			expect(await material(id)).toMatchObject({ sync_status: 'pending_push', push_error: expect.stringMatching(/^push forbidden: .*write/) });
		expect(await count("SELECT 1 FROM sync_error_log WHERE kind = 'push_forbidden'")).toBe(2);
		const status = await getSyncStatus(h.t.db);
		expect(status.pushForbidden).toBe(2);
		expect(status.health).toBe('red');
		expect(status.healthReasons.join(' ')).toMatch(/lacks write permission: 2 local edit\(s\) wait/);
		// Again without the scope: held again, not logged again.
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(await count("SELECT 1 FROM sync_error_log WHERE kind = 'push_forbidden'")).toBe(2);
		// Granted: the next run pushes both.
		h.sim.control.setFaults({});
		const granted = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(granted).toMatchObject({ success: true, itemsPushed: 2 });
		expect(h.sim.control.getItem('materials', a)!.price).toBe(71.5);
		expect((await getSyncStatus(h.t.db)).pushForbidden).toBe(0);
	});
});

describe('deletes', () => {
	beforeEach(async () => {
		h = await startHarness();
		await fullSyncAll();
	});

	it('an item deleted in ST is soft-deleted, its vendor prices intact', async () => {
		const id = anyMaterialId();
		await h.t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'ced', 'CED-1', 3.5)`, [id]);
		h.sim.control.deleteItem('materials', id);
		const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(r.summary.deletedInST).toBe(1);
		expect(await material(id)).toMatchObject({ deleted_in_st: true, sync_status: 'synced' });
		expect((await material(id)).deleted_at).toBeInstanceOf(Date);
		expect(await h.t.db.any('SELECT vendor, vendor_sku, price FROM vendor_prices WHERE material_id = $1', [id])).toEqual([
			{ vendor: 'ced', vendor_sku: 'CED-1', price: '3.5000' },
		]);
	});

	it('an item deleted in ST but edited locally becomes a conflict, not a delete', async () => {
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { description: 'keep me' });
		h.sim.control.deleteItem('materials', id);
		const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(r.summary.deletedInST).toBe(0);
		expect(r.summary.conflicts).toBe(1);
		const row = await material(id);
		expect(row).toMatchObject({ deleted_at: null, sync_status: 'conflict', description: 'keep me' });
		const c = await h.t.db.one('SELECT kind, conflict_data FROM sync_conflicts WHERE entity_id = $1', [id]);
		expect(c.kind).toBe('deleted_in_st');
		expect(c.conflict_data.stVersion).toMatchObject({ deleted: true, data: null });
	});

	it('an item that reappears in ST is undeleted', async () => {
		const id = anyMaterialId();
		// As an earlier run would have left it after ServiceTitan stopped listing the item.
		await h.t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET deleted_at = now(), deleted_in_st = TRUE WHERE id = $1', [id]);
		});
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { displayName: 'Back again' });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.summary.newInST).toBe(1);
		expect(await material(id)).toMatchObject({ deleted_at: null, deleted_in_st: false, display_name: 'Back again', sync_status: 'synced' });
		expect(await count("SELECT 1 FROM sync_change_log WHERE entity_id = $1 AND action = 'undeleted'", [id])).toBe(1);
	});

	it("a 404 that is not ServiceTitan's own answer (a gateway, a wrong base URL) fails the run as a configuration error and deletes nothing", async () => {
		const id = anyMaterialId();
		h.sim.control.setFaults({ gateway404: { path: `/materials/${id}` } });
		const single = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: id });
		expect(single).toMatchObject({ success: false, failureKind: 'configuration' });
		expect(single.message).toMatch(/base URL/);
		expect((await material(id)).deleted_at).toBeNull();
		h.sim.control.setFaults({ gateway404: true });
		const full = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(full).toMatchObject({ success: false, failureKind: 'configuration' });
		expect(await count('SELECT 1 FROM pricebook_materials WHERE deleted_at IS NOT NULL')).toBe(0);
		// ServiceTitan's own not-found answer still means deleted there.
		h.sim.control.setFaults({});
		h.sim.control.deleteItem('materials', id);
		const gone = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: id });
		expect(gone).toMatchObject({ success: true });
		expect(gone.summary.deletedInST).toBe(1);
	});

	it('an item a drifting listing skipped is checked by id before any delete', async () => {
		const id = anyMaterialId();
		// A listing that silently leaves one live item out, as page drift can.
		const drifting = {
			...h.client,
			iteratePages: async function* (entity: 'materials', params: object) {
				for await (const page of h.client.iteratePages(entity, params as never)) yield { ...page, data: page.data.filter((r) => r.id !== id) };
			},
			getByIds: (entity: 'materials', ids: readonly number[]) => h.client.getByIds(entity, ids),
			serverNow: (entity: 'materials') => h.client.serverNow(entity),
			get: (entity: 'materials', i: number) => h.client.get(entity, i),
			patch: (entity: 'materials', i: number, body: Record<string, unknown>) => h.client.patch(entity, i, body),
		};
		const engine = new SyncEngine({ db: h.t.db, st: drifting as never });
		const r = await engine.run({ kind: 'full', entityType: 'materials' });
		expect(r.success).toBe(true);
		expect(r.summary.deletedInST).toBe(0);
		expect((await material(id)).deleted_at).toBeNull();
	});

	it('a listing that fails part-way deletes nothing and leaves the cursor where it was', async () => {
		const state = await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'");
		for (const id of h.sim.control.listIds('materials').slice(0, 3)) h.sim.control.deleteItem('materials', id);
		h.sim.control.setFaults({ failListingPage: { entity: 'materials', page: 2 } });
		const small = await startHarnessEngine({ pageSize: 20 });
		const r = await small.run({ kind: 'full', entityType: 'materials' });
		expect(r.success).toBe(false);
		expect(r.status).toBe('failed');
		expect(await count('SELECT 1 FROM pricebook_materials WHERE deleted_at IS NOT NULL')).toBe(0);
		expect(await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'")).toEqual(state);
		const run = await h.t.db.one('SELECT status, error FROM sync_runs WHERE id = $1', [r.runId]);
		expect(run.status).toBe('failed');
		expect(await count('SELECT 1 FROM sync_run_seen')).toBe(0);
	});

	it('the mass-delete guard counts only items a look-up by id confirmed missing, not what a listing left out', async () => {
		const ids = h.sim.control.listIds('materials', { includeInactive: true });
		const leftOut = new Set(ids.slice(0, Math.ceil(ids.length * 0.6)));
		// A listing that leaves most live items out (a truncated or drifting listing); ServiceTitan still has them.
		const truncating = Object.assign(Object.create(h.client), {
			iteratePages: async function* (entity: 'materials', params: object) {
				for await (const page of h.client.iteratePages(entity, params as never)) yield { ...page, data: page.data.filter((r) => !leftOut.has(r.id)) };
			},
		});
		const gone = ids[ids.length - 1];
		h.sim.control.deleteItem('materials', gone);
		const r = await new SyncEngine({ db: h.t.db, st: truncating }).run({ kind: 'full', entityType: 'materials' });
		expect(r).toMatchObject({ success: true });
		expect(r.massDeleteBlocked).toBeUndefined();
		expect(r.summary.deletedInST).toBe(1);
		expect(await count('SELECT 1 FROM pricebook_materials WHERE deleted_at IS NOT NULL')).toBe(1);
		expect((await material(gone)).deleted_in_st).toBe(true);
	});

	it('the mass-delete guard stops a sweep that would delete too much, unless confirmed', async () => {
		const ids = h.sim.control.listIds('materials', { includeInactive: true });
		for (const id of ids.slice(0, Math.ceil(ids.length / 2))) h.sim.control.deleteItem('materials', id);
		const blocked = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(blocked.success).toBe(false);
		expect(blocked.massDeleteBlocked).toEqual({ wouldDelete: Math.ceil(ids.length / 2), live: ids.length });
		expect(blocked.message).toMatch(/--confirm-mass-delete/);
		expect(await count('SELECT 1 FROM pricebook_materials WHERE deleted_at IS NOT NULL')).toBe(0);
		const confirmed = await h.engine.run({ kind: 'full', entityType: 'materials', confirmMassDelete: true });
		expect(confirmed.success).toBe(true);
		expect(confirmed.summary.deletedInST).toBe(Math.ceil(ids.length / 2));
	});
});

async function startHarnessEngine(settings: { pageSize: number }) {
	return new SyncEngine({ db: h.t.db, st: h.client, settings });
}

describe('runs', () => {
	beforeEach(async () => {
		h = await startHarness();
	});

	it('a dry run returns the plan and writes nothing, not even the cursor or a ledger row', async () => {
		const [r] = await h.engine.runMany('full', ['materials'], { dryRun: true });
		expect(r.dryRun).toBe(true);
		expect(r.runId).toBeNull();
		expect(r.summary.newInST).toBe(h.sim.control.listIds('materials', { includeInactive: true }).length);
		expect(r.plan!.newInST.length).toBe(r.summary.newInST);
		expect(await count('SELECT 1 FROM pricebook_materials')).toBe(0);
		expect(await count('SELECT 1 FROM sync_runs')).toBe(0);
		expect(await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'")).toEqual({ cursor_raw: null });
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const id = anyMaterialId();
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 1.25 });
		const snapshot = await h.t.db.any('SELECT * FROM pricebook_materials ORDER BY id');
		const dry = await h.engine.run({ kind: 'incremental', entityType: 'materials', dryRun: true });
		expect(dry.summary.modifiedLocalOnly).toBe(1);
		expect(h.sim.control.requests.filter((q) => q.method === 'PATCH')).toHaveLength(0);
		expect(await h.t.db.any('SELECT * FROM pricebook_materials ORDER BY id')).toEqual(snapshot);
	});

	it('an incremental run without a cursor runs as a full sync and says so', async () => {
		const r = await h.engine.run({ kind: 'incremental', entityType: 'equipment' });
		expect(r.kind).toBe('full');
		expect(r.ranAsFullBecause).toMatch(/no incremental cursor/);
		const state = await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'equipment'");
		const newest = h.sim.control.listIds('equipment', { includeInactive: true }).map((id) => h.sim.control.getItem('equipment', id)!.modifiedOn as string);
		expect(state.cursor_raw).not.toBeNull();
		expect(newest.some((m) => state.cursor_raw.startsWith(m.slice(0, 19)))).toBe(true);
	});

	it('an incremental run after repeated failures, or long after the last success, runs as a full sync', async () => {
		await h.engine.run({ kind: 'full', entityType: 'equipment' });
		await h.t.db.none("UPDATE sync_state SET consecutive_failures = 3 WHERE entity_type = 'equipment'");
		const afterFailures = await h.engine.run({ kind: 'incremental', entityType: 'equipment' });
		expect(afterFailures).toMatchObject({ kind: 'full', success: true });
		expect(afterFailures.ranAsFullBecause).toMatch(/last 3 runs failed/);
		const normal = await h.engine.run({ kind: 'incremental', entityType: 'equipment' });
		expect(normal.kind).toBe('incremental');
		const later = new SyncEngine({ db: h.t.db, st: h.client, now: () => new Date(Date.now() + 25 * 3600_000) });
		const stale = await later.run({ kind: 'incremental', entityType: 'equipment' });
		expect(stale.kind).toBe('full');
		expect(stale.ranAsFullBecause).toMatch(/older than 24 h/);
		const ledger = await h.t.db.one('SELECT kind, details FROM sync_runs WHERE id = $1', [stale.runId]);
		expect(ledger).toMatchObject({ kind: 'full', details: { ranAsFullBecause: stale.ranAsFullBecause } });
	});

	it('a failed run counts towards the failure streak and keeps the cursor; a success resets both', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const before = await h.t.db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'");
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', anyMaterialId(), { price: 1 });
		h.sim.control.setFaults({ errorRate: 1, errorStatus: 503 });
		const failed = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(failed.status).toBe('failed');
		expect(failed.message).toMatch(/503|server/i);
		expect(await h.t.db.one("SELECT cursor_raw, consecutive_failures FROM sync_state WHERE entity_type = 'materials'")).toEqual({
			...before,
			consecutive_failures: 1,
		});
		h.sim.control.clearFaults();
		const ok = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(ok.summary.modifiedInSTOnly).toBe(1);
		const after = await h.t.db.one("SELECT cursor_raw, consecutive_failures FROM sync_state WHERE entity_type = 'materials'");
		expect(after.consecutive_failures).toBe(0);
		expect(after.cursor_raw > before.cursor_raw).toBe(true);
	});

	it('two concurrent runs of one entity type: one runs, the other reports busy', async () => {
		const [a, b] = await Promise.all([h.engine.run({ kind: 'full', entityType: 'materials' }), h.engine.run({ kind: 'full', entityType: 'materials' })]);
		const statuses = [a.status, b.status].sort();
		expect(statuses).toEqual(['busy', 'succeeded']);
		expect(await count("SELECT 1 FROM sync_runs WHERE status = 'busy'")).toBe(1);
		expect(await count('SELECT 1 FROM pricebook_materials')).toBe(h.sim.control.listIds('materials', { includeInactive: true }).length);
	});

	it('a Retool UPDATE issued while a full sync is applying is not lost', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const ids = h.sim.control.listIds('materials').slice(0, 10);
		h.sim.control.advanceClock(60_000);
		for (const id of ids) h.sim.control.updateItem('materials', id, { description: `ST ${id}` });
		// Slow ST answers give the edits time to land between the engine's read and its write.
		h.sim.control.setFaults({ latencyMs: 30 });
		const run = h.engine.run({ kind: 'full', entityType: 'materials' });
		const edits = (async () => {
			for (const id of ids) {
				await retoolUpdate(h.t, 'pricebook_materials', id, { price: 999.99 });
				await new Promise((r) => setTimeout(r, 3));
			}
		})();
		await Promise.all([run, edits]);
		h.sim.control.clearFaults();
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		for (const id of ids) {
			const row = await material(id);
			const inSt = h.sim.control.getItem('materials', id)!.price;
			// The edit is either pushed to ST, or kept locally inside an open conflict: never silently dropped.
			const kept = row.price === '999.99' && (inSt === 999.99 || row.sync_status === 'conflict' || row.sync_status === 'pending_push');
			expect({ id, kept }).toEqual({ id, kept: true });
		}
	});

	it('an invalid ST record is skipped and logged; the run goes on', async () => {
		const id = h.sim.control.listIds('materials')[0];
		h.sim.control.updateItem('materials', id, { code: '' });
		const r = await h.engine.run({ kind: 'full', entityType: 'materials' });
		expect(r.success).toBe(true);
		expect(r.errors).toBe(1);
		expect(await count('SELECT 1 FROM pricebook_materials WHERE id = $1', [id])).toBe(0);
		expect(await count('SELECT 1 FROM pricebook_materials')).toBe(h.sim.control.listIds('materials', { includeInactive: true }).length - 1);
		const err = await h.t.db.one('SELECT kind, message FROM sync_error_log WHERE entity_id = $1', [id]);
		expect(err.kind).toBe('invalid_st_record');
		expect(err.message).toMatch(/code: required/);
	});

	it('a push ST rejects (400) is logged once and held with the reason: not re-sent every run, sent again once edited', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const id = anyMaterialId();
		const patches = () => h.sim.control.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith(`/materials/${id}`)).length;
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 5 });
		h.sim.control.failNext({ action: { kind: 'status', status: 400 }, match: { method: 'PATCH', path: '/materials' } });
		const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(r.success).toBe(true);
		expect(r.itemsPushed).toBe(0);
		const row = await material(id);
		expect(row).toMatchObject({ sync_status: 'pending_push', price: '5', push_refused: { price: '5' } });
		expect(row.push_error).toMatch(/rejected.*held until the row is edited again or a person retries/);
		// ServiceTitan's no to these values is definite: the same body is not sent again every 15 minutes.
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(patches()).toBe(1);
		expect(await count("SELECT 1 FROM sync_error_log WHERE kind = 'push_rejected' AND entity_id = $1", [id])).toBe(1);
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 6 });
		const edited = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(edited.itemsPushed).toBe(1);
		expect(await material(id)).toMatchObject({ sync_status: 'synced', price: '6', push_error: null, push_refused: null });
	});

	it('single-entity sync applies one item, and a 404 means deleted in ST', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const id = anyMaterialId();
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { displayName: 'One only' });
		const r = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: id });
		expect(r.summary.modifiedInSTOnly).toBe(1);
		expect((await material(id)).display_name).toBe('One only');
		h.sim.control.deleteItem('materials', id);
		const gone = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: id });
		expect(gone.summary.deletedInST).toBe(1);
		expect((await material(id)).deleted_in_st).toBe(true);
		const unknown = await h.engine.run({ kind: 'entity', entityType: 'materials', entityId: 987654321 });
		expect(unknown.success).toBe(false);
		expect(unknown.message).toMatch(/neither in ServiceTitan nor locally/);
	});
});

describe('the command line', () => {
	beforeEach(async () => {
		h = await startHarness();
	});

	it('full --json prints exactly one JSON object in the documented shape', async () => {
		const run = await runCliCaptured(['full', '--entity', 'materials', '--json'], h.env);
		expect(run.code).toBe(0);
		const out = JSON.parse(run.stdout);
		expect(Object.keys(out)).toEqual(['results']);
		expect(out.results).toHaveLength(1);
		expect(out.results[0]).toMatchObject({
			entityType: 'materials',
			kind: 'full',
			dryRun: false,
			success: true,
			summary: { newInST: expect.any(Number), deletedInST: 0, modifiedInSTOnly: 0, modifiedLocalOnly: 0, conflicts: 0, noChange: 0 },
			itemsSynced: expect.any(Number),
			itemsPushed: 0,
			pushes: { verified: 0, normalized: 0, ignored: 0 },
			conflictsDetected: 0,
			errors: 0,
			runId: expect.any(Number),
			syncedAt: expect.any(String),
		});
	});

	it('incremental and entity commands run, and usage errors exit 2 with a message', async () => {
		expect((await runCliCaptured(['incremental', '--json'], h.env)).code).toBe(0);
		const id = anyMaterialId();
		const one = await runCliCaptured(['entity', 'materials', String(id), '--json'], h.env);
		expect(one.code).toBe(0);
		expect(JSON.parse(one.stdout).results[0].kind).toBe('entity');
		const readable = await runCliCaptured(['full', '--entity', 'equipment'], h.env);
		expect(readable.stdout).toMatch(/equipment\s+full: succeeded/);
		for (const argv of [
			['entity', 'widgets', '1'],
			['entity', 'materials', '0'],
			['entity', 'materials', '-4.5'],
			['entity', 'materials', 'abc'],
			['full', '--entity', 'x'],
			['incremental', '--since', 'yesterday'],
		]) {
			const bad = await runCliCaptured(argv, h.env);
			expect({ argv, code: bad.code }).toEqual({ argv, code: 2 });
			expect(bad.stderr.length).toBeGreaterThan(0);
		}
		const noSt = await runCliCaptured(['full'], { DATABASE_URL: h.env.DATABASE_URL });
		expect(noSt.code).toBe(2);
		expect(noSt.stderr).toMatch(/ST_CLIENT_ID is missing/);
	});
});
