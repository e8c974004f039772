import { markEngineWrites } from '../../lib/db/engine-session';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;

async function insertMaterial(id: number): Promise<void> {
	// Inserted as the engine would after a sync, so the row starts synced.
	await t.db.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none(
			`INSERT INTO pricebook_materials (id, code, display_name, price, sync_status, last_synced_at)
			 VALUES ($1, $2, $3, 10.00, 'synced', now() - interval '1 hour')`,
			[id, `MAT-${id}`, `Material ${id}`],
		);
	});
}

async function row(id: number) {
	return t.db.one('SELECT sync_status, local_modified_at, sync_direction, row_version, price FROM pricebook_materials WHERE id = $1', [id]);
}

beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => t.drop());

describe('local-edit capture trigger', () => {
	it('marks a Retool-style UPDATE of a synced column as pending_push with a local edit time', async () => {
		await insertMaterial(9404);
		const before = await row(9404);
		expect(before.sync_status).toBe('synced');
		expect(before.local_modified_at).toBeNull();

		await t.db.none('UPDATE pricebook_materials SET price = 12.5 WHERE id = 9404');

		const after = await row(9404);
		expect(after.sync_status).toBe('pending_push');
		expect(after.sync_direction).toBe('to_st');
		expect(after.local_modified_at).toBeInstanceOf(Date);
		expect(after.price).toBe('12.5');
		expect(Number(after.row_version)).toBe(Number(before.row_version) + 1);
	});

	it('ignores the same UPDATE when the engine marked the transaction as its own', async () => {
		await insertMaterial(9405);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET price = 12.5 WHERE id = 9405');
		});
		const after = await row(9405);
		expect(after.sync_status).toBe('synced');
		expect(after.local_modified_at).toBeNull();
		// The row version still moves, so compare-and-set sees every write.
		expect(Number(after.row_version)).toBe(2);
	});

	it('does not leak the engine mark into the next transaction on the same connection', async () => {
		await insertMaterial(9406);
		await t.db.task(async (task) => {
			await task.tx(async (tx) => {
				await markEngineWrites(tx);
			});
			await task.none('UPDATE pricebook_materials SET price = 13 WHERE id = 9406');
		});
		expect((await row(9406)).sync_status).toBe('pending_push');
	});

	it('does not mark an UPDATE that changes no synced column', async () => {
		await insertMaterial(9407);
		await t.db.none('UPDATE pricebook_materials SET price = price, push_error = NULL, st_data = st_data WHERE id = 9407');
		const after = await row(9407);
		expect(after.sync_status).toBe('synced');
		expect(after.local_modified_at).toBeNull();
	});

	it('keeps a row in conflict as conflict when it is edited again locally', async () => {
		await insertMaterial(9408);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none("UPDATE pricebook_materials SET sync_status = 'conflict', has_conflict = true WHERE id = 9408");
		});
		await t.db.none('UPDATE pricebook_materials SET display_name = $1 WHERE id = 9408', ['Edited during conflict']);
		const after = await row(9408);
		expect(after.sync_status).toBe('conflict');
		expect(after.local_modified_at).toBeInstanceOf(Date);
	});

	it('captures edits on every pricebook table, including JSONB fields', async () => {
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none(`INSERT INTO pricebook_services (id, code) VALUES (1, 'SVC-1')`);
			await tx.none(`INSERT INTO pricebook_equipment (id, code) VALUES (1, 'EQ-1')`);
			await tx.none(`INSERT INTO pricebook_categories (id, name) VALUES (1, 'Pumps')`);
		});
		await t.db.none(`UPDATE pricebook_services SET materials_included = '[{"materialId": 9404, "quantity": 2}]' WHERE id = 1`);
		await t.db.none(`UPDATE pricebook_equipment SET model = 'X2' WHERE id = 1`);
		await t.db.none(`UPDATE pricebook_categories SET parent_id = 7 WHERE id = 1`);
		for (const table of ['pricebook_services', 'pricebook_equipment', 'pricebook_categories']) {
			const r = await t.db.one('SELECT sync_status FROM $1:name WHERE id = 1', [table]);
			expect(r.sync_status).toBe('pending_push');
		}
	});
});

describe('deletes', () => {
	it('soft-deleting a material leaves its vendor prices in place', async () => {
		await insertMaterial(500);
		await t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES (500, 'ced', 'CED-500', 4.25)`);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET deleted_at = now(), deleted_in_st = true WHERE id = 500');
		});
		const prices = await t.db.any('SELECT vendor, vendor_sku, price FROM vendor_prices WHERE material_id = 500');
		expect(prices).toEqual([{ vendor: 'ced', vendor_sku: 'CED-500', price: '4.2500' }]);
	});

	it('refuses a hard DELETE of a material that has vendor prices, even with hard deletes allowed', async () => {
		await insertMaterial(501);
		await t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES (501, 'pool360', 'P-501', 9)`);
		await expect(t.db.none('DELETE FROM pricebook_materials WHERE id = 501')).rejects.toThrow(/hard DELETE/);
		await expect(
			t.db.tx(async (tx) => {
				await tx.none("SET LOCAL pricebook_sync.allow_hard_delete = 'on'");
				await tx.none('DELETE FROM pricebook_materials WHERE id = 501');
			}),
		).rejects.toThrow(/foreign key/);
		expect(await t.db.one('SELECT count(*)::int AS n FROM vendor_prices WHERE material_id = 501')).toEqual({ n: 1 });
		expect(await t.db.one('SELECT count(*)::int AS n FROM pricebook_materials WHERE id = 501')).toEqual({ n: 1 });
	});

	it('refuses TRUNCATE, which fires no row trigger: a CASCADE from materials would take every vendor price and its history', async () => {
		await insertMaterial(502);
		const { id } = await t.db.one(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES (502, 'ced', 'CED-502', 3) RETURNING id`);
		await t.db.none(`INSERT INTO vendor_price_history (vendor_price_id, price, valid_from, valid_to) VALUES ($1, 2.5, now() - interval '1 day', now())`, [
			id,
		]);
		await expect(t.db.none('TRUNCATE pricebook_materials CASCADE')).rejects.toMatchObject({
			message: expect.stringMatching(/TRUNCATE of (pricebook_materials|vendor_prices|vendor_price_history) is not allowed/),
			hint: expect.stringMatching(/soft-deleted/),
		});
		for (const table of ['pricebook_services', 'pricebook_equipment', 'pricebook_categories', 'vendor_prices', 'vendor_price_history']) {
			await expect(t.db.none('TRUNCATE $1:name CASCADE', [table])).rejects.toThrow(/TRUNCATE of .* is not allowed/);
		}
		expect(await t.db.one('SELECT count(*)::int AS n FROM vendor_price_history WHERE vendor_price_id = $1', [id])).toEqual({ n: 1 });
		expect(await t.db.one('SELECT count(*)::int AS n FROM pricebook_materials WHERE id = 502')).toEqual({ n: 1 });
	});

	it('lets the engine role TRUNCATE when it opts in for the transaction (one role here, as in the tests and the demo)', async () => {
		const rollback = new Error('roll back');
		await expect(
			t.db.tx(async (tx) => {
				await tx.none("SET LOCAL pricebook_sync.allow_hard_delete = 'on'");
				await tx.none('TRUNCATE vendor_price_history');
				expect(await tx.one('SELECT count(*)::int AS n FROM vendor_price_history')).toEqual({ n: 0 });
				throw rollback;
			}),
		).rejects.toBe(rollback);
	});

	it('refuses a hard DELETE on every pricebook table', async () => {
		for (const table of ['pricebook_services', 'pricebook_equipment', 'pricebook_categories']) {
			await expect(t.db.none('DELETE FROM $1:name', [table])).rejects.toThrow(/soft-deleted|hard DELETE/);
		}
	});
});

describe('conflicts table', () => {
	it('allows at most one open conflict per item', async () => {
		const insert = `INSERT INTO sync_conflicts (entity_type, entity_id, conflict_data) VALUES ('materials', 9404, '{}')`;
		await t.db.none(insert);
		await expect(t.db.none(insert)).rejects.toThrow(/sync_conflicts_one_open_per_item/);
		await t.db.none(`UPDATE sync_conflicts SET status = 'resolved' WHERE entity_id = 9404`);
		await t.db.none(insert);
	});
});
