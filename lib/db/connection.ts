import pgPromise from 'pg-promise';
import type { IBaseProtocol, IDatabase, IMain } from 'pg-promise';

export type Db = IDatabase<unknown>;

/** The pool or a task/transaction on it: for reads that work the same on either. */
export type Queryable = IBaseProtocol<unknown>;

export interface DbConfig {
	connectionString?: string;
	host?: string;
	port?: number;
	database?: string;
	user?: string;
	password?: string;
	ssl?: boolean | { rejectUnauthorized: boolean };
	/** Pool size; the engine needs at least 2 (one for the run lock, one for work). */
	max?: number;
	/** Shown in pg_stat_activity, so an operator can tell our sessions apart. */
	applicationName?: string;
}

// One pg-promise instance per process: pg-promise warns (and leaks) when several are created.
let pgpInstance: IMain | undefined;

export function pgp(): IMain {
	if (!pgpInstance) {
		// pg-promise's own duplicate check ("Creating a duplicate database object for the same connection") keys on
		// the connection string with its password masked, and in a URL without a password its mask takes
		// everything after the port's colon, database name included: two databases on one server look alike, and
		// it warns about handles that are not duplicates. connectDb keeps one handle per connection instead.
		pgpInstance = pgPromise({ capSQL: true, noWarnings: true });
		const types = pgpInstance.pg.types;
		// BIGINT (ids, counts) as numbers: ServiceTitan ids fit in 2^53; a value that does not is refused rather
		// than silently rounded.
		types.setTypeParser(20, (value: string) => {
			const n = Number(value);
			if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${value} does not fit a JavaScript number`);
			return n;
		});
		// NUMERIC stays a string (the default): money is never turned into a float.
	}
	return pgpInstance;
}

const databases = new Map<string, Db>();

/**
 * A pooled database handle. Handles are shared per connection (pg-promise expects one per connection target for
 * the life of the process): keyed by the options the pool gets, so a URL and the same URL spelled with its
 * defaults share one. Close them with closeDb.
 */
export function connectDb(config: DbConfig | string): Db {
	const cfg: DbConfig = typeof config === 'string' ? { connectionString: config } : config;
	const options = {
		connectionString: cfg.connectionString,
		host: cfg.host,
		port: cfg.port,
		database: cfg.database,
		user: cfg.user,
		password: cfg.password,
		ssl: cfg.ssl,
		max: cfg.max ?? 10,
		application_name: cfg.applicationName ?? 'pricebook-sync',
		// Fail fast when the server is unreachable instead of hanging a scheduled run.
		connectionTimeoutMillis: 10_000,
	};
	const key = JSON.stringify(options);
	const existing = databases.get(key);
	if (existing) return existing;
	const db = pgp()(options as Parameters<IMain>[0]);
	databases.set(key, db);
	return db;
}

/**
 * A small pool of its own to the same database as `db`, for work that must never wait behind `db`'s pool: the
 * ServiceTitan request budget is asked before every request, often by code that holds connections of `db` while it
 * waits for ServiceTitan, so sharing `db`'s pool could leave every connection waiting on a budget question that
 * needs one. Not shared between callers: close it with closeDb.
 */
export function sidePool(db: Db, purpose: string, max = 2): Db {
	const cn = (typeof db.$cn === 'string' ? { connectionString: db.$cn } : db.$cn) as Record<string, unknown>;
	return pgp()({ ...cn, max, application_name: `pricebook-sync ${purpose}` } as Parameters<IMain>[0]);
}

export async function closeDb(db: Db): Promise<void> {
	for (const [key, value] of databases) {
		if (value === db) databases.delete(key);
	}
	await db.$pool.end();
}

/** Describes where a configuration points without its password, for messages and logs. */
export function describeDbTarget(config: DbConfig | string): string {
	const cfg: DbConfig = typeof config === 'string' ? { connectionString: config } : config;
	if (cfg.connectionString) {
		try {
			const url = new URL(cfg.connectionString);
			return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
		} catch {
			return 'an unparseable connection string';
		}
	}
	return `${cfg.host ?? 'localhost'}:${cfg.port ?? 5432}/${cfg.database ?? ''}`;
}
