import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Db } from './connection';
import { SyncFailure } from '../failures';
import { acquireLockOrFail, LockIds, MIGRATION_LOCK_WAIT_MS, releaseLock } from './locks';

export interface Migration {
	version: string;
	name: string;
	sql: string;
	checksum: string;
}

export interface MigrateResult {
	applied: string[];
	current: string | null;
}

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
	let files: string[];
	try {
		files = await fs.readdir(dir);
	} catch (error) {
		throw new Error(`Migrations folder ${dir} cannot be read (${(error as Error).message}); reinstall or rebuild the package.`);
	}
	const migrations: Migration[] = [];
	for (const file of files.sort()) {
		const match = FILE_PATTERN.exec(file);
		if (!match) continue;
		const sql = await fs.readFile(path.join(dir, file), 'utf8');
		migrations.push({
			version: match[1],
			name: match[2],
			sql,
			checksum: createHash('sha256').update(sql).digest('hex'),
		});
	}
	return migrations;
}

/**
 * A migration refused for lack of privilege (SQLSTATE 42501) is a wrong credential, not a bug: it says which role
 * may migrate, the engine's (docs/security.md, "Database roles"), so nobody retries it with Retool's login.
 */
function explainMigrationFailure(error: unknown, what: string): unknown {
	if ((error as { code?: unknown } | null)?.code !== '42501') return error;
	return new SyncFailure(
		'configuration',
		`${what} needs the engine's role (the owner of the pricebook tables, with CREATE on the schema): ${(error as Error).message}. ` +
			"Run migrations with the engine's credentials; pricebook-sync roles prints the setup.",
	);
}

/**
 * Brings the schema up to date. Safe to run again (applied versions are skipped) and from several processes at
 * once (an advisory lock serializes them; the second finds nothing left to do). Each migration runs in its own
 * transaction, so a failing one leaves the previous versions in place and nothing half-applied. Every command
 * migrates first, so the wait for the lock is bounded: a session that holds it and never lets go fails the command
 * with a message naming that session, instead of hanging every command.
 */
export async function migrate(
	db: Db,
	options: { log?: (line: string) => void; dir?: string; /** default MIGRATION_LOCK_WAIT_MS */ lockWaitMs?: number } = {},
): Promise<MigrateResult> {
	const migrations = await loadMigrations(options.dir);
	const log = options.log ?? (() => undefined);
	return db.task('migrate', async (t) => {
		await acquireLockOrFail(
			t,
			LockIds.migrate,
			'the schema migration lock',
			options.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS,
			'if it is a migration still running, wait for it to finish and run again',
		);
		try {
			// Only when missing: even CREATE TABLE IF NOT EXISTS needs CREATE on the schema, and every CLI command
			// migrates first, so `status` would fail for a role that may only read (a dashboard, a locked-down engine).
			const { exists } = await t.one<{ exists: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists");
			if (!exists) {
				await t
					.none(
						`CREATE TABLE schema_migrations (
							version TEXT PRIMARY KEY,
							name TEXT NOT NULL,
							checksum TEXT NOT NULL,
							applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
						)`,
					)
					.catch((error: unknown) => {
						throw explainMigrationFailure(error, 'Creating the schema');
					});
			}
			const rows = await t.any<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
			const known = new Map(rows.map((r) => [r.version, r.checksum]));
			for (const m of migrations) {
				const checksum = known.get(m.version);
				if (checksum !== undefined && checksum !== m.checksum) {
					throw new Error(
						`Migration ${m.version}_${m.name} was changed after it was applied to this database; ` +
							'add a new migration instead of editing an applied one.',
					);
				}
			}
			const applied: string[] = [];
			for (const m of migrations) {
				if (known.has(m.version)) continue;
				await t
					.tx(async (tx) => {
						await tx.multi(m.sql);
						await tx.none('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
					})
					.catch((error: unknown) => {
						throw explainMigrationFailure(error, `Migration ${m.version}_${m.name}`);
					});
				applied.push(`${m.version}_${m.name}`);
				log(`applied migration ${m.version}_${m.name}`);
			}
			const last = migrations.length ? migrations[migrations.length - 1] : undefined;
			return { applied, current: last ? `${last.version}_${last.name}` : null };
		} finally {
			await releaseLock(t, LockIds.migrate);
		}
	});
}
