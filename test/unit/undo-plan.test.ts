import { entityDefinition } from '../../lib/entities/definitions';
import { fieldChanges, planItem, stagedRow } from '../../lib/sync/undo-plan';

/** Undo's decisions, without a database: what a run changed, what may go back, and the row undo writes. */
const def = entityDefinition('materials');

describe('fieldChanges', () => {
	it('keeps the first before and the last after of each field over several entries of one run', () => {
		const changes = fieldChanges(def, [
			{ entity_id: 1, action: 'updated_from_st', before: { price: '1', cost: '2' }, after: { price: '3', cost: '2' } },
			{ entity_id: 1, action: 'pushed', before: { price: '3' }, after: { price: '4' } },
		]);
		expect(changes).toEqual({ before: { price: '1' }, after: { price: '4' }, notUndone: [] });
	});

	it('names what it does not undo, once per reason, and ignores columns that are not synced fields', () => {
		const changes = fieldChanges(def, [
			{ entity_id: 1, action: 'conflict', before: null, after: { conflictId: 4 } },
			{ entity_id: 1, action: 'conflict', before: null, after: { conflictId: 5 } },
			{ entity_id: 1, action: 'pushed', before: { nonsense: 1 }, after: { nonsense: 2 } },
		]);
		expect(changes.after).toEqual({});
		expect(changes.notUndone).toEqual(['the run opened a conflict: it stays open for a person to resolve']);
	});
});

describe('planItem', () => {
	const changes = { before: { price: '1', cost: '2' }, after: { price: '3', cost: '4' }, notUndone: [] };
	const both = { price: '3', cost: '4' };

	it('restores a field only while both sides still hold what the run left', () => {
		expect(
			planItem(def, 7, changes, { local: { current: { ...both, price: '9' }, deleted: false, inConflict: false }, st: { ...both, cost: '8' } }),
		).toEqual({
			entityId: 7,
			restore: [],
			skipped: [
				{ field: 'cost', reason: 'changed in ServiceTitan since the run (now "8"); kept' },
				{ field: 'price', reason: 'changed locally since the run (now "9"); kept' },
			],
		});
		expect(planItem(def, 7, changes, { local: { current: both, deleted: false, inConflict: false }, st: both }).restore).toEqual([
			{ field: 'cost', now: '4', afterUndo: '2' },
			{ field: 'price', now: '3', afterUndo: '1' },
		]);
	});

	it('skips the whole item when it is gone on either side, deleted locally or in conflict', () => {
		const reasons = [
			planItem(def, 7, changes, { local: null, st: both }),
			planItem(def, 7, changes, { local: { current: both, deleted: false, inConflict: false }, st: null }),
			planItem(def, 7, changes, { local: { current: both, deleted: true, inConflict: false }, st: both }),
			planItem(def, 7, changes, { local: { current: both, deleted: false, inConflict: true }, st: both }),
		].map((p) => p.skipped.map((s) => s.reason));
		expect(reasons).toEqual([
			['no longer exists locally'],
			['no longer exists in ServiceTitan'],
			['deleted locally since the run'],
			['in conflict now: resolve the conflict first, then undo again'],
		]);
	});
});

describe('stagedRow', () => {
	const plan = { entityId: 7, restore: [{ field: 'price', now: '3', afterUndo: '1' }], skipped: [] };
	const base = { price: '3', cost: '4', description: 'a' };

	it('takes a later ServiceTitan edit and its record as the base, and keeps a pending Retool edit', () => {
		const staged = stagedRow(def, { ...base, cost: '5' }, base, { ...base, description: 'b' }, plan);
		expect(staged.base).toEqual({ ...base, description: 'b' });
		expect(staged.tookFromSt).toEqual(['description']);
		expect(staged.values).toMatchObject({ price: '1', cost: '5', description: 'b' });
	});

	it('rebases nothing when the same field was edited differently on both sides: the sync decides (a conflict)', () => {
		const staged = stagedRow(def, { ...base, cost: '5' }, base, { ...base, cost: '6' }, plan);
		expect(staged).toEqual({ values: { ...base, cost: '5', price: '1' }, base: null, tookFromSt: [] });
	});
});
