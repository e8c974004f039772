/**
 * One benchmark job in a fresh process (forked by the orchestrator), so each case's peak RSS is its own: the job
 * arrives as the first IPC message (a command-line argument is limited to 128 KB, less than the ids and prices of
 * a 10,000-edit push), the steps run in order, and the result goes back over IPC. `maxRssKb` of a step is
 * the process's peak so far (process.resourceUsage().maxRSS), so the first step's figure is that step's own peak.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { closeDb, connectDb, pgp, type Db } from '../lib/db/connection';
import { entityDefinition } from '../lib/entities/definitions';
import type { EntityType } from '../lib/entities/types';
import { budgetedStClient } from '../lib/budget';
import { ServiceTitanClient, type StConfig, type StClientOptions } from '../lib/servicetitan';
import { SyncEngine } from '../lib/sync/engine';
import type { RunResult } from '../lib/sync/runs';
import type { StApi } from '../lib/sync/ports';
import { emptyStages, stagesSince, timedStApi, timePgQueries, type StageTotals } from './stages';
import { copyTableOut, rawUpsert } from './raw-upsert';

export type Step =
	/** A sync through the library: SyncEngine.run. */
	| { kind: 'sync'; label: string; syncKind: 'full' | 'incremental'; entityType: EntityType }
	/** `count` single-entity syncs of ids drawn (seeded) from the table. */
	| { kind: 'entityLoop'; label: string; entityType: EntityType; count: number; seed: number; client?: StClientOptions }
	/**
	 * Plain UPDATEs, as Retool sends them (no session settings), on the given ids: the description gets a suffix, or,
	 * with `prices`, the price column gets prices[i] (so what ServiceTitan should end up holding is known).
	 */
	| { kind: 'retoolEdits'; label: string; table: string; ids: number[]; prices?: number[] }
	/** Every page of a listing through the client, nothing else: the download-and-parse floor. */
	| { kind: 'download'; label: string; entityType: EntityType; pageSize: number }
	/** The table's rows out of this database (untimed), then the fastest bulk upsert of them into `targetDb`. */
	| { kind: 'rawUpsert'; label: string; table: string; targetDb: string }
	/** Price changes "as a ServiceTitan user would" through the simulator's admin route (each bumps modifiedOn). */
	| { kind: 'stEdits'; label: string; simUrl: string; entityType: EntityType; ids: number[] }
	/** The simulator's added latency per API request from now on. */
	| { kind: 'simLatency'; label: string; simUrl: string; latencyMs: number }
	/**
	 * A function exported by another compiled module (path relative to dist-bench/bench/), timed like a sync step:
	 * how cases that need more than the library (the n8n path) plug in without touching this file.
	 */
	| { kind: 'module'; label: string; module: string; export: string; args?: unknown };

/** What a `module` step's function gets; it returns what the step reports besides its time. */
export interface ModuleStepContext {
	db: string;
	st: StConfig;
	args: unknown;
}
export type ModuleStepFn = (context: ModuleStepContext) => Promise<{ items?: number; result?: StepResult['result'] } | void>;

export interface Job {
	db: string;
	st: StConfig;
	client?: StClientOptions;
	settings?: { pageSize?: number };
	steps: Step[];
	/** Time ST calls and queries (adds a little overhead); for the stage profile. */
	stages?: boolean;
	/**
	 * Draw on the request budget shared through this database (lib/budget, default rate), with a pool of 10
	 * connections as the CLI's sync has, instead of the client's own limiter: how several processes share the limit.
	 */
	budget?: boolean;
}

export interface StepResult {
	label: string;
	ms: number;
	/** When the step began and ended (Date.now()), to line up steps of processes running at the same time. */
	startedAtMs?: number;
	endedAtMs?: number;
	maxRssKb: number;
	/** For entityLoop: every call's time. */
	samples?: number[];
	result?: Pick<RunResult, 'status' | 'summary' | 'itemsSynced' | 'itemsPushed' | 'errors' | 'message'> & { kind: string };
	items?: number;
	stages?: StageTotals;
	/**
	 * Peaks during the step (sampled every 25 ms); the most heap found in use right after a major collection during
	 * the step (what the step really kept alive at its busiest); and the heap still in use after a forced
	 * collection at its end.
	 */
	memory?: { heapTotalPeakMb: number; heapUsedPeakMb: number; externalPeakMb: number; liveHeapPeakMb: number | null; heapUsedAfterGcMb: number | null };
}

export type WorkerMessage = { type: 'done'; steps: StepResult[] } | { type: 'error'; message: string };

const USER_AGENT = 'n8n-nodes-perfectcatch-pricebook';
const elapsed = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const peakKb = (): number => process.resourceUsage().maxRSS;

function brief(r: RunResult): StepResult['result'] {
	return { status: r.status, kind: r.kind, summary: r.summary, itemsSynced: r.itemsSynced, itemsPushed: r.itemsPushed, errors: r.errors, message: r.message };
}

async function runStep(job: Job, db: Db, st: StApi, client: ServiceTitanClient, step: Step, stages: StageTotals | null): Promise<StepResult> {
	const engine = new SyncEngine({ db, st, settings: job.settings });
	switch (step.kind) {
		case 'sync': {
			const before = stages ? structuredClone(stages) : null;
			const start = process.hrtime.bigint();
			const r = await engine.run({ kind: step.syncKind, entityType: step.entityType, trigger: 'benchmark' });
			const ms = elapsed(start);
			if (r.status !== 'succeeded') throw new Error(`${step.label}: the run ended ${r.status}: ${r.message ?? ''}`);
			return { label: step.label, ms, maxRssKb: peakKb(), result: brief(r), ...(stages && before ? { stages: stagesSince(before, stages) } : {}) };
		}
		case 'entityLoop': {
			const { table } = entityDefinition(step.entityType);
			const ids = (await db.any<{ id: number }>('SELECT id FROM $1:name WHERE deleted_at IS NULL ORDER BY id', [table])).map((r) => r.id);
			if (ids.length === 0) throw new Error(`${step.label}: no rows to sync one by one`);
			// Seeded picks, so two runs of the benchmark sync the same items.
			let x = step.seed >>> 0 || 1;
			const next = (): number => {
				x ^= x << 13;
				x ^= x >>> 17;
				x ^= x << 5;
				return (x >>> 0) % ids.length;
			};
			// A client of its own when the step asks for other limits (the diagnostic loop without ServiceTitan's rate limit).
			const own = step.client ? new ServiceTitanClient(job.st, { userAgent: USER_AGENT, ...job.client, ...step.client }) : null;
			const loopEngine = own ? new SyncEngine({ db, st: stages ? timedStApi(own, stages) : own, settings: job.settings }) : engine;
			const before = stages ? structuredClone(stages) : null;
			const samples: number[] = [];
			const start = process.hrtime.bigint();
			for (let i = 0; i < step.count; i++) {
				const s = process.hrtime.bigint();
				const r = await loopEngine.run({ kind: 'entity', entityType: step.entityType, entityId: ids[next()], trigger: 'benchmark' });
				samples.push(elapsed(s));
				if (r.status !== 'succeeded') throw new Error(`${step.label}: an entity run ended ${r.status}: ${r.message ?? ''}`);
			}
			const ms = elapsed(start);
			own?.close();
			return { label: step.label, ms, maxRssKb: peakKb(), samples, ...(stages && before ? { stages: stagesSince(before, stages) } : {}) };
		}
		case 'retoolEdits': {
			const start = process.hrtime.bigint();
			// One statement per row, as Retool saves them; the capture trigger marks each as a local edit.
			await db.tx(async (t) => {
				for (const [i, id] of step.ids.entries()) {
					if (step.prices) await t.none('UPDATE $1:name SET price = $3 WHERE id = $2', [step.table, id, step.prices[i]]);
					else
						await t.none('UPDATE $1:name SET description = coalesce(description, $3) || $3 WHERE id = $2', [step.table, id, ' (edited in Retool)']);
				}
			});
			return { label: step.label, ms: elapsed(start), maxRssKb: peakKb(), items: step.ids.length };
		}
		case 'download': {
			const start = process.hrtime.bigint();
			let items = 0;
			for await (const page of client.iteratePages(step.entityType, { pageSize: step.pageSize, active: 'Any', includeTotal: true }))
				items += page.data.length;
			return { label: step.label, ms: elapsed(start), maxRssKb: peakKb(), items };
		}
		case 'stEdits': {
			const start = process.hrtime.bigint();
			let next = 0;
			const worker = async (): Promise<void> => {
				while (next < step.ids.length) {
					const i = next++;
					// A new price no item has (cents from the index): always a real change.
					const response = await fetch(`${step.simUrl}/__sim/items/${step.entityType}/${step.ids[i]}`, {
						method: 'PATCH',
						headers: { 'Content-Type': 'application/json' },
						body: JSON.stringify({ price: 100_000 + i / 100 }),
					});
					if (!response.ok) throw new Error(`${step.label}: the simulator answered ${response.status} to an edit`);
					await response.arrayBuffer();
				}
			};
			await Promise.all(Array.from({ length: 8 }, worker));
			return { label: step.label, ms: elapsed(start), maxRssKb: peakKb(), items: step.ids.length };
		}
		case 'simLatency': {
			const response = await fetch(`${step.simUrl}/__sim/faults`, {
				method: 'PUT',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ latencyMs: step.latencyMs }),
			});
			if (!response.ok) throw new Error(`${step.label}: the simulator answered ${response.status}`);
			await response.arrayBuffer();
			return { label: step.label, ms: 0, maxRssKb: peakKb() };
		}
		case 'module': {
			// A module compiled beside this one, loaded by path at run time (the case decides which).
			const loaded = createRequire(__filename)(path.resolve(__dirname, step.module)) as Record<string, unknown>;
			const fn = loaded[step.export];
			if (typeof fn !== 'function') throw new Error(`${step.label}: ${step.module} exports no function ${step.export}`);
			const before = stages ? structuredClone(stages) : null;
			const start = process.hrtime.bigint();
			const out = (await (fn as ModuleStepFn)({ db: job.db, st: job.st, args: step.args })) ?? {};
			return { label: step.label, ms: elapsed(start), maxRssKb: peakKb(), ...out, ...(stages && before ? { stages: stagesSince(before, stages) } : {}) };
		}
		case 'rawUpsert': {
			const copy = await copyTableOut(db, step.table);
			const target = connectDb({ connectionString: step.targetDb, max: 1, applicationName: 'pricebook-bench-raw' });
			try {
				const { ms, rows } = await rawUpsert(target, step.table, copy);
				return { label: step.label, ms, maxRssKb: peakKb(), items: rows };
			} finally {
				await closeDb(target);
			}
		}
	}
}

function memorySampler(): { stop(): NonNullable<StepResult['memory']> } {
	const peak = { heapTotal: 0, heapUsed: 0, external: 0, live: -1 };
	// Right after each major (mark-compact) collection, the heap in use is what is still reachable.
	const observer = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
				peak.live = Math.max(peak.live, process.memoryUsage().heapUsed);
			}
		}
	});
	observer.observe({ entryTypes: ['gc'] });
	const sample = (): void => {
		const m = process.memoryUsage();
		peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
		peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
		peak.external = Math.max(peak.external, m.external);
	};
	sample();
	const timer = setInterval(sample, 25);
	const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
	return {
		stop() {
			clearInterval(timer);
			observer.disconnect();
			sample();
			// The worker runs with --expose-gc: what the step left behind, without the garbage it made.
			const gc = (globalThis as { gc?: () => void }).gc;
			let after: number | null = null;
			if (gc) {
				gc();
				after = mb(process.memoryUsage().heapUsed);
			}
			return {
				heapTotalPeakMb: mb(peak.heapTotal),
				heapUsedPeakMb: mb(peak.heapUsed),
				externalPeakMb: mb(peak.external),
				liveHeapPeakMb: peak.live < 0 ? null : mb(peak.live),
				heapUsedAfterGcMb: after,
			};
		},
	};
}

async function main(): Promise<void> {
	const job = await new Promise<Job>((resolve) => process.once('message', (m: Job) => resolve(m)));
	pgp();
	const stages = job.stages ? emptyStages() : null;
	if (stages) timePgQueries(stages);
	const db = connectDb({ connectionString: job.db, max: job.budget ? 10 : 4, applicationName: 'pricebook-bench' });
	// ServiceTitan's own limits stay as in production (60 requests/s, 8 parallel): they are part of what is measured.
	const client = job.budget
		? budgetedStClient(db, job.st, { userAgent: USER_AGENT, ...job.client })
		: new ServiceTitanClient(job.st, { userAgent: USER_AGENT, ...job.client });
	const st = stages ? timedStApi(client, stages) : client;
	const results: StepResult[] = [];
	try {
		for (const step of job.steps) {
			const sampler = memorySampler();
			const startedAtMs = Date.now();
			const result = await runStep(job, db, st, client, step, stages);
			results.push({ ...result, startedAtMs, endedAtMs: Date.now(), memory: sampler.stop() });
		}
		process.send!({ type: 'done', steps: results } satisfies WorkerMessage);
	} finally {
		client.close();
		await closeDb(db);
	}
}

if (require.main === module) {
	main().catch((error: unknown) => {
		process.send!({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerMessage);
		process.exitCode = 1;
	});
}
