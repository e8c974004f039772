import { canonicalFromSt } from '../../lib/entities/canonical';
import { entityDefinition } from '../../lib/entities/definitions';
import type { EntityType, FieldDef } from '../../lib/entities/types';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(120_000);

/**
 * Every synced field of every entity type, edited in Retool, reaches ServiceTitan: the PATCH carries it, the
 * simulator stores it, and every request the client sent is one ServiceTitan's OpenAPI document allows (the
 * harness checks each exchange against it and fails the test on a violation when it closes).
 */
let h: SyncHarness;
beforeAll(async () => {
	h = await startHarness();
	const results = await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
	for (const r of results) expect(r.success).toBe(true);
});
afterAll(async () => h?.close());

const TYPES: EntityType[] = ['categories', 'services', 'materials', 'equipment'];

async function ids(sql: string, values: unknown[] = []): Promise<number[]> {
	return (await h.t.db.any<{ id: number }>(sql, values)).map((r) => r.id);
}

/** A new value for `field` of item `id`, different from the current one, that ServiceTitan accepts. */
async function newValue(type: EntityType, field: FieldDef, id: number, n: number): Promise<unknown> {
	const row = await h.t.db.one(`SELECT * FROM pricebook_${type} WHERE id = $1`, [id]);
	const current = row[field.column];
	switch (field.kind) {
		case 'text':
			return field.column === 'code' ? `PUSH-${n}` : `Pushed ${field.column} ${n}`;
		case 'enum':
			return field.enumValues!.find((v) => v !== current)!;
		case 'decimal':
			return `${n}.25`;
		case 'boolean':
			return !current;
		case 'integer':
			return Number(current ?? 0) + 7;
		case 'idRef': {
			// A category under another root: roots have no ancestors, so no cycle can form.
			const [root] = await ids('SELECT id FROM pricebook_categories WHERE parent_id IS NULL AND id <> $1 AND id <> $2 ORDER BY id', [id, current ?? 0]);
			return root;
		}
		case 'idList': {
			const kind = type === 'services' ? 'Services' : 'Materials';
			const options = await ids('SELECT id FROM pricebook_categories WHERE category_type = $1 ORDER BY id', [kind]);
			return JSON.stringify(options.filter((c) => !(current as number[]).includes(c)).slice(0, 2));
		}
		case 'materialList': {
			const [material] = await ids('SELECT id FROM pricebook_materials WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 1');
			return JSON.stringify([{ materialId: material, quantity: '3' }]);
		}
	}
}

describe('every synced field of every entity type is pushed to ServiceTitan', () => {
	for (const type of TYPES) {
		const def = entityDefinition(type);
		it(`${type}: ${def.fields.map((f) => f.column).join(', ')}`, async () => {
			// A child category for categories (so its parent can move), any live item otherwise.
			const [id] = await ids(
				type === 'categories'
					? 'SELECT id FROM pricebook_categories WHERE parent_id IS NOT NULL AND deleted_at IS NULL ORDER BY id'
					: `SELECT id FROM pricebook_${type} WHERE deleted_at IS NULL AND active ORDER BY id`,
			);
			let n = 0;
			for (const field of def.fields) {
				n += 1;
				const value = await newValue(type, field, id, n);
				await retoolUpdate(h.t, `pricebook_${type}`, id, { [field.column]: value });
				const before = h.sim.control.requests.length;
				const r = await h.engine.run({ kind: 'incremental', entityType: type });
				expect({ field: field.column, ...r }).toMatchObject({ field: field.column, success: true, itemsPushed: 1, errors: 0 });
				const patch = h.sim.control.requests.slice(before).find((q) => q.method === 'PATCH');
				expect(patch?.body).toHaveProperty([field.st]);
				const local = await h.t.db.one(`SELECT * FROM pricebook_${type} WHERE id = $1`, [id]);
				expect({ field: field.column, sync_status: local.sync_status }).toEqual({ field: field.column, sync_status: 'synced' });
				const stored = canonicalFromSt(def, h.sim.control.getItem(type, id)!);
				const sent = canonicalFromSt(def, { ...h.sim.control.getItem(type, id)!, ...(patch!.body as Record<string, unknown>) });
				expect({ field: field.column, value: stored[field.column] }).toEqual({ field: field.column, value: sent[field.column] });
			}
			expect(h.contract.violations()).toEqual([]);
			expect(h.contract.clientRequestsChecked()).toBeGreaterThan(0);
		});
	}
});
