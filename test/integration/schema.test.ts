import { connectDb, closeDb } from '../../lib/db/connection';
import { migrate, loadMigrations } from '../../lib/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

const SCHEMA_SNAPSHOT_SQL = `
  SELECT table_name, column_name, data_type, is_nullable, column_default
  FROM information_schema.columns WHERE table_schema = 'public'
  ORDER BY table_name, column_name`;

describe('migrations', () => {
	let empty: TestDatabase;
	let reference: TestDatabase;

	beforeAll(async () => {
		empty = await createTestDatabase({ migrated: false });
		reference = await createTestDatabase();
	});
	afterAll(async () => {
		await empty.drop();
		await reference.drop();
	});

	it('apply from empty, then a second run applies nothing and changes nothing', async () => {
		const all = (await loadMigrations()).map((m) => `${m.version}_${m.name}`);
		const first = await migrate(empty.db);
		expect(first.applied).toEqual(all);
		const snapshot = await empty.db.any(SCHEMA_SNAPSHOT_SQL);
		const second = await migrate(empty.db);
		expect(second.applied).toEqual([]);
		expect(second.current).toBe(all[all.length - 1]);
		expect(await empty.db.any(SCHEMA_SNAPSHOT_SQL)).toEqual(snapshot);
		expect(snapshot).toEqual(await reference.db.any(SCHEMA_SNAPSHOT_SQL));
	});

	it('two processes migrating at once end with one schema and no error', async () => {
		const fresh = await createTestDatabase({ migrated: false });
		// Two pools with distinct settings are two independent sets of connections, like two n8n workers.
		const a = connectDb({ connectionString: fresh.url, max: 2, applicationName: 'migrate-a' });
		const b = connectDb({ connectionString: fresh.url, max: 2, applicationName: 'migrate-b' });
		try {
			const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
			expect([...ra.applied, ...rb.applied].sort()).toEqual((await loadMigrations()).map((m) => `${m.version}_${m.name}`));
			expect(await fresh.db.any(SCHEMA_SNAPSHOT_SQL)).toEqual(await reference.db.any(SCHEMA_SNAPSHOT_SQL));
			const versions = await fresh.db.any('SELECT version FROM schema_migrations');
			expect(versions).toHaveLength((await loadMigrations()).length);
		} finally {
			await closeDb(a);
			await closeDb(b);
			await fresh.drop();
		}
	});

	it('refuses to run when an applied migration was edited afterwards', async () => {
		await reference.db.none("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001'");
		await expect(migrate(reference.db)).rejects.toThrow(/was changed after it was applied/);
		const fixed = (await loadMigrations()).find((m) => m.version === '0001')!;
		await reference.db.none("UPDATE schema_migrations SET checksum = $1 WHERE version = '0001'", [fixed.checksum]);
	});

	it('uses NUMERIC, never floating point, for every money column', async () => {
		const floats = await reference.db.any(
			`SELECT table_name, column_name FROM information_schema.columns
			 WHERE table_schema = 'public' AND data_type IN ('real', 'double precision')`,
		);
		expect(floats).toEqual([]);
		const price = await reference.db.one(
			`SELECT data_type FROM information_schema.columns WHERE table_name = 'pricebook_materials' AND column_name = 'price'`,
		);
		expect(price.data_type).toBe('numeric');
	});
});
