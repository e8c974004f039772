import { migrate } from '../../lib/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

const CATEGORIES_RULE = 'categories_must_be_array_of_category_ids';
const MATERIALS_RULE = 'materials_included_must_be_array_of_material_id_quantity';

/** A JSONB value saved as Retool saves it: a plain UPDATE, the value as JSON text. */
async function saveJson(db: TestDatabase['db'], table: string, id: number, column: string, json: string): Promise<void> {
	await db.none('UPDATE $1:name SET $2:name = $3::jsonb WHERE id = $4', [table, column, json, id]);
}

describe('the database refuses malformed values when they are written (migration 0012)', () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await createTestDatabase();
		for (const table of ['pricebook_materials', 'pricebook_equipment', 'pricebook_services'])
			await t.db.none('INSERT INTO $1:name (id, code, categories) VALUES (1, $2, $3::jsonb)', [table, 'OK-1', '[3, 1]']);
		await t.db.none(`UPDATE pricebook_services SET materials_included = '[{"materialId": 9404, "quantity": 2}]' WHERE id = 1`);
	});
	afterAll(async () => t?.drop());

	/** The error a write gets, or null when it was taken. */
	async function refusal(write: () => Promise<unknown>): Promise<{ code?: string; constraint?: string; column?: string; message: string } | null> {
		try {
			await write();
			return null;
		} catch (error) {
			return error as { code?: string; constraint?: string; column?: string; message: string };
		}
	}

	const badCategories: [string, string][] = [
		['an array saved as JSON text', '"[1,2]"'],
		['ids as text', '["a"]'],
		['numbers as text', '["1", "2"]'],
		['a fraction', '[1.5]'],
		['zero', '[0]'],
		['a negative id', '[-4]'],
		['category objects', '[{"id": 1}]'],
		['an object', '{"id": 1}'],
		['a number', '7'],
		['JSON null', 'null'],
		['an id past 2^53', '[9007199254740993]'],
	];

	it.each(['pricebook_materials', 'pricebook_equipment', 'pricebook_services'])(
		'%s: categories that are not a JSON array of whole-number ids are refused on INSERT and UPDATE, naming the rule',
		async (table) => {
			for (const [what, json] of badCategories) {
				const inserted = await refusal(() => t.db.none('INSERT INTO $1:name (id, code, categories) VALUES (2, $2, $3::jsonb)', [table, 'BAD', json]));
				expect({ what, error: inserted && { ...inserted, message: inserted.message } }).toMatchObject({
					what,
					error: { code: '23514', constraint: CATEGORIES_RULE, column: 'categories', message: expect.stringContaining(CATEGORIES_RULE) },
				});
				expect(inserted!.message).toContain(`${table}.categories`);
				expect(inserted!.message).toContain('a JSON array of category ids (whole numbers)');
				const updated = await refusal(() => saveJson(t.db, table, 1, 'categories', json));
				expect({ what, error: updated && { ...updated, message: updated.message } }).toMatchObject({
					what,
					error: { code: '23514', constraint: CATEGORIES_RULE, message: expect.stringContaining(CATEGORIES_RULE) },
				});
			}
			expect(await t.db.one('SELECT categories FROM $1:name WHERE id = 1', [table])).toEqual({ categories: [3, 1] });
			expect(await t.db.any('SELECT id FROM $1:name WHERE id = 2', [table])).toEqual([]);
			// What the sync writes, and what people mean by it, still goes in.
			for (const json of ['[]', '[12, 40]', '[12.0]', '[9007199254740991]']) await saveJson(t.db, table, 1, 'categories', json);
		},
	);

	it('services: materials_included that is not a JSON array of {materialId, quantity} objects is refused on INSERT and UPDATE, naming the rule', async () => {
		const bad: [string, string][] = [
			['a line without materialId', '[{"quantity": 1}]'],
			['a line without quantity', '[{"materialId": 9404}]'],
			["ServiceTitan's skuId instead of materialId", '[{"skuId": 9404, "quantity": 1}]'],
			['materialId as text', '[{"materialId": "9404", "quantity": 1}]'],
			['a fractional materialId', '[{"materialId": 94.5, "quantity": 1}]'],
			['quantity as text', '[{"materialId": 9404, "quantity": "2"}]'],
			['quantity null', '[{"materialId": 9404, "quantity": null}]'],
			['one line, not an array', '{"materialId": 9404, "quantity": 1}'],
			['an array saved as JSON text', '"[{\\"materialId\\": 9404, \\"quantity\\": 1}]"'],
			['ids instead of lines', '[9404]'],
			['a good line and a bad one', '[{"materialId": 9404, "quantity": 1}, {"quantity": 2}]'],
		];
		for (const [what, json] of bad) {
			const inserted = await refusal(() =>
				t.db.none("INSERT INTO pricebook_services (id, code, materials_included) VALUES (2, 'BAD', $1::jsonb)", [json]),
			);
			expect({ what, error: inserted && { ...inserted, message: inserted.message } }).toMatchObject({
				what,
				error: { code: '23514', constraint: MATERIALS_RULE, column: 'materials_included', message: expect.stringContaining(MATERIALS_RULE) },
			});
			expect(inserted!.message).toContain('"materialId"');
			const updated = await refusal(() => saveJson(t.db, 'pricebook_services', 1, 'materials_included', json));
			expect({ what, error: updated && { ...updated, message: updated.message } }).toMatchObject({
				what,
				error: { code: '23514', constraint: MATERIALS_RULE, message: expect.stringContaining(MATERIALS_RULE) },
			});
		}
		expect(await t.db.one('SELECT materials_included FROM pricebook_services WHERE id = 1')).toEqual({
			materials_included: [{ materialId: 9404, quantity: 2 }],
		});
		// Extra keys in a line (a name to show, say) are tolerated, as the sync ignores them.
		for (const json of ['[]', '[{"materialId": 9404, "quantity": 0.5, "name": "Pump seal"}]'])
			await saveJson(t.db, 'pricebook_services', 1, 'materials_included', json);
	});
});

describe('a malformed value from before migration 0012', () => {
	let h: SyncHarness;
	afterEach(async () => h?.close());

	async function row(table: string, id: number) {
		return h.t.db.one('SELECT * FROM $1:name WHERE id = $2', [table, id]);
	}

	async function upgrade(): Promise<void> {
		expect((await migrate(h.t.db)).applied).toContain('0012_value_shapes');
	}

	it('a row holding a malformed value can still be edited in its other columns, but not given another malformed value', async () => {
		h = await startHarness({ database: { migratedBefore: '0012' } });
		await h.engine.runMany('full', ['categories', 'materials']);
		const [a] = h.sim.control.listIds('materials');
		await saveJson(h.t.db, 'pricebook_materials', a, 'categories', '"[1,2]"');
		await upgrade();
		await retoolUpdate(h.t, 'pricebook_materials', a, { description: 'still editable' });
		await expect(saveJson(h.t.db, 'pricebook_materials', a, 'categories', '"[3]"')).rejects.toMatchObject({ constraint: CATEGORIES_RULE });
		expect(await row('pricebook_materials', a)).toMatchObject({ categories: '[1,2]', description: 'still editable' });
	});
});
