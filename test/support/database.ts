import { randomBytes } from 'node:crypto';
import { closeDb, connectDb, type Db } from '../../lib/db/connection';
import { migrate } from '../../lib/db/migrate';

export interface TestDatabase {
	db: Db;
	url: string;
	name: string;
	drop(): Promise<void>;
}

function serverUrl(): string {
	const url = process.env.TEST_DATABASE_URL;
	if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (its global setup provides a server).');
	return url;
}

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

/**
 * A fresh database of its own for one test file, so files run in parallel and in any order. Migrated unless
 * `migrated: false`.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
	const name = `pbtest_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	// An admin handle of its own (distinct application name), so dropping one test database never closes
	// the handle another one in the same file still needs.
	const admin = connectDb({ connectionString: serverUrl(), max: 1, applicationName: `admin-${name}` });
	await admin.none('CREATE DATABASE $1:name', [name]);
	const url = withDatabase(serverUrl(), name);
	const db = connectDb({ connectionString: url, max: 8 });
	if (options.migrated !== false) await migrate(db);
	return {
		db,
		url,
		name,
		drop: async () => {
			await closeDb(db);
			// pg-pool's end() resolves before the server has seen every idle connection close; a forced drop
			// racing those would kill them and surface as an unhandled client error. Wait for them first.
			for (let i = 0; i < 100; i++) {
				const { n } = await admin.one<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
				if (n === 0) break;
				await new Promise((resolve) => setTimeout(resolve, 20));
			}
			await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
			await closeDb(admin);
		},
	};
}
