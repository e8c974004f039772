import { markEngineWrites } from '../../lib/db/engine-session';
import { migrate } from '../../lib/db/migrate';
import type { EntityType } from '../../lib/entities/types';
import { getSyncStatus } from '../../lib/reporting/status';
import { DEFAULT_SETTINGS, type RunDeps, type RunResult } from '../../lib/sync/run-types';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { runStaged } from '../support/staged';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

const CATEGORIES_RULE = 'categories_must_be_array_of_category_ids';
const MATERIALS_RULE = 'materials_included_must_be_array_of_material_id_quantity';

/** A JSONB value saved as Retool saves it: a plain UPDATE, the value as JSON text. */
/** An operator's (or the sync's) write, past the guard on the sync's own columns. */
async function asEngine(db: TestDatabase['db'], sql: string, values: unknown[]): Promise<void> {
	await db.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none(sql, values);
	});
}

async function saveJson(db: TestDatabase['db'], table: string, id: number, column: string, json: string): Promise<void> {
	await db.none('UPDATE $1:name SET $2:name = $3::jsonb WHERE id = $4', [table, column, json, id]);
}

describe('the database refuses malformed values when they are written (migration 0012)', () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await createTestDatabase();
		// Rows a sync brought in (the engine's writes; a person's INSERT takes a temporary id instead).
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			for (const table of ['pricebook_materials', 'pricebook_equipment', 'pricebook_services'])
				await tx.none('INSERT INTO $1:name (id, code, categories) VALUES (1, $2, $3::jsonb)', [table, 'OK-1', '[3, 1]']);
		});
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
		['a negative id past 2^53', '[-9007199254740993]'],
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
				const inserted = await refusal(() => t.db.none('INSERT INTO $1:name (code, categories) VALUES ($2, $3::jsonb)', [table, 'BAD', json]));
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
			['quantity as words', '[{"materialId": 9404, "quantity": "two"}]'],
			['quantity as a list', '[{"materialId": 9404, "quantity": [2]}]'],
			['quantity null', '[{"materialId": 9404, "quantity": null}]'],
			['one line, not an array', '{"materialId": 9404, "quantity": 1}'],
			['an array saved as JSON text', '"[{\\"materialId\\": 9404, \\"quantity\\": 1}]"'],
			['ids instead of lines', '[9404]'],
			['a good line and a bad one', '[{"materialId": 9404, "quantity": 1}, {"quantity": 2}]'],
		];
		for (const [what, json] of bad) {
			const inserted = await refusal(() => t.db.none("INSERT INTO pricebook_services (code, materials_included) VALUES ('BAD', $1::jsonb)", [json]));
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
		// Extra keys in a line (a name to show, say) are tolerated, as the sync ignores them; so is a quantity written
		// as a decimal in text (a Retool text input sends that), which the sync reads like the number.
		for (const json of ['[]', '[{"materialId": 9404, "quantity": 0.5, "name": "Pump seal"}]', '[{"materialId": 9404, "quantity": "2.5"}]'])
			await saveJson(t.db, 'pricebook_services', 1, 'materials_included', json);
	});
});

describe('a malformed value from before migration 0012: the row, alone, waits for a person', () => {
	/** A database as it was before migration 0012, so it can hold what 0012 refuses. */
	let h: SyncHarness;
	afterEach(async () => h?.close());

	const drivers: Record<string, (kind: 'full' | 'incremental', types: EntityType[]) => Promise<RunResult[]>> = {
		library: (kind, types) => h.engine.runMany(kind, types),
		'n8n steps': (kind, types) => {
			const deps: RunDeps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: { ...DEFAULT_SETTINGS, pageSize: 25 } };
			return runStaged(deps, kind, types);
		},
	};

	async function run(driver: string, kind: 'full' | 'incremental', type: EntityType): Promise<RunResult> {
		const [result] = await drivers[driver](kind, [type]);
		expect(result).toMatchObject({ entityType: type, kind, success: true, status: 'succeeded' });
		return result;
	}

	async function row(table: string, id: number) {
		return h.t.db.one('SELECT * FROM $1:name WHERE id = $2', [table, id]);
	}

	async function unreadableLog(type: EntityType) {
		return h.t.db.any(
			"SELECT entity_id, message, details, run_id FROM sync_error_log WHERE entity_type = $1 AND kind = 'malformed_local_value' ORDER BY entity_id, id",
			[type],
		);
	}

	async function syncState(type: EntityType) {
		return h.t.db.one('SELECT cursor_raw, last_success_at, consecutive_failures FROM sync_state WHERE entity_type = $1', [type]);
	}

	function patchesOf(entity: string, id: number): number {
		return h.sim.control.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith(`/${entity}/${id}`)).length;
	}

	async function upgrade(): Promise<void> {
		expect((await migrate(h.t.db)).applied).toContain('0012_value_shapes');
	}

	describe.each(Object.keys(drivers))('%s driver', (driver) => {
		it('a full run applies the rest of the page, moves the cursor, marks and logs the row once; once corrected, the item syncs', async () => {
			h = await startHarness({ database: { migratedBefore: '0012' } });
			await run(driver, 'full', 'categories');
			await run(driver, 'full', 'materials');
			const [a, b, c, d] = h.sim.control.listIds('materials');
			const before = await row('pricebook_materials', a);
			// Saved by Retool before the upgrade: the array as JSON text, and ids as text.
			await saveJson(h.t.db, 'pricebook_materials', a, 'categories', '"[1,2]"');
			await saveJson(h.t.db, 'pricebook_materials', b, 'categories', '["a"]');
			await saveJson(h.t.db, 'pricebook_materials', d, 'categories', '[[4]]');
			await upgrade();
			// ServiceTitan changes the broken item and another one on the same page.
			h.sim.control.advanceClock(60_000);
			h.sim.control.updateItem('materials', a, { price: 77.5 });
			h.sim.control.updateItem('materials', c, { price: 66.25 });
			h.sim.control.updateItem('materials', d, { price: 55 });
			const cursorBefore = (await syncState('materials')).cursor_raw;

			const full = await run(driver, 'full', 'materials');
			expect(full.summary.modifiedInSTOnly).toBe(1);
			expect(full.errors).toBe(3);
			expect((await row('pricebook_materials', c)).price).toBe('66.25');
			// Nothing of ServiceTitan's is written over the broken row, and nothing of it is sent.
			const broken = await row('pricebook_materials', a);
			expect(broken).toMatchObject({ categories: '[1,2]', price: before.price, sync_base: before.sync_base, sync_status: 'pending_push' });
			expect(patchesOf('materials', a) + patchesOf('materials', b) + patchesOf('materials', d)).toBe(0);
			expect(broken.push_error).toContain('categories holds the text "[1,2]"');
			expect(broken.push_error).toContain('it must be a JSON array of category ids (whole numbers)');
			expect((await row('pricebook_materials', b)).push_error).toContain('categories holds ["a"]');
			const logged = await unreadableLog('materials');
			expect(logged.map((e) => e.entity_id)).toEqual([a, b, d].sort((x, y) => x - y));
			for (const e of logged) {
				expect(e.run_id).toBe(full.runId);
				expect(e.message).toContain(`material ${e.entity_id}: `);
				expect(e.details).toMatchObject({ column: 'categories', reason: expect.any(String), expected: expect.stringContaining('JSON array') });
			}
			// The status says what these rows wait for, and does not count them as edits ServiceTitan refused.
			const reasons = (await getSyncStatus(h.t.db)).healthReasons;
			expect(reasons).toContain(
				'3 materials row(s) hold a value the sync cannot read and are skipped until corrected in Retool (push_error names the column and the shape expected)',
			);
			expect(reasons.filter((r) => /refused by ServiceTitan/.test(r))).toEqual([]);
			const state = await syncState('materials');
			expect(state.consecutive_failures).toBe(0);
			expect(state.cursor_raw).not.toBe(cursorBefore);

			// Next run: the rows are still broken but unchanged, so nothing is logged or written again.
			const version = broken.row_version;
			const again = await run(driver, 'incremental', 'materials');
			expect(again.errors).toBe(0);
			expect(await unreadableLog('materials')).toHaveLength(3);
			expect((await row('pricebook_materials', a)).row_version).toBe(version);

			// A person corrects them: a back to what it was (ServiceTitan's price change then arrives), b to new ids
			// (pushed), d to new ids too, while ServiceTitan changed it: a conflict, and the mark goes.
			const [category] = h.sim.control.listIds('categories');
			await saveJson(h.t.db, 'pricebook_materials', a, 'categories', JSON.stringify(before.categories));
			await saveJson(h.t.db, 'pricebook_materials', b, 'categories', JSON.stringify([category]));
			await saveJson(h.t.db, 'pricebook_materials', d, 'categories', JSON.stringify([category]));
			const fixed = await run(driver, 'incremental', 'materials');
			expect(fixed).toMatchObject({ errors: 0, itemsPushed: 1, conflictsDetected: 1 });
			expect(await row('pricebook_materials', d)).toMatchObject({ categories: [category], sync_status: 'conflict', push_error: null });
			expect((await getSyncStatus(h.t.db)).healthReasons.filter((r) => /cannot read|refused by ServiceTitan/.test(r))).toEqual([]);
			expect(await row('pricebook_materials', a)).toMatchObject({ price: '77.5', sync_status: 'synced', push_error: null });
			expect(await row('pricebook_materials', b)).toMatchObject({ categories: [category], sync_status: 'synced', push_error: null });
			expect(h.sim.control.getItem('materials', b)!.categories).toEqual([category]);
		});

		it('an incremental run applies and pushes the rest, moves the cursor, marks and logs the rows once; once corrected, they sync', async () => {
			h = await startHarness({ database: { migratedBefore: '0012' } });
			await run(driver, 'full', 'categories');
			await run(driver, 'full', 'materials');
			await run(driver, 'full', 'services');
			const [s1, s2, s3, s4] = h.sim.control.listIds('services');
			const before = await row('pricebook_services', s1);
			// A line without its materialId, and one line that is not in an array.
			await saveJson(h.t.db, 'pricebook_services', s1, 'materials_included', '[{"quantity": 1}]');
			await saveJson(h.t.db, 'pricebook_services', s2, 'materials_included', '{"materialId": 5, "quantity": 1}');
			await upgrade();
			h.sim.control.advanceClock(60_000);
			h.sim.control.updateItem('services', s3, { price: 123.45 });
			await retoolUpdate(h.t, 'pricebook_services', s4, { price: 99 });
			const cursorBefore = (await syncState('services')).cursor_raw;

			const inc = await run(driver, 'incremental', 'services');
			expect(inc).toMatchObject({ errors: 2, itemsPushed: 1, summary: { modifiedInSTOnly: 1, modifiedLocalOnly: 1 } });
			expect((await row('pricebook_services', s3)).price).toBe('123.45');
			expect(h.sim.control.getItem('services', s4)!.price).toBe(99);
			expect((await syncState('services')).cursor_raw > cursorBefore).toBe(true);
			expect(patchesOf('services', s1) + patchesOf('services', s2)).toBe(0);
			const logged = await unreadableLog('services');
			expect(logged.map((e) => [e.entity_id, e.details.column])).toEqual([s1, s2].sort((x, y) => x - y).map((id) => [id, 'materials_included']));
			const broken = await row('pricebook_services', s1);
			expect(broken.materials_included).toEqual([{ quantity: 1 }]);
			expect(broken.push_error).toMatch(/^unreadable value: materials_included holds \[\{"quantity":1\}\]/);
			expect(broken.push_error).toContain('"materialId": <material id, a whole number>, "quantity": <number>');

			const again = await run(driver, 'incremental', 'services');
			expect(again.errors).toBe(0);
			expect(await unreadableLog('services')).toHaveLength(2);

			const [material] = h.sim.control.listIds('materials');
			await saveJson(h.t.db, 'pricebook_services', s1, 'materials_included', JSON.stringify(before.materials_included));
			await saveJson(h.t.db, 'pricebook_services', s2, 'materials_included', JSON.stringify([{ materialId: material, quantity: 2 }]));
			const fixed = await run(driver, 'incremental', 'services');
			expect(fixed).toMatchObject({ errors: 0, itemsPushed: 1 });
			expect(await row('pricebook_services', s1)).toMatchObject({ sync_status: 'synced', push_error: null });
			expect(await row('pricebook_services', s2)).toMatchObject({ sync_status: 'synced', push_error: null });
			expect(h.sim.control.getItem('services', s2)!.serviceMaterials).toEqual([{ skuId: material, quantity: 2 }]);
		});
	});

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

	it('a sync_base edited by hand into a shape the sync cannot read is contained the same way, naming sync_base', async () => {
		h = await startHarness();
		await h.engine.runMany('full', ['categories', 'materials']);
		const [a, c] = h.sim.control.listIds('materials');
		// Edited by hand before migration 0011 made sync_base read-only to people: written as the engine here.
		await asEngine(h.t.db, `UPDATE pricebook_materials SET sync_base = jsonb_set(sync_base, '{categories}', '"[1]"') WHERE id = $1`, [a]);
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', c, { price: 3.5 });
		const [full] = await h.engine.runMany('full', ['materials']);
		expect(full).toMatchObject({ success: true, errors: 1, summary: { modifiedInSTOnly: 1 } });
		const broken = await row('pricebook_materials', a);
		expect(broken.push_error).toMatch(/^unreadable value: sync_base\.categories holds the text "\[1\]"/);
		expect(broken.push_error).toContain('sets it to null as the engine');
		await expect(h.t.db.none('UPDATE pricebook_materials SET sync_base = NULL WHERE id = $1', [a])).rejects.toThrow(/kept by the sync/);
		await asEngine(h.t.db, 'UPDATE pricebook_materials SET sync_base = NULL WHERE id = $1', [a]);
		const [after] = await h.engine.runMany('full', ['materials']);
		expect(after).toMatchObject({ success: true, errors: 0 });
		expect((await row('pricebook_materials', a)).push_error).toBeNull();
	});

	it('a value no SQL rule covers (a NaN price) is contained to its row the same way', async () => {
		h = await startHarness();
		await h.engine.runMany('full', ['categories', 'equipment']);
		const [a, c] = h.sim.control.listIds('equipment');
		await retoolUpdate(h.t, 'pricebook_equipment', a, { price: 'NaN' });
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('equipment', c, { price: 8 });
		// A dry run counts the row it would skip and writes nothing.
		const dry = await h.engine.run({ kind: 'incremental', entityType: 'equipment', dryRun: true });
		expect(dry).toMatchObject({ success: true, errors: 1, summary: { modifiedInSTOnly: 1 } });
		expect((await row('pricebook_equipment', a)).push_error).toBeNull();
		const [inc] = await h.engine.runMany('incremental', ['equipment']);
		expect(inc).toMatchObject({ success: true, errors: 1, summary: { modifiedInSTOnly: 1 } });
		expect((await row('pricebook_equipment', a)).push_error).toMatch(/^unreadable value: price holds NaN, .*it must be a decimal number/);
		await retoolUpdate(h.t, 'pricebook_equipment', a, { price: 12.5 });
		const [fixed] = await h.engine.runMany('incremental', ['equipment']);
		expect(fixed).toMatchObject({ success: true, errors: 0, itemsPushed: 1 });
		expect(h.sim.control.getItem('equipment', a)!.price).toBe(12.5);
	});
});
