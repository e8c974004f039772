import * as path from 'node:path';
import { closeDb, connectDb, type Db } from '../lib/db/connection';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../lib/db/embedded';
import { migrate } from '../lib/db/migrate';

/** The default admin connection: the machine's server; the database named is only used to connect. */
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Databases for the benchmark on one server: one migrated template, then a fresh copy of it per case
 * (CREATE DATABASE ... TEMPLATE is a file copy, far quicker than migrating each). Everything created is dropped
 * at the end; the database named in the admin URL is never written to.
 */
export class BenchDatabases {
	private readonly created: string[] = [];
	private counter = 0;
	private readonly template: string;

	private constructor(
		private readonly adminUrl: string,
		private readonly admin: Db,
		private readonly embedded: EmbeddedPostgres | null,
		private readonly prefix: string,
	) {
		this.template = `${prefix}_template`;
	}

	/** Connects to BENCH_DATABASE_URL (or the default server); starts an embedded PostgreSQL when none answers. */
	static async open(log: (line: string) => void, adminUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_ADMIN_URL): Promise<BenchDatabases> {
		const prefix = `pbbench_${Date.now().toString(36)}_${process.pid}`;
		let url = adminUrl;
		let embedded: EmbeddedPostgres | null = null;
		let admin = connectDb({ connectionString: url, max: 1, applicationName: 'pricebook-bench-admin' });
		try {
			await admin.one('SELECT 1 AS ok');
		} catch (error) {
			await closeDb(admin);
			log(`no PostgreSQL at ${describe(url)} (${error instanceof Error ? error.message : String(error)}); starting an embedded one`);
			embedded = await startEmbeddedPostgres({ persistent: false });
			url = embedded.url;
			admin = connectDb({ connectionString: url, max: 1, applicationName: 'pricebook-bench-admin' });
		}
		const dbs = new BenchDatabases(url, admin, embedded, prefix);
		await admin.none('CREATE DATABASE $1:name', [dbs.template]);
		dbs.created.push(dbs.template);
		const tdb = connectDb({ connectionString: dbs.urlOf(dbs.template), max: 1, applicationName: 'pricebook-bench-template' });
		try {
			await migrate(tdb, { dir: path.resolve(__dirname, '../../lib/db/migrations') });
		} finally {
			await closeDb(tdb);
		}
		return dbs;
	}

	private serverVersion = '';

	get server(): { version: string; embedded: boolean; target: string } {
		return { version: this.serverVersion, embedded: this.embedded !== null, target: describe(this.adminUrl) };
	}

	async describeServer(): Promise<void> {
		this.serverVersion = (await this.admin.one<{ v: string }>("SELECT current_setting('server_version') AS v")).v;
	}

	urlOf(name: string): string {
		const u = new URL(this.adminUrl);
		u.pathname = `/${name}`;
		return u.toString();
	}

	/** A fresh, migrated, empty database; returns its URL. */
	async create(label: string): Promise<string> {
		const name = `${this.prefix}_${++this.counter}_${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}`.slice(0, 63);
		await this.admin.none('CREATE DATABASE $1:name TEMPLATE $2:name', [name, this.template]);
		this.created.push(name);
		return this.urlOf(name);
	}

	async drop(url: string): Promise<void> {
		const name = new URL(url).pathname.slice(1);
		await this.admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
		const i = this.created.indexOf(name);
		if (i >= 0) this.created.splice(i, 1);
	}

	async close(): Promise<void> {
		for (const name of [...this.created].reverse()) await this.admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]).catch(() => undefined);
		this.created.length = 0;
		await closeDb(this.admin);
		await this.embedded?.stop();
	}
}

function describe(url: string): string {
	try {
		const u = new URL(url);
		return `${u.hostname}:${u.port || '5432'}`;
	} catch {
		return 'an unparseable URL';
	}
}
