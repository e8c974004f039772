import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { closeDb, connectDb, type Db } from '../../lib/db/connection';
import { canonicalFromRow, canonicalFromSt, differingFields } from '../../lib/entities/canonical';
import { materials } from '../../lib/entities/definitions';
import { compareStTimestamps } from '../../lib/servicetitan/timestamps';
import type { StRecord } from '../../lib/servicetitan/types';
import { createRng, randInt } from '../../sim/random';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';
import { publishFigures } from './model/figures';

/**
 * Concurrency and crashes with real operating-system processes: the built command line (dist/cli/main.js), run
 * as an operator or cron would, against a real PostgreSQL and the simulator over HTTP; killed with SIGKILL and
 * cut off from PostgreSQL mid-run.
 */
const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
jest.setTimeout(20 * 60_000);

const figures = { concurrentRuns: 0, busyAnswers: 0, editsDuringFullSync: 0, sigkills: 0, killedMidRun: 0, connectionDrops: 0, itemsInLargestSync: 0 };
afterAll(() => publishFigures('processes', figures));

beforeAll(() => {
	if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run test:reliability does)`);
});

let h: SyncHarness;
/** The test's own sessions, named apart from the CLI's ('pricebook-sync'), so cutting those off spares these. */
let db: Db;
afterEach(async () => {
	await closeDb(db);
	await h?.close();
});

async function open(counts: Partial<Record<'materials' | 'categories' | 'services' | 'equipment', number>>, latencyMs = 0): Promise<void> {
	h = await startHarness({ sim: { counts: { categories: 0, services: 0, equipment: 0, materials: 0, ...counts }, faults: { latencyMs } } });
	db = connectDb({ connectionString: h.t.url, max: 4, applicationName: 'reliability-observer' });
}

interface Exit {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

function cli(args: string[]): { child: ChildProcess; done: Promise<Exit> } {
	const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...h.env }, stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stdout!.on('data', (d) => (stdout += d));
	child.stderr!.on('data', (d) => (stderr += d));
	const done = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
	return { child, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(25);
	}
}

/** The newest run still marked running (a killed run stays so until the next run takes over and marks it failed). */
const runningRun = (afterId = 0) =>
	db.oneOrNone<{ id: number; pages_read: number }>(
		"SELECT id, pages_read FROM sync_runs WHERE status = 'running' AND entity_type = 'materials' AND id > $1 ORDER BY id DESC LIMIT 1",
		[afterId],
	);
const lastRunId = async () => (await db.one<{ id: number }>('SELECT coalesce(max(id), 0)::int AS id FROM sync_runs')).id;

async function stMaterials(): Promise<StRecord[]> {
	const out: StRecord[] = [];
	for await (const page of h.client.iteratePages('materials', { active: 'Any', pageSize: 5000 })) out.push(...(page.data as StRecord[]));
	return out;
}

/** Local and ServiceTitan agree on every item outside an open conflict; returns what does not. */
async function disagreements(): Promise<string[]> {
	const st = await stMaterials();
	const rows = new Map((await db.any('SELECT * FROM pricebook_materials')).map((r) => [Number(r.id), r]));
	const inConflict = new Set((await db.any("SELECT entity_id FROM sync_conflicts WHERE status = 'open'")).map((c) => Number(c.entity_id)));
	const out: string[] = [];
	for (const record of st) {
		if (inConflict.has(record.id)) continue;
		const row = rows.get(record.id);
		if (!row || row.deleted_at) out.push(`${record.id} missing locally`);
		else if (differingFields(materials, canonicalFromRow(materials, row), canonicalFromSt(materials, record)).length > 0) out.push(`${record.id} differs`);
		else if (row.sync_status !== 'synced') out.push(`${record.id} is ${row.sync_status}`);
	}
	const stIds = new Set(st.map((r) => r.id));
	for (const [id, row] of rows) if (!stIds.has(id) && !inConflict.has(id) && !row.deleted_at) out.push(`${id} deleted in ST but live locally`);
	return out;
}

describe('real processes', () => {
	it('ten concurrent runs of one entity type: one applies, the others answer busy, nothing is applied twice', async () => {
		// ServiceTitan answers slowly, so the first run is still going while the other nine start.
		await open({ materials: 300 }, 2500);
		const runs = Array.from({ length: 10 }, () => cli(['full', '--entity', 'materials', '--json']));
		const exits = await Promise.all(runs.map((r) => r.done));
		const statuses = exits.map((e) => JSON.parse(e.stdout).results[0].status as string);
		expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(1);
		expect(statuses.filter((s) => s === 'busy')).toHaveLength(9);
		// Busy is its own exit code (3), with a message that says to try again.
		for (const e of exits.filter((x) => x.stdout.includes('"busy"'))) expect(e.code).toBe(3);
		const created = await db.one<{ n: number; distinct: number }>(
			"SELECT count(*)::int AS n, count(DISTINCT entity_id)::int AS distinct FROM sync_change_log WHERE action = 'created'",
		);
		expect(created).toEqual({ n: 300, distinct: 300 });
		expect(await db.one("SELECT count(*)::int AS n FROM sync_runs WHERE status = 'busy'")).toEqual({ n: 9 });
		figures.concurrentRuns += 10;
		figures.busyAnswers += 9;
	});

	it('twenty Retool edits during a full sync of 50,000 items are none of them lost', async () => {
		await open({ materials: 50_000 });
		const ids = h.sim.control.listIds('materials');
		const first = cli(['full', '--entity', 'materials', '--json']);
		expect((await first.done).code).toBe(0);
		// Items the second full sync has not reached yet, and items it has passed: both must keep their edit.
		const rng = createRng(20261125);
		const targets = Array.from({ length: 20 }, (_, i) => ids[(i * 2477 + randInt(rng, 0, 2000)) % ids.length]);
		const second = cli(['full', '--entity', 'materials', '--json']);
		await until(async () => ((await runningRun())?.pages_read ?? 0) >= 1, 'the full sync to apply its first page');
		let duringRun = 0;
		for (const [i, id] of targets.entries()) {
			await retoolUpdate({ ...h.t, db }, 'pricebook_materials', id, { price: 1000 + i, description: `Edited in Retool during the run #${i} 🐟` });
			if (await runningRun()) duringRun += 1;
			await sleep(40);
		}
		const exit = await second.done;
		expect(exit.code).toBe(0);
		// The run lasted long enough that the edits really happened while it applied pages.
		expect(duringRun).toBeGreaterThanOrEqual(10);
		// Each edit is either already in ServiceTitan or still pending; the next run pushes the rest.
		for (const [i, id] of targets.entries()) {
			const row = await db.one('SELECT price, description, sync_status FROM pricebook_materials WHERE id = $1', [id]);
			expect({ id, price: row.price, description: row.description }).toEqual({
				id,
				price: String(1000 + i),
				description: `Edited in Retool during the run #${i} 🐟`,
			});
		}
		expect((await cli(['incremental', '--entity', 'materials', '--json']).done).code).toBe(0);
		for (const [i, id] of targets.entries()) expect({ id, price: h.sim.control.getItem('materials', id)!.price }).toEqual({ id, price: 1000 + i });
		expect(await disagreements()).toEqual([]);
		figures.editsDuringFullSync += duringRun;
		figures.itemsInLargestSync = Math.max(figures.itemsInLargestSync, ids.length);
	});

	it('a full sync killed with SIGKILL twenty times at random moments: every re-run converges, no loss, no duplicate conflict, cursor right', async () => {
		await open({ materials: 20_000 });
		expect((await cli(['full', '--entity', 'materials', '--json']).done).code).toBe(0);
		const ids = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		// Work for the killed runs: both-sides edits (conflicts), local-only edits (pushes), ST-only edits and deletes.
		const both = ids.slice(100, 110);
		const localOnly = ids.slice(5000, 5020);
		const stOnly = ids.slice(10_000, 10_020);
		const deleted = ids.slice(15_000, 15_002);
		for (const id of both) {
			h.sim.control.updateItem('materials', id, { price: 303 });
			await retoolUpdate({ ...h.t, db }, 'pricebook_materials', id, { price: 333 });
		}
		for (const id of localOnly) await retoolUpdate({ ...h.t, db }, 'pricebook_materials', id, { price: 444 });
		for (const id of stOnly) h.sim.control.updateItem('materials', id, { description: 'Changed in ServiceTitan' });
		for (const id of deleted) h.sim.control.deleteItem('materials', id);

		const rng = createRng(7);
		for (let kill = 0; kill < 20; kill++) {
			const before = await lastRunId();
			const run = cli(['full', '--entity', 'materials', '--json']);
			await until(async () => (await runningRun(before)) !== null || run.child.exitCode !== null, 'the run to start');
			await sleep(randInt(rng, 0, 1500));
			const wasRunning = run.child.exitCode === null;
			run.child.kill('SIGKILL');
			const exit = await run.done;
			if (wasRunning && exit.signal === 'SIGKILL') figures.killedMidRun += 1;
			figures.sigkills += 1;
			// After every kill: no open conflict twice, nothing lost so far.
			expect(
				await db.one(
					"SELECT count(*)::int AS n FROM (SELECT entity_id FROM sync_conflicts WHERE status = 'open' GROUP BY entity_id HAVING count(*) > 1) d",
				),
			).toEqual({ n: 0 });
			for (const id of localOnly) {
				const row = await db.one('SELECT price, sync_status FROM pricebook_materials WHERE id = $1', [id]);
				const pushed = h.sim.control.getItem('materials', id)!.price === 444;
				expect({ id, price: row.price, pendingOrPushed: row.sync_status === 'pending_push' || pushed }).toEqual({
					id,
					price: '444',
					pendingOrPushed: true,
				});
			}
		}
		expect(figures.killedMidRun).toBeGreaterThanOrEqual(10);

		const final = await cli(['full', '--entity', 'materials', '--json']).done;
		expect(final.code).toBe(0);
		expect(await disagreements()).toEqual([]);
		// Exactly one conflict per both-sides item, ever (a killed run's conflict is the one the next run keeps).
		const conflicts = await db.any<{ entity_id: number; n: number }>(
			'SELECT entity_id, count(*)::int AS n FROM sync_conflicts GROUP BY entity_id ORDER BY entity_id',
		);
		expect(conflicts).toEqual([...both].sort((a, b) => a - b).map((id) => ({ entity_id: id, n: 1 })));
		for (const id of localOnly) expect(h.sim.control.getItem('materials', id)!.price).toBe(444);
		for (const id of deleted) expect(await db.one('SELECT deleted_in_st FROM pricebook_materials WHERE id = $1', [id])).toEqual({ deleted_in_st: true });
		// Killed runs were taken over and marked failed, none left running.
		expect(await db.one("SELECT count(*)::int AS n FROM sync_runs WHERE status = 'running'")).toEqual({ n: 0 });
		// The full run's cursor stops at what it listed (its own pushes come after); the next incremental reads
		// those echoes, changes nothing, and brings the cursor to ServiceTitan's newest change.
		const echo = JSON.parse((await cli(['incremental', '--entity', 'materials', '--json']).done).stdout).results[0];
		expect(echo).toMatchObject({ status: 'succeeded', itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0 });
		const { cursor_raw: cursor } = await db.one("SELECT cursor_raw FROM sync_state WHERE entity_type = 'materials'");
		const newest = (await stMaterials())
			.map((r) => String(r.modifiedOn))
			.sort(compareStTimestamps)
			.pop()!;
		expect(compareStTimestamps(cursor, newest)).toBe(0);
	});

	it('PostgreSQL cutting the connection mid-run: the run fails cleanly with a message, and the next run converges', async () => {
		await open({ materials: 20_000 });
		expect((await cli(['full', '--entity', 'materials', '--json']).done).code).toBe(0);
		const ids = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		for (const id of ids.slice(0, 20_000).filter((_, i) => i % 1000 === 0)) h.sim.control.updateItem('materials', id, { price: 777 });
		for (const id of ids.filter((_, i) => i % 1000 === 500)) await retoolUpdate({ ...h.t, db }, 'pricebook_materials', id, { price: 888 });

		const started = await db.one<{ now: Date }>('SELECT clock_timestamp() AS now');
		const run = cli(['full', '--entity', 'materials']);
		await until(async () => ((await runningRun())?.pages_read ?? 0) >= 1, 'the run to apply a page');
		// The CLI's sessions: opened after it started, under its application name (the harness's own are older).
		const cut = await db.any(
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pricebook-sync' AND backend_start > $1",
			[started.now],
		);
		expect(cut.length).toBeGreaterThan(0);
		const exit = await run.done;
		figures.connectionDrops += 1;
		expect(exit.signal).toBeNull();
		expect(exit.code).toBe(1);
		expect(exit.stderr).toMatch(/terminat|connection/i);
		// No stack trace for the operator: one clear line per problem.
		expect(exit.stderr).not.toMatch(/\n\s+at /);

		const next = await cli(['full', '--entity', 'materials', '--json']).done;
		expect(next.code).toBe(0);
		expect(await disagreements()).toEqual([]);
		for (const id of ids.filter((_, i) => i % 1000 === 500)) expect(h.sim.control.getItem('materials', id)!.price).toBe(888);
		expect(await db.one("SELECT count(*)::int AS n FROM sync_runs WHERE status = 'running'")).toEqual({ n: 0 });
	});
});
