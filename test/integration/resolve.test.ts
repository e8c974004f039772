import { SyncNotFoundError, SyncStateError, SyncValidationError } from '../../lib/sync/errors';
import { resolveConflict, type ResolveRequest } from '../../lib/sync/resolve';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

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
	const r = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	expect(r.conflictsDetected).toBe(1);
	conflictId = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id;
	h.sim.control.resetStats();
});

const resolve = (request: Partial<ResolveRequest>) =>
	resolveConflict({ db: h.t.db, st: h.client, lockWaitMs: 2000 }, {
		conflictId,
		resolution: 'use_st',
		resolvedBy: 'ann@perfectcatch',
		...request,
	} as ResolveRequest);
const row = () => h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
const conflict = () => h.t.db.one('SELECT * FROM sync_conflicts WHERE id = $1', [conflictId]);
const patches = () => h.sim.control.requests.filter((q) => q.method === 'PATCH');

async function expectNothingWritten(before: { row: unknown; conflict: unknown }) {
	expect(await row()).toEqual(before.row);
	expect(await conflict()).toEqual(before.conflict);
	expect(patches()).toHaveLength(0);
}

describe('resolution', () => {
	it('use_st overwrites local with ServiceTitan, rebases, and records who, when and what', async () => {
		const result = await resolve({ resolution: 'use_st' });
		expect(result).toMatchObject({ status: 'resolved', resolution: 'use_st', resolvedBy: 'ann@perfectcatch', entityId: id });
		const r = await row();
		expect(r).toMatchObject({
			price: '11',
			description: 'ST description',
			sync_status: 'synced',
			has_conflict: false,
			conflict_resolution: 'use_st',
			resolved_by: 'ann@perfectcatch',
			conflict_data: null,
		});
		expect(r.conflict_resolved_at).toBeInstanceOf(Date);
		expect(r.sync_base.price).toBe('11');
		const c = await conflict();
		expect(c).toMatchObject({ status: 'resolved', resolution: 'use_st', resolved_by: 'ann@perfectcatch' });
		expect(c.resolution_before.local.price).toBe('12.5');
		expect(c.resolution_after.price).toBe('11');
		expect(await h.t.db.one("SELECT count(*)::int AS n FROM sync_change_log WHERE entity_id = $1 AND action = 'resolved_use_st'", [id])).toEqual({ n: 1 });
		expect(patches()).toHaveLength(0);
		const next = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(next.summary.conflicts + next.summary.modifiedLocalOnly + next.summary.modifiedInSTOnly).toBe(0);
	});

	it('use_local pushes the differing fields to ServiceTitan and rebases from its answer', async () => {
		const result = await resolve({ resolution: 'use_local' });
		expect(result.status).toBe('resolved');
		expect(patches()).toHaveLength(1);
		expect(patches()[0].body).toEqual({ description: (result.before!.local.description as string) ?? null, cost: 3.25, price: 12.5 });
		const st = h.sim.control.getItem('materials', id)!;
		expect(st).toMatchObject({ price: 12.5, cost: 3.25 });
		const r = await row();
		expect(r).toMatchObject({
			price: '12.5',
			sync_status: 'synced',
			has_conflict: false,
			conflict_resolution: 'use_local',
			st_modified_on_raw: st.modifiedOn,
		});
		const next = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(next.summary.conflicts + next.summary.modifiedLocalOnly + next.summary.modifiedInSTOnly).toBe(0);
	});

	it('use_local over a ServiceTitan version nobody saw answers stale, refreshes the conflict and pushes nothing', async () => {
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { price: 14 });
		h.sim.control.resetStats();
		const result = await resolve({ resolution: 'use_local' });
		expect(result.status).toBe('stale');
		expect(result.message).toMatch(/^stale: /);
		expect(patches()).toHaveLength(0);
		const c = await conflict();
		expect(c.status).toBe('open');
		expect(c.conflict_data.diff.stValues.price).toBe('14');
		expect((await row()).conflict_data.diff.stValues.price).toBe('14');
		// After review, the same choice goes through.
		expect((await resolve({ resolution: 'use_local' })).status).toBe('resolved');
		expect(h.sim.control.getItem('materials', id)!.price).toBe(12.5);
	});

	it('merged writes the chosen values locally and to ServiceTitan; fields chosen by nobody follow the side that changed them', async () => {
		const result = await resolve({ resolution: 'merged', mergedData: { price: '11.75' } });
		expect(result.status).toBe('resolved');
		const st = h.sim.control.getItem('materials', id)!;
		// price chosen; description changed only in ST; cost changed only locally.
		expect(st).toMatchObject({ price: 11.75, description: 'ST description', cost: 3.25 });
		expect(await row()).toMatchObject({
			price: '11.75',
			description: 'ST description',
			cost: '3.25',
			sync_status: 'synced',
			conflict_resolution: 'merged',
		});
	});

	it.each([
		[{ resolution: 'merged', mergedData: { price: 'cheap' } }, 'mergedData.price'],
		[{ resolution: 'merged', mergedData: { nonsense: 1 } }, 'mergedData.nonsense'],
		[{ resolution: 'merged', mergedData: { cost: 1 } }, 'mergedData.price'],
		[{ resolution: 'merged', mergedData: '{"price": 1' }, 'mergedData'],
		[{ resolution: 'merged' }, 'mergedData'],
		[{ resolution: 'use_st', mergedData: { price: 1 } }, 'mergedData'],
		[{ resolution: 'keep_both' }, 'resolution'],
		[{ resolvedBy: '' }, 'resolvedBy'],
		[{ resolvedBy: undefined }, 'resolvedBy'],
	])('refuses %p naming the field %s, writing nothing', async (request, field) => {
		const before = { row: await row(), conflict: await conflict() };
		await expect(resolve(request as Partial<ResolveRequest>)).rejects.toMatchObject({ name: 'SyncValidationError', field });
		await expectNothingWritten(before);
	});

	it('a merge naming one field by both its names (member_price and memberPrice) is refused, naming both keys, writing nothing', async () => {
		const before = { row: await row(), conflict: await conflict() };
		for (const mergedData of [
			{ price: '11.75', member_price: 9, memberPrice: 10 },
			// Equal values too: which key was meant cannot be told, and the audit trail would record only one.
			{ price: '11.75', memberPrice: 9, member_price: '9.00' },
		]) {
			const refused = resolve({ resolution: 'merged', mergedData });
			await expect(refused).rejects.toMatchObject({ name: 'SyncValidationError', field: 'mergedData.member_price', kind: 'validation' });
			await expect(refused).rejects.toThrow(/named twice, as "(member_price|memberPrice)" and as "(memberPrice|member_price)"/);
		}
		await expectNothingWritten(before);
		expect(h.sim.control.requests).toHaveLength(0);
		expect(await h.t.db.one("SELECT count(*)::int AS n FROM sync_runs WHERE kind = 'resolution'")).toEqual({ n: 0 });
	});

	it('an unknown conflict id is "not found"', async () => {
		await expect(resolve({ conflictId: 987654 })).rejects.toBeInstanceOf(SyncNotFoundError);
		await expect(resolve({ conflictId: -1 })).rejects.toBeInstanceOf(SyncValidationError);
	});

	it('resolving twice, or at once from two callers, changes nothing the second time and says so', async () => {
		const [a, b] = await Promise.all([resolve({ resolution: 'use_local' }), resolve({ resolution: 'use_st' })]);
		const statuses = [a.status, b.status].sort();
		expect(statuses).toEqual(['already_resolved', 'resolved']);
		const winner = a.status === 'resolved' ? a : b;
		expect((await conflict()).resolution).toBe(winner.resolution);
		expect(patches().length).toBe(winner.resolution === 'use_local' ? 1 : 0);
		const before = { row: await row(), conflict: await conflict() };
		h.sim.control.resetStats();
		const again = await resolve({ resolution: 'merged', mergedData: { price: 1 } });
		expect(again).toMatchObject({ status: 'already_resolved', resolution: winner.resolution });
		expect(again.message).toMatch(/already resolved/);
		await expectNothingWritten(before);
		expect(await h.t.db.one("SELECT count(*)::int AS n FROM sync_runs WHERE kind = 'resolution'")).toEqual({ n: 1 });
	});
});

describe('resolution verified against what ServiceTitan stored', () => {
	it('use_local with a field ServiceTitan answers for but keeps: resolved as far as it went, the chosen value held locally with the reason, never replaced', async () => {
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'], entities: ['materials'], echo: true } } });
		const result = await resolve({ resolution: 'use_local' });
		expect(result).toMatchObject({ status: 'resolved', refusedFields: ['cost'] });
		expect(result.message).toMatch(/did not apply cost/);
		expect(h.sim.control.getItem('materials', id)).toMatchObject({ price: 12.5 });
		expect(h.sim.control.getItem('materials', id)!.cost).not.toBe(3.25);
		expect(await row()).toMatchObject({
			price: '12.5',
			cost: '3.25',
			sync_status: 'pending_push',
			has_conflict: false,
			push_error: expect.stringMatching(/did not apply cost/),
		});
		expect(await conflict()).toMatchObject({ status: 'resolved' });
		// Held: the next run does not send it again.
		h.sim.control.setQuirks({ patch: {} });
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(patches()).toHaveLength(1);
		expect(Number((await row()).cost)).toBe(3.25);
	});

	it('a Retool edit of a held field made while the resolution was under way stays: the held chosen value does not overwrite it', async () => {
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'], entities: ['materials'], echo: true } } });
		// The person changes the cost again in Retool while the resolution's PATCH is on its way.
		const st = Object.create(h.client) as typeof h.client;
		st.patch = async (entity, itemId, body) => {
			await retoolUpdate(h.t, 'pricebook_materials', id, { cost: 4.75 });
			return h.client.patch(entity, itemId, body);
		};
		const result = await resolveConflict({ db: h.t.db, st, lockWaitMs: 2000 }, { conflictId, resolution: 'use_local', resolvedBy: 'ann@perfectcatch' });
		expect(result).toMatchObject({ status: 'resolved', refusedFields: ['cost'] });
		expect(await row()).toMatchObject({ cost: '4.75', sync_status: 'pending_push' });
		// The newer edit is pushed by the next run (ServiceTitan now takes cost).
		h.sim.control.setQuirks({ patch: {} });
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(h.sim.control.getItem('materials', id)!.cost).toBe(4.75);
		expect(await row()).toMatchObject({ cost: '4.75', sync_status: 'synced' });
	});

	it('a merge keeping the deactivation of a row a person soft-deleted, which ServiceTitan keeps active: the row stays deleted, the deactivation held (found by the model-based suite)', async () => {
		const deletedId = h.sim.control.listIds('materials')[2];
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', deletedId, { description: 'ST description' });
		// The person edits the row and soft-deletes it (the capture trigger makes that a deactivation, active false).
		await retoolUpdate(h.t, 'pricebook_materials', deletedId, { description: 'Local description' });
		await h.t.db.none('UPDATE pricebook_materials SET deleted_at = now() WHERE id = $1', [deletedId]);
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).conflictsDetected).toBe(1);
		const deletedConflict = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [deletedId])).id;
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['active'], entities: ['materials'], echo: true } } });
		const result = await resolve({ conflictId: deletedConflict, resolution: 'merged', mergedData: { description: 'ST description', active: false } });
		expect(result).toMatchObject({ status: 'resolved', refusedFields: ['active'] });
		expect(h.sim.control.getItem('materials', deletedId)).toMatchObject({ description: 'ST description', active: true });
		// ServiceTitan kept the item active; the person's decision was to keep it deactivated: still soft-deleted
		// locally, the deactivation held with the reason, never turned into a live row nobody reactivated.
		expect(await h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [deletedId])).toMatchObject({
			description: 'ST description',
			active: false,
			deleted_at: expect.any(Date),
			deleted_in_st: false,
			sync_status: 'pending_push',
			push_refused: { active: false },
			push_error: expect.stringMatching(/did not apply active/),
		});
	});
});

describe('resolution verified against what ServiceTitan stored, for a service', () => {
	it('use_local of a service whose description ServiceTitan keeps: the chosen description is held locally, not lost to an error (found by the model-based suite)', async () => {
		await h.engine.run({ kind: 'full', entityType: 'services' });
		const serviceId = h.sim.control.listIds('services')[3];
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('services', serviceId, { price: 11, description: 'ST description' });
		await retoolUpdate(h.t, 'pricebook_services', serviceId, { price: 12.5, description: 'Local description' });
		expect((await h.engine.run({ kind: 'incremental', entityType: 'services' })).conflictsDetected).toBe(1);
		const serviceConflict = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [serviceId])).id;
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['description'], entities: ['services'] } } });
		const result = await resolve({ conflictId: serviceConflict, resolution: 'use_local' });
		expect(result).toMatchObject({ status: 'resolved', refusedFields: ['description'] });
		expect(h.sim.control.getItem('services', serviceId)).toMatchObject({ price: 12.5, description: 'ST description' });
		expect(await h.t.db.one('SELECT * FROM pricebook_services WHERE id = $1', [serviceId])).toMatchObject({
			price: '12.5',
			description: 'Local description',
			sync_status: 'pending_push',
			push_error: expect.stringMatching(/did not apply description/),
		});
	});
});

describe('a resolution ServiceTitan partly ignores, of a row a person soft-deleted', () => {
	it('keeps the soft delete while the chosen deactivation is held (found by the model-based suite, seed 20261125 path 717)', async () => {
		await h.engine.run({ kind: 'full', entityType: 'services' });
		const serviceId = h.sim.control.listIds('services')[3];
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('services', serviceId, { price: 11 });
		await h.t.db.none('UPDATE pricebook_services SET deleted_at = now() WHERE id = $1', [serviceId]);
		expect((await h.engine.run({ kind: 'incremental', entityType: 'services' })).conflictsDetected).toBe(1);
		const serviceConflict = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [serviceId])).id;
		// ServiceTitan keeps the item active: the deactivation chosen with the local side is held on the row.
		h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['active'], entities: ['services'] } } });
		const result = await resolve({ conflictId: serviceConflict, resolution: 'use_local' });
		expect(result).toMatchObject({ status: 'resolved', refusedFields: ['active'] });
		expect(h.sim.control.getItem('services', serviceId)).toMatchObject({ active: true });
		expect(await h.t.db.one('SELECT * FROM pricebook_services WHERE id = $1', [serviceId])).toMatchObject({
			active: false,
			deleted_at: expect.any(Date),
			sync_status: 'pending_push',
			push_refused: { active: false },
		});
	});
});

describe('resolution of "deleted in ServiceTitan" conflicts', () => {
	let goneId: number;
	let goneConflict: number;
	beforeEach(async () => {
		goneId = h.sim.control.listIds('materials')[7];
		await retoolUpdate(h.t, 'pricebook_materials', goneId, { description: 'edited before the delete' });
		h.sim.control.deleteItem('materials', goneId);
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		goneConflict = (await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [goneId])).id;
	});

	it('use_st accepts the delete: the row is soft-deleted and vendor prices stay', async () => {
		await h.t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'homedepot', 'HD-1', 2)`, [goneId]);
		const result = await resolve({ conflictId: goneConflict, resolution: 'use_st' });
		expect(result.status).toBe('resolved');
		expect(await h.t.db.one('SELECT deleted_in_st, has_conflict, sync_status FROM pricebook_materials WHERE id = $1', [goneId])).toEqual({
			deleted_in_st: true,
			has_conflict: false,
			sync_status: 'synced',
		});
		expect(await h.t.db.one('SELECT count(*)::int AS n FROM vendor_prices WHERE material_id = $1', [goneId])).toEqual({ n: 1 });
	});

	it('use_local cannot bring back an item ServiceTitan deleted for good: a clear error, nothing written', async () => {
		const before = await h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [goneId]);
		const error = await resolve({ conflictId: goneConflict, resolution: 'use_local' }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(SyncStateError);
		expect((error as SyncStateError).reason).toBe('gone_in_st');
		expect((error as Error).message).toMatch(/Re-create it in ServiceTitan/);
		expect(await h.t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [goneId])).toEqual(before);
		expect((await h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [goneConflict])).status).toBe('open');
	});
});
