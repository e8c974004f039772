#!/usr/bin/env node
// End-to-end test against REAL n8n 2.x: installs n8n (cached outside the clone), installs our package with the
// documented `npm run n8n:install`, imports credentials and workflows, activates them, starts n8n on loopback and
// checks what the editor gets of our nodes (codex, search, Docs links), the webhooks, a conflict resolution and a
// scheduled run against real PostgreSQL and the ServiceTitan simulator. Every process it starts is stopped by pid
// (process group), also on failure.
//
//   npm run test:e2e            (env: E2E_N8N_VERSION, E2E_KEEP=1 keeps the temp folder and database,
//                                E2E_QUEUE=1 or `-- --queue`: queue mode with Redis and two workers,
//                                PGHOST/PGPORT/PGUSER/PGPASSWORD for the PostgreSQL server, default 127.0.0.1:5432 postgres)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureN8n, N8N_VERSION } from './install-n8n.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const WORKFLOW_DIR = path.join(ROOT, 'workflows');
const KEEP = process.env.E2E_KEEP === '1';
// Queue mode: n8n's own database on PostgreSQL, Redis on 127.0.0.1:6379 (REDIS_HOST/REDIS_PORT), two workers.
const QUEUE = process.env.E2E_QUEUE === '1' || process.argv.includes('--queue');
const REDIS = { host: process.env.REDIS_HOST || '127.0.0.1', port: Number(process.env.REDIS_PORT || 6379) };
const PG = {
	host: process.env.PGHOST || '127.0.0.1',
	port: Number(process.env.PGPORT || 5432),
	user: process.env.PGUSER || 'postgres',
	password: process.env.PGPASSWORD || '',
};
const ENTITY_TYPES = ['categories', 'services', 'materials', 'equipment'];
// The webhook flows' trigger: our own node, which checks the key and never outputs request headers.
const WEBHOOK_TRIGGER = `${PKG.name}.pricebookWebhook`;

const log = (msg) => console.log(`e2e: ${msg}`);
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

// ---------------------------------------------------------------- processes (tracked, killed by pid)
const live = new Map(); // pid -> { name, child }
let interrupted = false;

function start(name, cmd, args, { env, cwd, logFile } = {}) {
	if (interrupted) throw new Error(`interrupted: not starting ${name}`);
	const out = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
	const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	live.set(child.pid, { name, child });
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (d) => {
		stdout += d;
		out?.write(d);
	});
	child.stderr.on('data', (d) => {
		stderr += d;
		out?.write(d);
	});
	const exited = new Promise((resolve) => {
		child.on('close', (code, signal) => {
			live.delete(child.pid);
			out?.end();
			resolve({ code, signal, stdout, stderr });
		});
		child.on('error', (error) => {
			live.delete(child.pid);
			resolve({ code: -1, signal: null, stdout, stderr: stderr + String(error) });
		});
	});
	return { child, exited, output: () => stdout + stderr };
}

async function stop(pid, name, graceMs = 10_000) {
	const entry = live.get(pid);
	if (!entry) return;
	log(`stopping ${name} (pid ${pid})`);
	const gone = new Promise((resolve) => entry.child.once('close', resolve));
	try {
		process.kill(-pid, 'SIGTERM'); // the process group we created (detached): n8n and its task runner
	} catch {
		/* already gone */
	}
	const timer = setTimeout(() => {
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {
			/* already gone */
		}
	}, graceMs);
	await Promise.race([gone, new Promise((r) => setTimeout(r, graceMs + 2000))]);
	clearTimeout(timer);
}

async function stopAll() {
	for (const [pid, { name }] of [...live]) await stop(pid, name);
}

/** Runs a command to completion (own process group, killed on timeout). */
async function run(name, cmd, args, { env, cwd, timeoutMs = 180_000, logFile, allowFail = false } = {}) {
	const started = Date.now();
	const p = start(name, cmd, args, { env, cwd, logFile });
	const timer = setTimeout(() => {
		log(`${name}: timed out after ${timeoutMs} ms`);
		void stop(p.child.pid, name, 2000);
	}, timeoutMs);
	const r = await p.exited;
	clearTimeout(timer);
	log(`${name}: exit ${r.code ?? r.signal} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
	if (r.code !== 0 && !allowFail) {
		throw new Error(`${name} failed (${r.code ?? r.signal}):\n${(r.stdout + r.stderr).split('\n').slice(-30).join('\n')}`);
	}
	return r;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

// ---------------------------------------------------------------- checks
let passed = 0;
let failed = 0;
const failures = [];
async function check(name, fn) {
	try {
		await fn();
		passed++;
		log(`PASS ${name}`);
	} catch (error) {
		failed++;
		failures.push(name);
		log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
	}
}
function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}
const short = (v) => {
	const s = typeof v === 'string' ? v : JSON.stringify(v);
	return s.length > 400 ? `${s.slice(0, 400)}…` : s;
};

// ---------------------------------------------------------------- main
const state = { tmp: null, db: null, admin: null, sim: null, pgp: null };

async function main() {
	// 1. n8n (cached)
	const installStarted = Date.now();
	const n8n = ensureN8n();
	log(`n8n ${N8N_VERSION} ready (${((Date.now() - installStarted) / 1000).toFixed(0)} s) in ${n8n.dir}`);

	state.tmp = mkdtempSync(path.join(tmpdir(), 'pricebook-e2e-'));
	const userFolder = path.join(state.tmp, 'user');
	// What n8n's first start leaves: the install command refuses a user folder no n8n has run with.
	mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
	log(`temp folder ${state.tmp}`);

	// 2. the package, installed exactly as docs/operating.md tells an admin to (the command builds first when
	// dist/ is older than the sources, which also brings the simulator's dist/sim up to date). In queue mode the
	// workers share this user folder, so this one run serves them too.
	await run('npm run n8n:install', 'npm', ['run', 'n8n:install', '--', '--user-folder', userFolder], { cwd: ROOT, env: process.env });

	// 3. fresh database + simulator
	const pg = require('pg');
	state.admin = new pg.Client({ ...PG, database: 'postgres' });
	await state.admin.connect();
	const dbName = `pricebook_e2e_${process.pid}_${Date.now().toString(36)}`;
	await state.admin.query(`CREATE DATABASE ${dbName}`);
	state.dbName = dbName;
	if (QUEUE) {
		state.n8nDbName = `n8n_e2e_${process.pid}_${Date.now().toString(36)}`;
		await state.admin.query(`CREATE DATABASE ${state.n8nDbName}`);
		state.n8nPg = new pg.Client({ ...PG, database: state.n8nDbName });
		await state.n8nPg.connect();
		log(`queue mode: n8n database ${state.n8nDbName}, Redis ${REDIS.host}:${REDIS.port}`);
	}
	state.db = new pg.Client({ ...PG, database: dbName });
	await state.db.connect();
	log(`database ${dbName} on ${PG.host}:${PG.port}`);

	const { startSimulator } = require(path.join(ROOT, 'dist', 'sim', 'index.js'));
	state.sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 7, counts: { categories: 8, materials: 60, equipment: 20, services: 30 } });
	const sim = state.sim;
	log(`ServiceTitan simulator on ${sim.url}`);

	// 4. credentials + workflows
	const secret = randomBytes(24).toString('hex');
	const credFile = path.join(state.tmp, 'credentials.json');
	writeFileSync(
		credFile,
		JSON.stringify(
			[
				{
					id: 'PricebookDb00001',
					name: 'Pricebook Database',
					type: 'pricebookDatabase',
					data: { connectionString: '', host: PG.host, port: PG.port, database: dbName, user: PG.user, password: PG.password, ssl: 'disable' },
				},
				{
					id: 'ServiceTitan0001',
					name: 'ServiceTitan API',
					type: 'serviceTitanApi',
					data: {
						clientId: sim.clientId,
						clientSecret: sim.clientSecret,
						appKey: sim.appKey,
						tenantId: String(sim.tenantId),
						environment: 'integration',
						authUrl: sim.tokenUrl,
						apiBaseUrl: sim.apiBaseUrl,
					},
				},
				{ id: 'PricebookHook001', name: 'Pricebook Webhook Auth', type: 'httpHeaderAuth', data: { name: 'X-Pricebook-Key', value: secret } },
			],
			null,
			2,
		),
	);

	const port = await freePort();
	const baseEnv = {
		...process.env,
		PATH: `${path.dirname(n8n.nodeBin)}${path.delimiter}${process.env.PATH}`,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PORT: String(port),
		N8N_PROTOCOL: 'http',
		N8N_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		...(QUEUE
			? {
					EXECUTIONS_MODE: 'queue',
					DB_TYPE: 'postgresdb',
					DB_POSTGRESDB_HOST: PG.host,
					DB_POSTGRESDB_PORT: String(PG.port),
					DB_POSTGRESDB_USER: PG.user,
					DB_POSTGRESDB_PASSWORD: PG.password,
					DB_POSTGRESDB_DATABASE: state.n8nDbName,
					QUEUE_BULL_REDIS_HOST: REDIS.host,
					QUEUE_BULL_REDIS_PORT: String(REDIS.port),
					QUEUE_BULL_PREFIX: `pricebook-e2e-${process.pid}`,
					QUEUE_HEALTH_CHECK_ACTIVE: 'false',
				}
			: { EXECUTIONS_MODE: 'regular', DB_TYPE: 'sqlite' }),
		GENERIC_TIMEZONE: 'UTC',
		NODE_ENV: 'production',
		NODE_OPTIONS: '',
	};
	const cliLog = path.join(state.tmp, 'n8n-cli.log');
	const n8nCli = async (name, args, extraEnv = {}, opts = {}) =>
		run(`n8n ${name}`, n8n.nodeBin, [n8n.n8nBin, ...args], {
			env: { ...baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...extraEnv },
			cwd: state.tmp,
			logFile: cliLog,
			...opts,
		});

	await n8nCli('import:credentials', ['import:credentials', `--input=${credFile}`]);
	await n8nCli('import:workflow', ['import:workflow', '--separate', `--input=${WORKFLOW_DIR}`]);
	const workflows = readdirSync(WORKFLOW_DIR)
		.filter((f) => f.endsWith('.json'))
		.map((f) => JSON.parse(readFileSync(path.join(WORKFLOW_DIR, f), 'utf8')));
	for (const wf of workflows) await n8nCli(`publish:workflow ${wf.id}`, ['publish:workflow', `--id=${wf.id}`]);

	// 5. start n8n
	const base = `http://127.0.0.1:${port}`;
	const n8nLog = path.join(state.tmp, 'n8n.log');
	const startN8n = async () => {
		const proc = start('n8n start', n8n.nodeBin, [n8n.n8nBin, 'start'], {
			env: { ...baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()) },
			cwd: state.tmp,
			logFile: n8nLog,
		});
		log(`n8n start pid ${proc.child.pid}, port ${port}, log ${n8nLog}`);
		const startedAt = Date.now();
		for (;;) {
			if (!live.has(proc.child.pid)) throw new Error(`n8n exited early:\n${proc.output().split('\n').slice(-40).join('\n')}`);
			try {
				const r = await fetch(`${base}/healthz/readiness`);
				if (r.ok) break;
			} catch {
				/* not yet */
			}
			if (Date.now() - startedAt > 90_000) throw new Error(`n8n not ready after 90 s:\n${proc.output().split('\n').slice(-40).join('\n')}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		// n8n prints "Editor is now accessible" after it activated the published workflows.
		while (Date.now() - startedAt < 90_000 && !/Editor is now accessible/.test(proc.output())) {
			await new Promise((r) => setTimeout(r, 250));
		}
		await new Promise((r) => setTimeout(r, 500));
		log(`n8n ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
		return proc;
	};
	const main = await startN8n();
	const workers = [];
	if (QUEUE) {
		for (let i = 1; i <= 2; i++) {
			const w = start(`n8n worker ${i}`, n8n.nodeBin, [n8n.n8nBin, 'worker', '--concurrency=10'], {
				env: { ...baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()) },
				cwd: state.tmp,
				logFile: path.join(state.tmp, `n8n-worker-${i}.log`),
			});
			log(`n8n worker ${i} pid ${w.child.pid}`);
			workers.push(w);
		}
		const t = Date.now();
		while (!workers.every((w) => /n8n worker is now ready/.test(w.output()))) {
			if (workers.some((w) => !live.has(w.child.pid)))
				throw new Error(`a worker exited:\n${workers.map((w) => w.output().split('\n').slice(-20).join('\n')).join('\n---\n')}`);
			if (Date.now() - t > 60_000) throw new Error('workers not ready after 60 s');
			await new Promise((r) => setTimeout(r, 250));
		}
		log(`workers ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
	}

	// The schedule stand-in: a copy of the incremental workflow whose Schedule trigger fires every 20 seconds
	// (n8n 2.41's `n8n execute --id` refuses workflows without a Manual/Execute Workflow trigger). Activated
	// after the webhook checks, then n8n is restarted so the copy is picked up, like a real deployment.
	const addFastSchedule = async (proc) => {
		const wf = JSON.parse(readFileSync(path.join(WORKFLOW_DIR, 'pricebook-incremental-sync.json'), 'utf8'));
		wf.id = 'PbIncrementalE2E';
		wf.name = `${wf.name} (e2e copy: every 20 seconds)`;
		const trigger = wf.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
		trigger.parameters = { rule: { interval: [{ field: 'seconds', secondsInterval: 20 }] } };
		const file = path.join(state.tmp, 'pricebook-incremental-e2e.json');
		writeFileSync(file, JSON.stringify(wf, null, 2));
		await stop(proc.child.pid, 'n8n start');
		await n8nCli('import:workflow (fast schedule copy)', ['import:workflow', `--input=${file}`]);
		await n8nCli('publish:workflow PbIncrementalE2E', ['publish:workflow', '--id=PbIncrementalE2E']);
		return startN8n();
	};

	await checks({ n8n, n8nCli, base, secret, workflows, main, userFolder, addFastSchedule, workers });
}

// ---------------------------------------------------------------- the checks
async function n8nDb(n8n, userFolder, sql) {
	if (QUEUE) return (await state.n8nPg.query(sql)).rows;
	// Reads n8n's own SQLite database with n8n's sqlite3 (built for its Node 24).
	const script = `
		const sqlite3 = require('sqlite3');
		const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY);
		db.all(process.argv[2], (e, rows) => {
			if (e) { console.error(e.message); process.exit(1); }
			console.log(JSON.stringify(rows));
		});`;
	const r = await run('read n8n database', n8n.nodeBin, ['-e', script, path.join(userFolder, '.n8n', 'database.sqlite'), sql], {
		cwd: n8n.dir,
		env: { ...process.env, NODE_PATH: path.join(n8n.dir, 'node_modules') },
		timeoutMs: 30_000,
	});
	return JSON.parse(r.stdout.trim());
}

/**
 * Searches everything n8n stored for each needle: every row of every table of its own database (execution_entity,
 * execution_data, execution_metadata, statistics and event tables, ...), every file in its folder (the database file
 * and its journal, execution and binary data when stored on the filesystem, event logs), the logs its processes
 * printed, and in queue mode this run's Redis keys. Answers, per needle, where it was found, and what was searched.
 */
async function searchN8nStorage(n8n, userFolder, needles) {
	const found = Object.fromEntries(needles.map((n) => [n, []]));
	// A bytea column prints as hex; look for that form too.
	const forms = (needle) => [needle, Buffer.from(needle).toString('hex')];
	const searched = { tables: 0, rows: 0, files: 0, redisKeys: 0 };
	if (QUEUE) {
		const tables = (await state.n8nPg.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename);
		for (const t of tables) {
			const { rows } = await state.n8nPg.query(`SELECT row_to_json(t)::text AS row FROM "${t}" t`);
			searched.tables++;
			searched.rows += rows.length;
			for (const needle of needles) if (rows.some((r) => forms(needle).some((f) => r.row.includes(f)))) found[needle].push(`table ${t}`);
		}
	} else {
		// In one process with n8n's sqlite3 (built for its Node 24): every table, every row, blobs as text and hex.
		const script = `
			const sqlite3 = require('sqlite3');
			const needles = JSON.parse(process.argv[2]);
			const db = new sqlite3.Database(process.argv[1], sqlite3.OPEN_READONLY);
			const all = (sql) => new Promise((ok, no) => db.all(sql, (e, rows) => (e ? no(e) : ok(rows))));
			const text = (row) => JSON.stringify(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') + v.toString('hex') : v)));
			(async () => {
				const out = { tables: 0, rows: 0, hits: {} };
				for (const { name } of await all("SELECT name FROM sqlite_master WHERE type = 'table'")) {
					const rows = (await all('SELECT * FROM "' + name + '"')).map(text);
					out.tables++;
					out.rows += rows.length;
					for (const n of needles) if (rows.some((r) => r.includes(n) || r.includes(Buffer.from(n).toString('hex')))) (out.hits[n] ??= []).push('table ' + name);
				}
				console.log(JSON.stringify(out));
			})().catch((e) => { console.error(e.message); process.exit(1); });`;
		const r = await run('search n8n database', n8n.nodeBin, ['-e', script, path.join(userFolder, '.n8n', 'database.sqlite'), JSON.stringify(needles)], {
			cwd: n8n.dir,
			env: { ...process.env, NODE_PATH: path.join(n8n.dir, 'node_modules') },
			timeoutMs: 60_000,
		});
		const out = JSON.parse(r.stdout.trim());
		searched.tables = out.tables;
		searched.rows = out.rows;
		for (const [needle, places] of Object.entries(out.hits)) found[needle].push(...places);
	}
	// n8n's folder (the installed community packages under nodes/ excepted: n8n writes nothing there) and its logs.
	const files = [];
	const walk = (dir) => {
		for (const e of readdirSync(dir, { withFileTypes: true })) {
			const p = path.join(dir, e.name);
			if (e.isDirectory() && p !== path.join(userFolder, '.n8n', 'nodes')) walk(p);
			else if (e.isFile()) files.push(p);
		}
	};
	walk(path.join(userFolder, '.n8n'));
	files.push(
		...readdirSync(state.tmp)
			.filter((f) => /^n8n(-worker-\d+)?\.log$/.test(f))
			.map((f) => path.join(state.tmp, f)),
	);
	for (const file of files) {
		const content = readFileSync(file);
		searched.files++;
		for (const needle of needles) if (forms(needle).some((f) => content.includes(f))) found[needle].push(`file ${path.relative(state.tmp, file)}`);
	}
	if (QUEUE) {
		const prefix = `pricebook-e2e-${process.pid}:*`;
		searched.redisKeys = await redisEval(['EVAL', "return #redis.call('KEYS', ARGV[1])", '0', prefix]);
		for (const needle of needles) if ((await redisEval(['EVAL', REDIS_SEARCH, '0', prefix, needle])) > 0) found[needle].push('redis');
	}
	return { found, searched };
}

async function checks({ n8n, n8nCli, base, secret, workflows, main, userFolder, addFastSchedule, workers }) {
	const sim = state.sim;
	const db = state.db;
	const q = async (sql, params) => (await db.query(sql, params)).rows;

	// Real webhook URLs as n8n registered them.
	// n8n says it is ready before it has activated every published workflow (slower on a busy machine): wait for
	// all six webhook workflows to have their webhooks registered.
	const hooks = ['PbHookFull000001', 'PbHookIncrement1', 'PbHookStatus0001', 'PbHookEntity0001', 'PbHookResolve001', 'PbHookUndoRun001'];
	let rows = [];
	for (const deadline = Date.now() + 120_000; ; await sleep(1000)) {
		rows = await n8nDb(n8n, userFolder, 'SELECT "workflowId", "webhookPath", method, "webhookId", "pathLength" FROM webhook_entity');
		if (hooks.every((id) => rows.some((r) => r.workflowId === id)) || Date.now() > deadline) break;
	}
	log(
		`webhook_entity rows:\n${rows.map((r) => `    ${r.method} ${r.webhookPath}  webhookId=${r.webhookId ?? '-'} pathLength=${r.pathLength ?? '-'} workflow=${r.workflowId}`).join('\n')}`,
	);
	const urlFor = (workflowId) => {
		const row = rows.find((r) => r.workflowId === workflowId);
		if (!row) throw new Error(`no webhook registered for workflow ${workflowId}`);
		// n8n stores static paths as is; dynamic ones (with :params) as "<webhookId>/<path>" or path + webhookId.
		const p = row.webhookId && !row.webhookPath.startsWith(row.webhookId) ? `${row.webhookId}/${row.webhookPath}` : row.webhookPath;
		return `${base}/webhook/${p}`;
	};
	const urls = {
		full: urlFor('PbHookFull000001'),
		incremental: urlFor('PbHookIncrement1'),
		status: urlFor('PbHookStatus0001'),
		entity: urlFor('PbHookEntity0001'),
		resolve: urlFor('PbHookResolve001'),
	};
	for (const [k, v] of Object.entries(urls)) log(`URL ${k}: ${v}`);
	const fill = (tpl, values) => tpl.replace(/\/:(\w+)/g, (_, k) => `/${encodeURIComponent(String(values[k]))}`);

	const call = async (method, url, body, { auth = secret } = {}) => {
		const headers = {};
		if (auth !== null) headers['X-Pricebook-Key'] = auth;
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		for (let attempt = 1; ; attempt++) {
			const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
			const text = await r.text();
			let json;
			try {
				json = JSON.parse(text);
			} catch {
				json = undefined;
			}
			// The real 15-minute schedule is active too: if it happens to hold the lease, try again shortly.
			if (r.status === 409 && json?.reason === 'busy' && attempt < 5) {
				log(`  ${method} ${url}: 409 busy, retrying`);
				await new Promise((res) => setTimeout(res, 2000));
				continue;
			}
			return { status: r.status, json, text };
		}
	};
	const expectStatus = (r, status, what) => assert(r.status === status, `${what}: expected ${status}, got ${r.status} ${short(r.text)}`);
	const runCount = async () => Number((await q('SELECT count(*)::int AS n FROM sync_runs').catch(() => [{ n: 0 }]))[0].n);

	await check(
		`n8n serves the editor all ${PKG.n8n.nodes.length} nodes with their codex: its own node search finds each by "ServiceTitan" and "pricebook", each Docs link opens the docs in the repository`,
		async () => {
			const types = await editorNodeTypes(base);
			const ours = PKG.n8n.nodes.map((file) => {
				const mod = require(path.join(ROOT, file));
				return `${PKG.name}.${new mod[path.basename(file, '.node.js')]().description.name}`;
			});
			const served = ours.map((name) => types.find((t) => t.name === name));
			assert(served.every(Boolean), `n8n does not serve ${ours.filter((_, i) => !served[i]).join(', ')}`);
			// The editor's node panel search: @n8n/utils' sublimeSearch over displayName and codex.alias, from the n8n
			// under test, on what n8n serves (the editor lower-cases what was typed).
			const { sublimeSearch, DEFAULT_KEYS } = createRequire(path.join(n8n.dir, 'package.json'))('@n8n/utils/dist/search/sublime-search');
			const items = types.map((t) => ({ key: t.name, type: 'node', properties: t }));
			for (const typed of ['ServiceTitan', 'pricebook']) {
				const found = new Set(sublimeSearch(typed.toLowerCase(), items, DEFAULT_KEYS).map((r) => r.item.key));
				const missed = ours.filter((name) => !found.has(name));
				assert(missed.length === 0, `searching "${typed}" misses ${missed.join(', ')}`);
				log(`  "${typed}" lists ${found.size} of the ${types.length} node types n8n serves`);
			}
			const docs = `${PKG.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/blob/main/docs/operating.md#`;
			const badLinks = served.filter(
				(t) => !t.documentationUrl?.startsWith(docs) || t.codex?.resources?.primaryDocumentation?.[0]?.url !== t.documentationUrl,
			);
			assert(badLinks.length === 0, `Docs links not into ${docs}: ${short(badLinks.map((t) => [t.name, t.documentationUrl]))}`);
			log(`  ${served.length} nodes served with codex; categories ${short([...new Set(served.flatMap((t) => t.codex.categories))])}`);
		},
	);

	await check(`all ${workflows.length} workflows in workflows/ are published; every webhook flow has its webhook registered`, async () => {
		const ids = new Set(rows.map((r) => r.workflowId));
		for (const wf of workflows.filter((w) => w.nodes.some((n) => n.type === WEBHOOK_TRIGGER))) assert(ids.has(wf.id), `${wf.id} has no registered webhook`);
		const out = main.output();
		assert(
			!/problem loading|Unrecognized node type|Unknown node type/i.test(out),
			`n8n log reports node loading problems:\n${short(out.match(/.*(problem|Unrecognized|Unknown node).*/i)?.[0] ?? '')}`,
		);
	});

	// The Pricebook Webhook trigger answers 403 itself, with a JSON error naming the header, and starts no execution.
	await check('without X-Pricebook-Key (or with a wrong one) every webhook answers 403 and runs nothing', async () => {
		const before = await runCount();
		const hookExecutions = async () =>
			Number(
				(await n8nDb(n8n, userFolder, `SELECT count(*) AS n FROM execution_entity WHERE "workflowId" IN (${hooks.map((h) => `'${h}'`).join(', ')})`))[0]
					.n,
			);
		const executionsBefore = await hookExecutions();
		for (const [method, url, body] of [
			['POST', urls.full, { entityType: 'all' }],
			['POST', urls.incremental, { entityType: 'materials' }],
			['GET', urls.status, undefined],
			['POST', fill(urls.entity, { type: 'materials', id: 1 }), {}],
			['POST', fill(urls.resolve, { id: 1 }), { resolution: 'use_st', resolvedBy: 'x' }],
		]) {
			const r = await call(method, url, body, { auth: null });
			expectStatus(r, 403, `${method} ${url} without header`);
			assert(/X-Pricebook-Key header is missing/.test(r.json?.error ?? ''), `403 body: ${short(r.text)}`);
		}
		for (const auth of ['wrong-secret', secret.slice(0, -1), `${secret}0`]) {
			const wrong = await call('GET', urls.status, undefined, { auth });
			expectStatus(wrong, 403, 'wrong key');
			assert(/does not match/.test(wrong.json?.error ?? ''), `403 body: ${short(wrong.text)}`);
		}
		assert((await runCount()) === before, 'a sync run was recorded for an unauthenticated call');
		const executionsAfter = await hookExecutions();
		assert(executionsAfter === executionsBefore, `n8n started ${executionsAfter - executionsBefore} webhook executions for refused calls`);
	});

	await check('POST full {entityType: all} answers 200 with 4 succeeded results and fills the database', async () => {
		const r = await call('POST', urls.full, { entityType: 'all', dryRun: false, confirmMassDelete: false });
		expectStatus(r, 200, 'full');
		const results = r.json?.results;
		assert(Array.isArray(results) && results.length === 4, `expected 4 results, got ${short(r.json)}`);
		assert(
			results.every((x) => x.success === true && x.status === 'succeeded'),
			`not all succeeded: ${short(results)}`,
		);
		assert(
			ENTITY_TYPES.every((t) => results.some((x) => x.entityType === t)),
			'an entity type is missing',
		);
		const [{ n }] = await q('SELECT count(*)::int AS n FROM pricebook_materials');
		assert(n === sim.control.listIds('materials').length, `pricebook_materials has ${n} rows, ST has ${sim.control.listIds('materials').length}`);
	});

	await check('GET status answers 200 with the sync status', async () => {
		const r = await call('GET', urls.status);
		expectStatus(r, 200, 'status');
		assert(r.json && typeof r.json === 'object' && 'conflicts' in r.json, `no conflicts in ${short(r.json)}`);
	});

	await check('POST incremental with a bad entityType answers 400 naming entityType', async () => {
		const r = await call('POST', urls.incremental, { entityType: 'widgets' });
		expectStatus(r, 400, 'incremental bad type');
		assert(r.json?.field === 'entityType', `field: ${short(r.json)}`);
	});

	await check('POST incremental with an unknown field answers 400 naming it', async () => {
		const r = await call('POST', urls.incremental, { entityType: 'materials', colour: 'red' });
		expectStatus(r, 400, 'incremental unknown field');
		assert(r.json?.field === 'colour', `field: ${short(r.json)}`);
	});

	const materialId = sim.control.listIds('materials')[5];
	await check(`POST entity/materials/${materialId} answers 200 with one result`, async () => {
		const r = await call('POST', fill(urls.entity, { type: 'materials', id: materialId }), {});
		expectStatus(r, 200, 'entity');
		assert(Array.isArray(r.json?.results) && r.json.results.length === 1 && r.json.results[0].success === true, short(r.json));
	});

	await check('POST entity with a bad type / id answers 400 naming type / id', async () => {
		const a = await call('POST', fill(urls.entity, { type: 'widgets', id: materialId }), {});
		expectStatus(a, 400, 'entity bad type');
		assert(a.json?.field === 'type', `field: ${short(a.json)}`);
		const b = await call('POST', fill(urls.entity, { type: 'materials', id: 'abc' }), {});
		expectStatus(b, 400, 'entity bad id');
		assert(b.json?.field === 'id', `field: ${short(b.json)}`);
	});

	await check('POST entity for an item that exists nowhere answers 404', async () => {
		const r = await call('POST', fill(urls.entity, { type: 'materials', id: 987654321 }), {});
		expectStatus(r, 404, 'entity unknown');
	});

	// A conflict: changed in ServiceTitan and locally (as Retool would, a plain UPDATE), then an incremental sync.
	let conflictId;
	await check('POST incremental after edits on both sides answers 200 and opens a conflict', async () => {
		sim.control.advanceClock(60_000);
		sim.control.updateItem('materials', materialId, { price: 11, description: 'ST description' });
		await q('UPDATE pricebook_materials SET price = 12.5, cost = 3.25 WHERE id = $1', [materialId]);
		const r = await call('POST', urls.incremental, { entityType: 'materials' });
		expectStatus(r, 200, 'incremental');
		assert(r.json.results?.[0]?.conflictsDetected === 1, `conflictsDetected: ${short(r.json)}`);
		const open = await q('SELECT conflict_id FROM pricebook_open_conflicts_v WHERE entity_id = $1', [materialId]);
		assert(open.length === 1, `open conflicts for ${materialId}: ${open.length}`);
		conflictId = Number(open[0].conflict_id);
	});

	await check('Retool resolve: POST resolve-conflict/:id {use_st} answers 200 resolved; DB and ST agree', async () => {
		assert(conflictId, 'no conflict to resolve');
		const bad = await call('POST', fill(urls.resolve, { id: conflictId }), { resolution: 'keep_both', resolvedBy: 'ann@perfectcatch' });
		expectStatus(bad, 400, 'resolve bad resolution');
		assert(bad.json?.field === 'resolution', `field: ${short(bad.json)}`);
		const noBy = await call('POST', fill(urls.resolve, { id: conflictId }), { resolution: 'use_st' });
		expectStatus(noBy, 400, 'resolve without resolvedBy');
		assert(noBy.json?.field === 'resolvedBy', `field: ${short(noBy.json)}`);
		const r = await call('POST', fill(urls.resolve, { id: conflictId }), { resolution: 'use_st', resolvedBy: 'ann@perfectcatch' });
		expectStatus(r, 200, 'resolve');
		assert(r.json?.result?.status === 'resolved', `result: ${short(r.json)}`);
		const [c] = await q('SELECT status, resolution, resolved_by FROM sync_conflicts WHERE id = $1', [conflictId]);
		assert(c.status === 'resolved' && c.resolution === 'use_st' && c.resolved_by === 'ann@perfectcatch', `conflict row ${short(c)}`);
		const [m] = await q('SELECT price::text AS price, has_conflict FROM pricebook_materials WHERE id = $1', [materialId]);
		assert(Number(m.price) === 11 && m.has_conflict === false, `material row ${short(m)}`);
		const again = await call('POST', fill(urls.resolve, { id: conflictId }), { resolution: 'use_local', resolvedBy: 'bob@perfectcatch' });
		expectStatus(again, 200, 'resolve again');
		assert(again.json?.result?.status === 'already_resolved', `second resolve: ${short(again.json)}`);
	});

	await check('POST resolve-conflict for an unknown conflict answers 404', async () => {
		const r = await call('POST', fill(urls.resolve, { id: 987654 }), { resolution: 'use_st', resolvedBy: 'ann@perfectcatch' });
		expectStatus(r, 404, 'resolve unknown');
	});

	await check('n8n recorded every webhook execution as success (none error/crashed)', async () => {
		// The answer can reach us before the execution is saved as finished (in queue mode the worker saves it).
		let ex = [];
		for (const deadline = Date.now() + 20_000; ;) {
			ex = await n8nDb(n8n, userFolder, 'SELECT id, "workflowId", status, mode FROM execution_entity ORDER BY id');
			if (!ex.some((e) => e.status === 'running' || e.status === 'new') || Date.now() > deadline) break;
			await new Promise((r) => setTimeout(r, 500));
		}
		log(`  executions: ${ex.length} (${[...new Set(ex.map((e) => `${e.mode}/${e.status}`))].join(', ')})`);
		assert(ex.length >= 10, `only ${ex.length} executions recorded`);
		const bad = ex.filter((e) => e.status !== 'success');
		assert(bad.length === 0, `not successful: ${short(bad)}`);
	});

	// Scheduled run. Waiting for the 15-minute schedule would take too long, and `n8n execute --id` cannot start a
	// workflow whose only trigger is a Schedule trigger in n8n 2.41 ("Missing node to start execution"). Stand-in:
	// an active copy of the incremental workflow with the Schedule trigger set to every 20 seconds, fired by n8n's
	// own scheduler.
	await check(
		'a schedule-triggered incremental run (20-second copy of the 15-minute workflow) writes succeeded sync_runs rows with trigger = schedule',
		async () => {
			const [{ now }] = await q('SELECT now() AS now');
			sim.control.advanceClock(60_000);
			const changed = sim.control.listIds('materials')[7];
			sim.control.updateItem('materials', changed, { price: 42 });
			state.main = await addFastSchedule(main);
			const deadline = Date.now() + 75_000;
			let runs = [];
			while (Date.now() < deadline) {
				runs = await q(
					"SELECT entity_type, status, kind, trigger, items_synced FROM sync_runs WHERE trigger = 'schedule' AND kind = 'incremental' AND started_at >= $1 AND status <> 'running' ORDER BY id",
					[now],
				);
				if (ENTITY_TYPES.every((t) => runs.some((x) => x.entity_type === t && x.status === 'succeeded'))) break;
				await new Promise((r) => setTimeout(r, 1000));
			}
			log(`  schedule runs: ${short(runs)}`);
			for (const t of ENTITY_TYPES)
				assert(
					runs.some((x) => x.entity_type === t && x.status === 'succeeded'),
					`no succeeded incremental schedule run for ${t}`,
				);
			assert(
				runs.some((x) => x.entity_type === 'materials' && x.items_synced >= 1),
				'the ServiceTitan change was not synced',
			);
			const [m] = await q('SELECT price::text AS price FROM pricebook_materials WHERE id = $1', [changed]);
			assert(Number(m.price) === 42, `material ${changed} price ${m.price}`);
			const ex = await n8nDb(n8n, userFolder, `SELECT status, mode FROM execution_entity WHERE "workflowId" = 'PbIncrementalE2E'`);
			log(`  n8n executions of the copy: ${short(ex)}`);
			assert(
				ex.some((e) => e.mode === 'trigger' && e.status === 'success'),
				'no successful trigger-mode execution in n8n',
			);
		},
	);

	if (QUEUE) {
		await check('queue mode: the executions ran on the workers', async () => {
			const counts = workers.map((w) => (w.output().match(/Worker finished execution/g) ?? []).length);
			log(`  executions finished per worker: ${counts.join(', ')}`);
			const ex = await n8nDb(n8n, userFolder, 'SELECT count(*)::int AS n FROM execution_entity');
			assert(counts.reduce((a, b) => a + b, 0) >= ex[0].n, `workers finished ${counts.join('+')} of ${ex[0].n} executions`);
		});
	}

	// Issue 20: a step that fails mid-run must mark its run failed at once. The 20-second copy keeps firing; from now
	// on ServiceTitan answers 503 to every materials export request (the client's own retries included), so the next
	// execution fails at ST Fetch Page after categories and services were read. Then the run must be failed with
	// that cause, its lease free, status red (webhook and CLI), the n8n execution failed, and a run of materials
	// right after must not be answered busy. About 20 to 50 s: the next tick, then the client's retry backoff.
	await check(
		'a ServiceTitan 503 mid-run fails its run at once: cause recorded, lease free, status red, execution failed, the next run not busy',
		async () => {
			const began = Date.now();
			const [{ now }] = await q('SELECT now() AS now');
			sim.control.setFaults({ next: [{ match: { path: '/export/materials' }, action: { kind: 'status', status: 503 }, times: 100_000 }] });
			try {
				let failedRun;
				for (const deadline = Date.now() + 120_000; !failedRun && Date.now() < deadline; await sleep(500)) {
					[failedRun] = await q(
						`SELECT id, error, details ->> 'failureKind' AS failure_kind FROM sync_runs
					 WHERE entity_type = 'materials' AND trigger = 'schedule' AND status = 'failed' AND started_at >= $1 ORDER BY id LIMIT 1`,
						[now],
					);
				}
				assert(failedRun, 'no scheduled materials run was recorded failed within 120 s');
				log(`  run ${failedRun.id} failed: ${short(failedRun.error)}`);
				assert(/503/.test(failedRun.error) && failedRun.failure_kind === 'st_unavailable', `cause: ${short(failedRun)}`);
				const [lease] = await q("SELECT lease_run_id FROM sync_state WHERE entity_type = 'materials'");
				assert(lease.lease_run_id !== failedRun.id, `run ${failedRun.id} still holds the materials lease`);

				const status = await call('GET', urls.status);
				expectStatus(status, 200, 'status');
				const red = (s) => s?.health === 'red' && s.materials?.lastRunStatus === 'failed' && /503/.test(s.materials?.lastRunError ?? '');
				assert(red(status.json), `status webhook: ${short({ health: status.json?.health, materials: status.json?.materials })}`);
				const user = PG.password ? `${encodeURIComponent(PG.user)}:${encodeURIComponent(PG.password)}` : encodeURIComponent(PG.user);
				const cli = await run('pricebook-sync status --json', process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), 'status', '--json'], {
					cwd: state.tmp,
					env: { ...process.env, DATABASE_URL: `postgres://${user}@${PG.host}:${PG.port}/${state.dbName}` },
					timeoutMs: 60_000,
				});
				assert(red(JSON.parse(cli.stdout)), `pricebook-sync status: ${short(cli.stdout)}`);

				// The failed execution may still be finishing its other branches (their ServiceTitan calls retry with backoff)
				// when the run is already recorded failed; n8n saves it when it ends.
				let execution = [];
				for (const deadline = Date.now() + 90_000; execution.length === 0 && Date.now() < deadline; await sleep(1000)) {
					execution = await n8nDb(
						n8n,
						userFolder,
						`SELECT id, status FROM execution_entity WHERE "workflowId" = 'PbIncrementalE2E' AND status = 'error'`,
					);
				}
				assert(execution.length > 0, 'n8n shows no failed execution of the scheduled workflow within 90 s');

				// At once, the next run of materials is not busy: with ServiceTitan well again, the webhook's run succeeds.
				// (A scheduled run started meanwhile may hold the type for a moment; call() tries a busy answer again.)
				sim.control.clearFaults();
				const again = await call('POST', urls.incremental, { entityType: 'materials' });
				expectStatus(again, 200, 'incremental right after the failure');
				log(`  failed, checked and run again in ${((Date.now() - began) / 1000).toFixed(1)} s`);
			} finally {
				sim.control.clearFaults();
			}
		},
	);

	// Last, so every webhook execution above is in what is searched. A marker sent in a request body (which the
	// trigger passes on) must be found in execution_data: that proves the search reaches what n8n saved. The key
	// sent with the same request (and with every call above) must be found nowhere.
	await check("the webhook key is nowhere in n8n's database, folder, logs or Redis; a body marker of the same call is in execution_data", async () => {
		const marker = `probe-${randomBytes(8).toString('hex')}`;
		const probe = await call('POST', urls.incremental, { entityType: 'materials', [marker]: marker });
		expectStatus(probe, 400, 'probe with an unknown field');
		// Wait until n8n has saved the probe's execution (in queue mode the worker saves it).
		for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(500)) {
			const ex = await n8nDb(n8n, userFolder, `SELECT status FROM execution_entity WHERE "workflowId" = 'PbHookIncrement1' ORDER BY id DESC LIMIT 1`);
			if (ex[0] && !['new', 'running'].includes(ex[0].status)) break;
		}
		const { found, searched } = await searchN8nStorage(n8n, userFolder, [secret, marker]);
		log(`  searched ${searched.tables} tables (${searched.rows} rows), ${searched.files} files${QUEUE ? `, ${searched.redisKeys} Redis keys` : ''}`);
		log(`  body marker found in: ${found[marker].join(', ') || 'nowhere'}`);
		assert(searched.rows > 0 && searched.files > 0, 'nothing was searched');
		assert(
			found[marker].includes('table execution_data'),
			`the body marker is not in execution_data (found in: ${found[marker].join(', ') || 'nowhere'}): the search misses where n8n saves executions`,
		);
		assert(found[secret].length === 0, `the webhook key was found in: ${found[secret].join(', ')}`);
	});
}

/**
 * The node types n8n serves its editor (/types/nodes.json, the descriptions with their codex), fetched as the
 * editor does: signed in, here as the owner this run sets up on its fresh instance.
 */
async function editorNodeTypes(base) {
	const setup = await fetch(`${base}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', 'browser-id': 'pricebook-e2e' },
		body: JSON.stringify({ email: 'owner@pricebook-e2e.invalid', firstName: 'E2e', lastName: 'Owner', password: `E2e${randomBytes(8).toString('hex')}9` }),
	});
	const cookie = setup.headers.getSetCookie().find((c) => c.startsWith('n8n-auth='));
	assert(setup.ok && cookie, `owner setup: ${setup.status} ${short(await setup.text())}`);
	const r = await fetch(`${base}/types/nodes.json`, { headers: { cookie: cookie.split(';')[0], 'browser-id': 'pricebook-e2e' } });
	assert(r.ok, `/types/nodes.json: ${r.status}`);
	return r.json();
}

/** One EVAL over a bare RESP connection (no client library needed); answers its integer reply. */
function redisEval(args) {
	const cmd = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
	return new Promise((resolve, reject) => {
		const sock = net.connect(REDIS.port, REDIS.host, () => sock.write(cmd));
		sock.setTimeout(5000, () => sock.destroy(new Error('redis timeout')));
		sock.once('data', (d) => {
			sock.end();
			const text = d.toString();
			text.startsWith('-') ? reject(new Error(text.trim())) : resolve(Number(text.slice(1)));
		});
		sock.once('error', reject);
	});
}

/** How many values of the keys matching ARGV[1] contain ARGV[2] (plain find, not a pattern). */
const REDIS_SEARCH = `local n = 0
for _, k in ipairs(redis.call('KEYS', ARGV[1])) do
	local t = redis.call('TYPE', k).ok
	local vs = {}
	if t == 'string' then vs = { redis.call('GET', k) }
	elseif t == 'hash' then vs = redis.call('HGETALL', k)
	elseif t == 'list' then vs = redis.call('LRANGE', k, 0, -1)
	elseif t == 'set' then vs = redis.call('SMEMBERS', k)
	elseif t == 'zset' then vs = redis.call('ZRANGE', k, 0, -1) end
	for _, v in ipairs(vs) do if string.find(v, ARGV[2], 1, true) then n = n + 1 end end
end
return n`;

/** Deletes this run's Bull keys from Redis. */
function redisDeletePrefix(prefix) {
	return redisEval(['EVAL', "local k = redis.call('KEYS', ARGV[1]) for i = 1, #k do redis.call('DEL', k[i]) end return #k", '0', `${prefix}:*`]);
}

async function cleanup() {
	await stopAll();
	if (QUEUE) {
		try {
			log(`deleted ${await redisDeletePrefix(`pricebook-e2e-${process.pid}`)} Redis keys`);
		} catch (e) {
			log(`redis cleanup: ${e.message}`);
		}
	}
	try {
		await state.sim?.stop();
	} catch (e) {
		log(`simulator stop: ${e.message}`);
	}
	try {
		await state.db?.end();
	} catch {
		/* ignore */
	}
	if (state.admin) {
		try {
			await state.n8nPg?.end().catch(() => {});
			if (state.dbName && !KEEP) await state.admin.query(`DROP DATABASE IF EXISTS ${state.dbName} WITH (FORCE)`);
			if (state.n8nDbName && !KEEP) await state.admin.query(`DROP DATABASE IF EXISTS ${state.n8nDbName} WITH (FORCE)`);
			await state.admin.end();
		} catch (e) {
			log(`drop database: ${e.message}`);
		}
	}
	if (state.tmp) {
		if (KEEP || failed > 0) log(`kept ${state.tmp} (logs: n8n.log, n8n-cli.log)`);
		else rmSync(state.tmp, { recursive: true, force: true });
	}
}

for (const sig of ['SIGINT', 'SIGTERM']) {
	process.on(sig, () => {
		if (interrupted) return;
		interrupted = true;
		log(`${sig}: cleaning up`);
		failed++;
		failures.push(sig);
		void cleanup().then(() => {
			console.log(`e2e: ${passed} passed, ${failed} failed`);
			process.exit(130);
		});
	});
}

try {
	await main();
} catch (error) {
	failed++;
	failures.push('setup');
	log(`ERROR ${error instanceof Error ? error.stack || error.message : String(error)}`);
} finally {
	await cleanup();
}
log(`finished in ${elapsed()}${failures.length ? `; failed: ${failures.join(' | ')}` : ''}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
