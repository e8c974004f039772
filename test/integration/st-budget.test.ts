import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { closeDb, connectDb, type Db } from '../../lib/db/connection';
import { readBudgets } from '../../lib/db/st-budget';
import { describeBudgetUse } from '../../lib/reporting/budget-use';
import { getSyncStatus } from '../../lib/reporting/status';
import { budgetedStClient, SharedRequestBudget } from '../../lib/budget';
import { inLane, type Lane } from '../../lib/servicetitan/throttle';
import { startSimulator, type SimulatorHandle } from '../../sim';
import { buildCliForTests, type BuiltCli } from '../support/built-cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(120_000);

let t: TestDatabase;
let sim: SimulatorHandle;
let built: BuiltCli;
beforeAll(async () => {
	t = await createTestDatabase();
	// ServiceTitan's own limit, enforced: 60 requests in any second per app and tenant, whoever sends them.
	sim = await startSimulator({ faults: { rateLimit: { budget: 60 } } });
	built = buildCliForTests();
});
afterAll(async () => {
	await sim?.stop();
	await t?.drop();
});
beforeEach(() => sim.control.resetStats());
const budgets: SharedRequestBudget[] = [];
afterEach(async () => {
	for (const b of budgets.splice(0)) await b.close();
});
/** A budget as one process would hold it, closed after the test. */
const budgetOf = (db: Db, options: ConstructorParameters<typeof SharedRequestBudget>[1]) => {
	const b = new SharedRequestBudget(db, options);
	budgets.push(b);
	return b;
};

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/** A worker process of its own (as an n8n worker or the CLI is), making `count` ServiceTitan requests in `lane`. */
function requestsFromAnotherProcess(lane: Lane, count: number, rate: number): Promise<{ waitsMs: number[] }> {
	const script = path.join(built.root, 'budget-worker.js');
	writeFileSync(
		script,
		`const { connectDb, closeDb } = require('./lib/db/connection');
const { budgetedStClient } = require('./lib/budget');
const { inLane } = require('./lib/servicetitan/throttle');
const [url, config, lane, count] = process.argv.slice(2);
(async () => {
	const db = connectDb({ connectionString: url, max: 4 });
	const st = budgetedStClient(db, JSON.parse(config));
	const waitsMs = [];
	let next = 0;
	await inLane(lane, () => Promise.all(Array.from({ length: 12 }, async () => {
		while (next < Number(count)) {
			next += 1;
			const started = Date.now();
			await st.listPage('materials', { page: 1, pageSize: 1 });
			waitsMs.push(Date.now() - started);
		}
	})));
	st.close();
	await closeDb(db);
	process.stdout.write(JSON.stringify({ waitsMs }));
})().catch((error) => { console.error(error); process.exit(1); });
`,
	);
	const config = JSON.stringify({ ...sim.stConfig(), requestsPerSecond: rate });
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [script, t.url, config, lane, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		child.stdout.on('data', (c: Buffer) => (out += c.toString()));
		child.stderr.on('data', (c: Buffer) => (err += c.toString()));
		child.on('error', reject);
		child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { waitsMs: number[] }) : reject(new Error(`worker exited ${code}: ${err}`))));
	});
}

describe('one ServiceTitan budget shared by every process', () => {
	it('keeps two worker processes pushing at once within the configured rate in every second, with no 429', async () => {
		const [a, b] = await Promise.all([requestsFromAnotherProcess('bulk', 120, 50), requestsFromAnotherProcess('bulk', 120, 50)]);
		const stats = sim.control.requestCounts();
		expect(a.waitsMs).toHaveLength(120);
		expect(b.waitsMs).toHaveLength(120);
		expect(stats.byStatus['429'] ?? 0).toBe(0);
		// Counted where ServiceTitan counts: at the server, whatever process sent the request. Requests are spaced on
		// the database's clock; one that leaves a little late (a busy event loop, the network) lets the next window
		// hold a request or two more than the rate, which the headroom below ServiceTitan's 60 absorbs. Without the
		// shared budget, the two processes' own limiters would let about 100 through in a second.
		expect(stats.busiestSecond).toBeLessThanOrEqual(55);
		// Both made progress: neither process was starved by the other.
		expect(stats.api).toBeGreaterThanOrEqual(240);
		// Status shows what the budget was used for.
		const [use] = (await getSyncStatus(t.db)).apiBudget.filter((b) => b.tenantId === sim.stConfig().tenantId);
		expect(use.ratePerSecond).toBe(50);
		expect((use.thisMinute.bulk ?? 0) + (use.lastMinute.bulk ?? 0)).toBeGreaterThanOrEqual(240);
		expect(describeBudgetUse(use)).toMatch(/^tenant \d+: 50 requests\/s; last minute \d+ request\(s\) \(bulk \d+\); 0 429\(s\) in all/);
	});

	it('lets a single-entity request through quickly while a full run saturates the budget from another process', async () => {
		const db = connectDb({ connectionString: t.url, max: 4 });
		const st = budgetedStClient(db, { ...sim.stConfig(), requestsPerSecond: 50 });
		try {
			const backfill = requestsFromAnotherProcess('bulk', 250, 50);
			await new Promise((r) => setTimeout(r, 1500));
			const waits: number[] = [];
			for (let i = 0; i < 20; i++) {
				const started = Date.now();
				await inLane('interactive', () => st.get('materials', 1).then(() => undefined));
				waits.push(Date.now() - started);
				await new Promise((r) => setTimeout(r, 50));
			}
			const bulk = await backfill;
			// The full run waited (its requests queued behind each other) while the person's did not.
			expect(percentile(bulk.waitsMs, 0.5)).toBeGreaterThan(100);
			expect(percentile(waits, 0.95)).toBeLessThan(600);
			expect(sim.control.requestCounts().byStatus['429'] ?? 0).toBe(0);
		} finally {
			st.close();
			await closeDb(db);
		}
	});
});

describe('lanes', () => {
	async function saturate(budget: SharedRequestBudget, lane: Lane, untilMs: number, served: Lane[]): Promise<void> {
		await Promise.all(
			Array.from({ length: 8 }, async () => {
				while (Date.now() < untilMs) {
					await budget.acquire(lane);
					served.push(lane);
				}
			}),
		);
	}

	it('serves the incremental run ahead of a full run when both want more than the budget', async () => {
		const other: Db = connectDb({ connectionString: t.url, max: 4 });
		try {
			const options = { appKey: 'lanes-app', tenantId: '7001', requestsPerSecond: 40 };
			const served: Lane[] = [];
			const until = Date.now() + 3000;
			await Promise.all([saturate(budgetOf(t.db, options), 'bulk', until, served), saturate(budgetOf(other, options), 'incremental', until, served)]);
			const incremental = served.filter((l) => l === 'incremental').length;
			// About 3 s at 40/s: the full run gets only what the incremental run leaves (its first slots, before the queue filled).
			expect(served.length).toBeGreaterThan(90);
			expect(served.length).toBeLessThan(140);
			expect(incremental / served.length).toBeGreaterThan(0.8);
		} finally {
			await closeDb(other);
		}
	});

	it('holds everyone back after a 429 seen by any process, and lowers the rate for a while', async () => {
		const options = { appKey: 'throttled-app', tenantId: '7002', requestsPerSecond: 40 };
		const a = budgetOf(t.db, options);
		const other: Db = connectDb({ connectionString: t.url, max: 2 });
		try {
			const b = budgetOf(other, options);
			await a.acquire('bulk');
			await a.rateLimited(800);
			const started = Date.now();
			await b.acquire('interactive');
			expect(Date.now() - started).toBeGreaterThanOrEqual(700);
			const [budget] = (await readBudgets(t.db)).filter((r) => r.tenant_id === '7002');
			expect(budget.effective_rate).toBeCloseTo(32);
			expect(budget.lowered_until).not.toBeNull();
			expect(budget.rate_limited_count).toBe(1);
			expect(budget.this_minute).toEqual({ bulk: 1, interactive: 1 });
		} finally {
			await closeDb(other);
		}
	});

	it('gives a request its process sent too late a new slot, so late requests never leave in a bunch', async () => {
		let clock = 0;
		// A process that oversleeps the first wait by 200 ms (a long garbage collection), then keeps time.
		let oversleep = 200;
		const budget = budgetOf(t.db, {
			appKey: 'late-app',
			tenantId: '7003',
			requestsPerSecond: 40,
			now: () => clock,
			sleep: async (ms) => {
				clock += ms + oversleep;
				oversleep = 0;
			},
		});
		await budget.acquire('bulk');
		await budget.acquire('bulk');
		const [use] = (await readBudgets(t.db)).filter((r) => r.tenant_id === '7003');
		// The second request took two slots (the one it was too late for and the one it went out in), and the status
		// counts two requests: each once.
		expect(use.this_minute).toEqual({ bulk: 2 });
	});

	it('answers while the caller holds every connection of its own pool (the budget has connections of its own)', async () => {
		// An n8n worker running as many steps at once as its pool has connections: each holds one while it waits for
		// ServiceTitan. Asking the budget on that same pool would wait for a connection none of them gives back.
		const db = connectDb({ connectionString: t.url, max: 1, applicationName: 'one-connection-worker' });
		const st = budgetedStClient(db, { ...sim.stConfig(), requestsPerSecond: 50 });
		try {
			const started = Date.now();
			const record = await db.task(() => inLane('interactive', () => st.get('materials', sim.control.listIds('materials')[0])));
			expect(record).not.toBeNull();
			expect(Date.now() - started).toBeLessThan(2000);
		} finally {
			st.close();
			await closeDb(db);
		}
	});

	it("refuses a rate above ServiceTitan's limit, naming it", () => {
		expect(() => new SharedRequestBudget(t.db, { appKey: 'k', tenantId: '1', requestsPerSecond: 80 })).toThrow(/at most ServiceTitan's limit of 60/);
	});
});
