import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closeDb, connectDb, type Db } from '../../lib/db/connection';
import { loadMigrations, migrate } from '../../lib/db/migrate';

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

export interface TestDatabaseOptions {
	migrated?: boolean;
	/**
	 * Migrated only up to this version, excluded (e.g. '0012'): a database as it was before that migration, to hold
	 * rows it would refuse; `migrate(db)` applies the rest later, as an upgrade would.
	 */
	migratedBefore?: string;
}

/** Migrates `db` with the migrations older than `version` only (copied to a folder of their own). */
async function migrateBefore(db: Db, version: string): Promise<void> {
	const dir = await fs.mkdtemp(path.join(tmpdir(), 'pb-migrations-'));
	try {
		for (const m of await loadMigrations()) {
			if (m.version < version) await fs.writeFile(path.join(dir, `${m.version}_${m.name}.sql`), m.sql);
		}
		await migrate(db, { dir });
	} finally {
		await fs.rm(dir, { recursive: true, force: true });
	}
}

/**
 * A fresh database of its own for one test file, so files run in parallel and in any order. Migrated unless
 * `migrated: false`.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
	const name = `pbtest_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	// An admin handle of its own (distinct application name), so dropping one test database never closes
	// the handle another one in the same file still needs.
	const admin = connectDb({ connectionString: serverUrl(), max: 1, applicationName: `admin-${name}` });
	await admin.none('CREATE DATABASE $1:name', [name]);
	const url = withDatabase(serverUrl(), name);
	const db = connectDb({ connectionString: url, max: 8 });
	if (options.migratedBefore !== undefined) await migrateBefore(db, options.migratedBefore);
	else if (options.migrated !== false) await migrate(db);
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
