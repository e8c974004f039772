import { markEngineWrites } from '../../lib/db/engine-session';
import { createTestDatabase, type TestDatabase } from '../support/database';

// What a person's SQL (Retool) may do to a pricebook row, enforced by the database itself (migration 0011).

let t: TestDatabase;

async function syncedMaterial(id: number): Promise<void> {
	await t.db.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none(
			`INSERT INTO pricebook_materials (id, code, description, price, sync_status, last_synced_at, sync_base, st_data)
			 VALUES ($1, $2, 'A material', 10.00, 'synced', now() - interval '1 hour', '{"code": "x"}', '{"primaryVendor": null}')`,
			[id, `MAT-${id}`],
		);
	});
}

beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => t.drop());

describe('a row a person inserts', () => {
	it('gets a temporary negative id and is marked as a new item to create, whatever bookkeeping the form sent', async () => {
		const first = await t.db.one(
			`INSERT INTO pricebook_materials (code, description, price, sync_status, sync_base, st_data, last_synced_at)
			 VALUES ('NEW-1', 'Made in Retool', 12.5, 'synced', '{"code": "forged"}', '{"x": 1}', now()) RETURNING *`,
		);
		const second = await t.db.one(`INSERT INTO pricebook_services (id, code, description) VALUES (NULL, 'SVC-NEW', 'Made in Retool') RETURNING *`);
		expect(Number(first.id)).toBeLessThan(0);
		expect(Number(second.id)).toBeLessThan(Number(first.id));
		expect(first).toMatchObject({ sync_status: 'pending_push', sync_direction: 'to_st', sync_base: null, st_data: {}, last_synced_at: null });
		expect(first.local_modified_at).toBeInstanceOf(Date);
	});

	it('is refused when it names a positive id: ids are ServiceTitan’s, and a made-up one would collide with a real item', async () => {
		await expect(t.db.none(`INSERT INTO pricebook_materials (id, code, description) VALUES (777001, 'GUESS', 'x')`)).rejects.toThrow(
			/get their id from ServiceTitan/,
		);
		expect(await t.db.oneOrNone('SELECT id FROM pricebook_materials WHERE id = 777001')).toBeNull();
	});

	it('takes vendor prices that follow it when the sync writes ServiceTitan’s id back', async () => {
		const { id } = await t.db.one(`INSERT INTO pricebook_materials (code, description) VALUES ('NEW-VP', 'x') RETURNING id`);
		await t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'CED', 'SKU-VP', 3.5)`, [id]);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET id = 880001 WHERE id = $1', [id]);
		});
		expect(await t.db.one(`SELECT material_id FROM vendor_prices WHERE vendor_sku = 'SKU-VP'`)).toEqual({ material_id: 880001 });
	});
});

describe('columns the sync keeps', () => {
	let nextRow = 10;
	it.each([
		['st_data', `st_data = '{"warranty": {"duration": 12}}'`, /kept by the sync.*\n?|ServiceTitan/],
		['sync_base', `sync_base = NULL`, /kept by the sync/],
		['sync_status', `sync_status = 'conflict'`, /kept by the sync/],
		['has_conflict', `has_conflict = true`, /kept by the sync/],
		['last_synced_at', `last_synced_at = now() + interval '1 day'`, /kept by the sync/],
		['push_in_flight', `push_in_flight = '{}'`, /kept by the sync/],
		['deleted_in_st', `deleted_in_st = true`, /kept by the sync/],
		['id', `id = 990099`, /ServiceTitan's and cannot be changed/],
	])('refuses a person’s UPDATE of %s, naming what to edit instead', async (column, set, message) => {
		const id = 9500 + nextRow++;
		await syncedMaterial(id);
		const before = await t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id]);
		const error = await t.db.none(`UPDATE pricebook_materials SET ${set} WHERE id = $1`, [id]).catch((e: Error & { hint?: string }) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(message);
		expect((error as Error).message).toContain(column === 'id' ? 'id' : column);
		if (column === 'st_data') expect((error as { hint?: string }).hint).toMatch(/change them in ServiceTitan.*code, display_name/);
		expect(await t.db.one('SELECT * FROM pricebook_materials WHERE id = $1', [id])).toEqual(before);
	});

	it('accepts a whole row written back unchanged by a client that keeps only milliseconds', async () => {
		await syncedMaterial(9401);
		await t.db.none(
			`UPDATE pricebook_materials SET price = 11, last_synced_at = date_trunc('milliseconds', last_synced_at),
			   created_at = date_trunc('milliseconds', created_at), st_data = st_data, sync_status = sync_status WHERE id = 9401`,
		);
		expect(await t.db.one('SELECT sync_status, price FROM pricebook_materials WHERE id = 9401')).toEqual({ sync_status: 'pending_push', price: '11' });
	});

	it('lets a person clear push_refused (retry a held edit), and nothing else', async () => {
		await syncedMaterial(9402);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none(
				`UPDATE pricebook_materials SET price = 9, sync_status = 'pending_push', push_refused = '{"price": "9"}', push_error = 'held' WHERE id = 9402`,
			);
		});
		await expect(t.db.none(`UPDATE pricebook_materials SET push_refused = '{"price": "1"}' WHERE id = 9402`)).rejects.toThrow(/only be cleared/);
		await t.db.none('UPDATE pricebook_materials SET push_refused = NULL WHERE id = 9402');
		expect(await t.db.one('SELECT push_refused, push_error, sync_status FROM pricebook_materials WHERE id = 9402')).toEqual({
			push_refused: null,
			push_error: null,
			sync_status: 'pending_push',
		});
	});
});

describe('a soft delete by a person', () => {
	it('deactivates (active false, pending push) and clearing it reactivates', async () => {
		await syncedMaterial(9600);
		await t.db.none('UPDATE pricebook_materials SET deleted_at = now() WHERE id = 9600');
		expect(await t.db.one('SELECT active, sync_status FROM pricebook_materials WHERE id = 9600')).toEqual({ active: false, sync_status: 'pending_push' });
		await t.db.none('UPDATE pricebook_materials SET deleted_at = NULL WHERE id = 9600');
		expect(await t.db.one('SELECT active, deleted_at FROM pricebook_materials WHERE id = 9600')).toEqual({ active: true, deleted_at: null });
	});

	it('cannot bring back an item ServiceTitan deleted, and says how to create it again', async () => {
		await syncedMaterial(9601);
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET deleted_at = now(), deleted_in_st = true WHERE id = 9601');
		});
		await expect(t.db.none('UPDATE pricebook_materials SET deleted_at = NULL WHERE id = 9601')).rejects.toThrow(/deleted in ServiceTitan/);
	});
});
