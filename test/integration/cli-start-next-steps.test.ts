import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { lockDataFolder } from '../../cli/data-lock';
import { buildCliForTests, runCliProcess, type BuiltCli, type ProcessRun } from '../support/built-cli';

jest.setTimeout(240_000);

/**
 * `npm start` on a fresh clone, as a person runs it: real processes, no DATABASE_URL and no ST_* settings, so the
 * embedded PostgreSQL and the sandbox tenant under .data. Every command it prints as a next step must then work,
 * after it ended, against the same database and the very tenant the demo's conflict came from.
 */

/** The environment of a person without settings: none of the database or ServiceTitan variables the tests use. */
function personEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (/^(DATABASE_URL|TEST_DATABASE_URL|PRICEBOOK_TEST_EMBEDDED|ST_.*)$/.test(key)) continue;
		env[key] = value;
	}
	return { ...env, ...extra };
}

interface SandboxMaterial {
	id: number;
	code: string;
	price: number;
}

/** The materials of the sandbox tenant as `.data` keeps it between commands. */
function savedMaterials(folder: string): SandboxMaterial[] {
	const file = JSON.parse(gunzipSync(readFileSync(path.join(folder, '.data', 'sandbox-tenant.json.gz'))).toString('utf8')) as {
		tenant: { records: { materials: SandboxMaterial[] } };
	};
	return file.tenant.records.materials;
}

/** The commands a run of start printed: those listed under "Where to look next", in order. */
function nextSteps(stdout: string): string[] {
	const lines = stdout.split('\n');
	const from = lines.findIndex((line) => line.startsWith('Where to look next'));
	expect(from).toBeGreaterThan(0);
	return lines
		.slice(from + 1)
		.map((line) => /^\s+npx pricebook-sync (.+?)(?:\s{2,}.*)?$/.exec(line)?.[1])
		.filter((command): command is string => command !== undefined);
}

let cli: BuiltCli;
let folder: string;
let start: ProcessRun;
const run = (
	args: string[],
	options: { cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (text: string) => void; onSpawn?: (child: ChildProcess) => void } = {},
) => runCliProcess(cli, args, { cwd: options.cwd ?? folder, env: options.env ?? personEnv(), onStderr: options.onStderr, onSpawn: options.onSpawn });

const alive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

async function until(what: string, check: () => boolean): Promise<void> {
	for (let waited = 0; !check(); waited += 50) {
		if (waited > 60_000) throw new Error(`gave up waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

beforeAll(async () => {
	cli = buildCliForTests();
	folder = mkdtempSync(path.join(tmpdir(), 'pricebook-clone-'));
	start = await run(['start', '--items', '100']);
});

afterAll(() => {
	// A test that failed half way may have left a server running on the folder (a killed command's): stop it.
	const pidFile = folder && path.join(folder, '.data', 'postgres', 'postmaster.pid');
	const left = pidFile && existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
	if (left !== undefined && alive(left)) process.kill(left, 'SIGINT');
	for (const dir of [folder, cli?.root]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('what npm start says to do next works after it ended', () => {
	it('runs every printed command against the same database and sandbox tenant; resolving the conflict pushes to that tenant', async () => {
		expect(start.stderr).toBe('');
		expect(start.code).toBe(0);
		expect(start.stdout).toMatch(/database: embedded PostgreSQL/);
		expect(start.stdout).toMatch(/ServiceTitan: the bundled simulator as a sandbox tenant .*100 materials/);
		expect(start.stdout).toMatch(/Conflict \d+ waits for a person/);

		const steps = nextSteps(start.stdout);
		const page = /status page: (\S+)/.exec(start.stdout)?.[1] as string;
		expect(existsSync(path.join(folder, page))).toBe(true);

		// The demo's conflict: the item both sides priced differently, and the two prices.
		const code = /and (M-\d+) gets a different price on each side/.exec(start.stdout)?.[1];
		const [, stPrice, localPrice] = /price: last synced "[^"]*", ServiceTitan "([^"]+)", local "([^"]+)"/.exec(start.stdout) ?? [];
		const item = savedMaterials(folder).find((m) => m.code === code) as SandboxMaterial;
		expect(item.price).toBe(Number(stPrice));
		expect(Number(localPrice)).not.toBe(Number(stPrice));

		// What each printed command must show: its own meaningful output, not merely exit 0.
		const expectations: Record<string, (out: string) => void> = {
			status: (out) => {
				expect(out).toMatch(/^health: YELLOW \(1 materials conflict/);
				expect(out).toMatch(/materials\s+total 100, synced 99, pending 0, conflicts 1/);
			},
			conflicts: (out) => expect(out).toContain(`materials ${item.id} (${code}) open`),
			logs: (out) => {
				const [header, ...rows] = out.trim().split('\n');
				expect(header).toMatch(/^runId,kind,entityType,trigger,/);
				expect(rows.filter((r) => /^\d+,(full|incremental),\w+,start,/.test(r))).toHaveLength(8);
			},
			resolve: (out) => expect(out).toMatch(/resolved with use_local/),
			incremental: (out) => expect(out).toMatch(/materials\s+incremental: succeeded/),
		};
		for (const step of steps) {
			const args = step.split(/\s+/).map((arg) => (arg === 'use_st|use_local|merged' ? 'use_local' : arg === '<you>' ? 'ann@perfectcatch' : arg));
			const result = await run(args);
			expect({ step, code: result.code, stderr: result.stderr }).toEqual({ step, code: 0, stderr: '' });
			expectations[args[0]](result.stdout);
		}

		// Those were all the commands the output mentions anywhere (the conflict's "Resolve it" line too), resolve among them.
		const mentioned = [...start.stdout.matchAll(/npx pricebook-sync (.+?)(?=\s{2,}|\s\(|$)/gm)].map((m) => m[1]);
		expect(new Set(mentioned)).toEqual(new Set(steps));
		expect(steps.map((s) => s.split(' ')[0])).toEqual(['status', 'conflicts', 'logs', 'resolve', 'incremental']);

		// Resolved against the very tenant the conflict came from: it now holds the chosen (local) price.
		expect(savedMaterials(folder).find((m) => m.id === item.id)?.price).toBe(Number(localPrice));
		const conflicts = await run(['conflicts']);
		expect(conflicts).toMatchObject({ code: 0, stdout: 'no conflicts\n' });
		const status = await run(['status']);
		expect(status.code).toBe(0);
		expect(status.stdout).toMatch(/^health: GREEN/);
		expect(status.stdout).toMatch(/materials\s+total 100, synced 100, pending 0, conflicts 0/);
		// Each command stopped the embedded server it started and let go of the folder.
		expect(existsSync(path.join(folder, '.data', 'postgres', 'postmaster.pid'))).toBe(false);
		expect(existsSync(path.join(folder, '.data', 'lock'))).toBe(false);
	});

	it('two commands at once take turns: neither starts the cluster twice nor stops it under the other', async () => {
		// Held here first, so all three are sure to start while the folder is busy, then race for it at once.
		const held = await lockDataFolder(path.join(folder, '.data'), { command: 'test' });
		const waiting = new Set<string>();
		let ended = 0;
		const runs = ['status', 'incremental', 'conflicts'].map((command) =>
			run([command], {
				onStderr: (text) => {
					if (text.includes('waiting for pricebook-sync test')) waiting.add(command);
				},
			}).finally(() => (ended += 1)),
		);
		for (let waited = 0; waiting.size < 3 && ended < 3; waited += 50) {
			if (waited > 60_000) throw new Error(`only ${[...waiting].join(', ')} reported waiting`);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		held.release();
		const [status, incremental, conflicts] = await Promise.all(runs);
		for (const result of [status, incremental, conflicts]) {
			expect(result.code).toBe(0);
			// The one line saying whom it waits for; nothing else went wrong.
			expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^waiting for pricebook-sync test \(pid \d+/)]);
		}
		expect(status.stdout).toMatch(/^health: GREEN/);
		expect(incremental.stdout).toMatch(/materials\s+incremental: succeeded/);
		expect(conflicts.stdout).toBe('no conflicts\n');
		expect(existsSync(path.join(folder, '.data', 'postgres', 'postmaster.pid'))).toBe(false);
	});

	it('a killed command leaves nothing stuck: the next one takes over its lock and stops the server it left running', async () => {
		const data = path.join(folder, '.data');
		const pidFile = path.join(data, 'postgres', 'postmaster.pid');
		let child: ChildProcess | undefined;
		const killed = run(['incremental'], { onSpawn: (c) => (child = c) });
		// Killed once its server is up: the server outlives it, its lock names a process that is gone.
		await until('the embedded server to be ready', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').includes('ready'));
		child?.kill('SIGKILL');
		expect((await killed).code).toBe(null);
		const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
		expect(alive(orphan)).toBe(true);
		expect(existsSync(path.join(data, 'lock'))).toBe(true);

		const next = await run(['status']);
		expect(next).toMatchObject({ code: 0, stderr: '' });
		expect(next.stdout).toMatch(/^health: /);
		expect(alive(orphan)).toBe(false);
		expect(existsSync(pidFile)).toBe(false);
		expect(existsSync(path.join(data, 'lock'))).toBe(false);
	});

	it('refuses to talk to another tenant than the one the database is synced with, and says what to do', async () => {
		const realTenant = personEnv({ ST_CLIENT_ID: 'cid', ST_CLIENT_SECRET: 'secret', ST_APP_KEY: 'ak', ST_TENANT_ID: '42' });
		for (const args of [['incremental'], ['resolve', '1', '--resolution', 'use_st', '--by', 'ann'], ['start']]) {
			const refused = await run(args, { env: realTenant });
			expect({ args, code: refused.code }).toEqual({ args, code: 2 });
			expect(refused.stderr).toMatch(
				/this database is synced with the sandbox tenant \w+ .*not with ServiceTitan tenant 42 \(production\): leave the ST_\* settings unset/,
			);
		}
		// The sandbox tenant gone from .data: no fresh one stands in for it.
		const file = path.join(folder, '.data', 'sandbox-tenant.json.gz');
		renameSync(file, `${file}.away`);
		try {
			const refused = await run(['incremental']);
			expect(refused.code).toBe(2);
			expect(refused.stderr).toMatch(
				/synced with the sandbox tenant .*, and \.data holds no sandbox tenant: run the command in the folder npm start made it in/,
			);
		} finally {
			renameSync(`${file}.away`, file);
		}
		// A failure's exit code survives the embedded server's exit hook.
		const unknown = await run(['resolve', '999', '--resolution', 'use_st', '--by', 'ann']);
		expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/conflict 999 does not exist/) });
		// Elsewhere, without DATABASE_URL, there is nothing to fall back on.
		const elsewhere = mkdtempSync(path.join(tmpdir(), 'pricebook-elsewhere-'));
		try {
			const none = await run(['status'], { cwd: elsewhere });
			expect(none.code).toBe(2);
			expect(none.stderr).toMatch(/DATABASE_URL is not set, and there is no embedded database here \(\.data\/postgres/);
			expect(existsSync(path.join(elsewhere, '.data'))).toBe(false);
		} finally {
			rmSync(elsewhere, { recursive: true, force: true });
		}
	});
});
