import { entityDefinition } from '../../lib/entities/definitions';
import { planRestore, valuesAt } from '../../lib/sync/restore-plan';

/** Restore's decisions, without a database: the item's values at the point restored to, and what may go back. */
const def = entityDefinition('materials');

describe('valuesAt', () => {
	it('takes each field from the first later change that touched it, and leaves untouched fields out', () => {
		const values = valuesAt(def, [
			{ action: 'pushed', fields: { price: { before: '1', after: '2' } } },
			{ action: 'updated_from_st', fields: { price: { before: '2', after: '3' }, description: { before: 'a', after: 'b' } } },
			{ action: 'conflict', fields: { conflictId: { before: null, after: 4 } } },
		]);
		expect(values).toEqual({ price: '1', description: 'a' });
	});

	it('answers null when a later change created the item: there is no earlier state', () => {
		expect(valuesAt(def, [{ action: 'created', fields: { price: { before: null, after: '1' } } }])).toBeNull();
	});
});

describe('planRestore', () => {
	const synced = { price: '5', cost: '2', description: 'now' };
	const local = (current: Record<string, string>, extra = {}) => ({ current, base: synced, deleted: false, inConflict: false, ...extra });

	it('restores synced later edits, skips an unpulled ServiceTitan edit and an unpushed Retool edit', () => {
		const plan = planRestore(
			def,
			7,
			{ price: '1', cost: '1', description: 'then' },
			{
				local: local({ ...synced, cost: '9' }),
				st: { ...synced, description: 'ST edit' },
			},
		);
		expect(plan.restore).toEqual([{ field: 'price', now: '5', afterUndo: '1' }]);
		expect(plan.skipped).toEqual([
			{ field: 'description', reason: expect.stringContaining('changed in ServiceTitan and not synced yet') },
			{ field: 'cost', reason: expect.stringContaining('holds a Retool edit not pushed yet') },
		]);
	});

	it('skips a field already at the value, and the whole item when in conflict or without a base', () => {
		expect(planRestore(def, 7, { price: '5' }, { local: local(synced), st: synced })).toEqual({ entityId: 7, restore: [], skipped: [] });
		expect(planRestore(def, 7, { price: '1' }, { local: local(synced, { inConflict: true }), st: synced }).skipped).toEqual([
			{ reason: expect.stringContaining('resolve the conflict first') },
		]);
		expect(planRestore(def, 7, { price: '1' }, { local: local(synced, { base: null }), st: synced }).skipped).toEqual([
			{ reason: expect.stringContaining('run a sync first') },
		]);
	});
});
