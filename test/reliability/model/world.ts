import { closeDb, connectDb, type Db } from '../../../lib/db/connection';
import { ServiceTitanClient } from '../../../lib/servicetitan/client';
import { isStApiError } from '../../../lib/servicetitan/errors';
import type { EntityType, ExportParams, IterateParams, ListParams, StExportPage, StPage, StRecord } from '../../../lib/servicetitan/types';
import { SyncEngine } from '../../../lib/sync/engine';
import type { StApi } from '../../../lib/sync/ports';
import { DEFAULT_SETTINGS, type RunDeps } from '../../../lib/sync/run-types';
import { startSimulator } from '../../../sim';
import type { SimulatorHandle } from '../../../sim/types';
import { createTestDatabase, type TestDatabase } from '../../support/database';

/** The engine's sessions carry this name, so a simulated crash can end exactly them. */
export const ENGINE_APP = 'model-engine';

/** One worker of the suite: a database of its own, reused (emptied) for every scenario it runs. */
export interface Lane {
	t: TestDatabase;
	/** The engine's pool: its sessions are the ones a crash kills. */
	engineDb: Db;
	close(): Promise<void>;
}

export async function openLane(): Promise<Lane> {
	const t = await createTestDatabase();
	const engineDb = connectDb({ connectionString: t.url, max: 4, applicationName: ENGINE_APP });
	return {
		t,
		engineDb,
		close: async () => {
			await closeDb(engineDb);
			await t.drop();
		},
	};
}

const PRICEBOOK_TABLES = ['pricebook_categories', 'pricebook_materials', 'pricebook_equipment', 'pricebook_services'];
const LEDGER_TABLES = [
	'vendor_price_history',
	'vendor_prices',
	'sync_conflicts',
	'sync_change_log',
	'sync_error_log',
	'sync_run_seen',
	'sync_page_stage',
	'sync_runs',
];

/** Back to a freshly migrated database. The TRUNCATE guard (migration 0014) lets the engine's role through only when it opts in. */
export async function emptyDatabase(db: Db): Promise<void> {
	await db.tx(async (tx) => {
		await tx.one("SELECT set_config('pricebook_sync.allow_hard_delete', 'on', true)");
		await tx.none(`TRUNCATE ${[...LEDGER_TABLES, ...PRICEBOOK_TABLES].join(', ')} RESTART IDENTITY CASCADE`);
	});
	await db.none(
		`UPDATE sync_state SET cursor_raw = NULL, last_full_sync_at = NULL, last_incremental_sync_at = NULL, last_success_at = NULL,
		   consecutive_failures = 0, lease_run_id = NULL, lease_expires_at = NULL, lease_mode = NULL`,
	);
}

/** Thrown into a run where the scenario "kills the process": the run's sessions are already gone. */
export class SimulatedCrash extends Error {
	constructor(readonly callNumber: number) {
		super(`simulated crash at ServiceTitan call ${callNumber}`);
	}
}

/** What happens inside a run, keyed by the number of the ServiceTitan call it happens at. */
export interface RunInterference {
	/** Kill the run's database sessions before (or after) this call, as if the process died there. */
	crash?: { atCall: number; afterCall: boolean };
	/**
	 * An edit made while the run is under way, just before this call (in Retool, or by a ServiceTitan user).
	 * `patched` is told of every PATCH sent after it, and whether the run had read the item again since the edit.
	 */
	editAtCall?: {
		atCall: number;
		edit: () => Promise<void>;
		patched?: (call: { id: number; body: Record<string, unknown>; readSinceEdit: boolean }) => Promise<void>;
	};
	/**
	 * Around the run's n-th PATCH (counted from 1): `before` runs once the engine has decided and recorded the push
	 * (push_in_flight) and is about to send it, `after` once the call ended, before the engine reads the item back.
	 */
	aroundPatch?: {
		before?: (call: { entity: EntityType; id: number; body: Record<string, unknown>; n: number }) => Promise<void>;
		after?: (call: { entity: EntityType; id: number; body: Record<string, unknown>; n: number; outcome: PatchOutcome }) => Promise<void>;
	};
}

/**
 * How a PATCH call ended for the engine: ServiceTitan's answer arrived (2xx), it refused the values (400), or no
 * definite answer arrived (timeout, reset, 5xx or 429 past the retries, a body it could not read).
 */
export type PatchOutcome = 'answered' | 'rejected' | 'lost';

/**
 * One PATCH call the engine made. ServiceTitan's request log entries from `logStart` to `logEnd` (exclusive) that
 * are PATCHes of this item are its sends: the client repeats a PATCH whose answer it did not get, and with
 * an answer (`answered`, `rejected`) the last of them is the one answered.
 */
export interface PatchCall {
	entity: EntityType;
	id: number;
	logStart: number;
	logEnd: number;
	outcome: PatchOutcome;
}

/**
 * The engine's view of ServiceTitan, with a hook between every two steps of a run: every step of a run either
 * talks to ServiceTitan or writes one page, so "between ServiceTitan calls" is "between any two steps".
 */
export class InterferingSt implements StApi {
	private calls = 0;
	private patches = 0;
	/**
	 * The run's events in order (a call sent, the edit made), to tell whether the run read an item again after an edit
	 * during it: calls overlap (the library reads the next page while it writes this one), so a read counts as after
	 * the edit only when it was sent after it.
	 */
	private events = 0;
	private editEvent: number | undefined;
	/** Per item, the event at which the last call that returned it was sent. */
	private readonly readSentAt = new Map<number, number>();
	private plan: RunInterference = {};
	crashed = false;
	/** Every PATCH call since the last `takePatchCalls()`, armed or not (resolutions PATCH too). */
	private patchCalls: PatchCall[] = [];
	/**
	 * Every item the armed run was handed by ServiceTitan or asked it for by id: what the run has to decide on,
	 * each once, however often a listing repeats it.
	 */
	readonly itemsTouched = new Set<number>();

	constructor(
		private readonly inner: StApi,
		private readonly killEngineSessions: () => Promise<void>,
		/** How many requests ServiceTitan has logged so far (positions in its request log). */
		private readonly requestCount: () => number = () => 0,
	) {}

	arm(plan: RunInterference): void {
		this.plan = plan;
		this.calls = 0;
		this.patches = 0;
		this.crashed = false;
		this.itemsTouched.clear();
		this.events = 0;
		this.editEvent = undefined;
		this.readSentAt.clear();
	}

	/** ServiceTitan calls since the run was armed (a step that runs again must make none). */
	get callCount(): number {
		return this.calls;
	}

	private touched(records: readonly unknown[], sentAt: number): void {
		this.touchedIds(
			records.flatMap((r) => {
				const id = (r as { id?: unknown } | null)?.id;
				return typeof id === 'number' ? [id] : [];
			}),
			sentAt,
		);
	}

	private touchedIds(ids: readonly number[], sentAt: number): void {
		for (const id of ids) {
			this.itemsTouched.add(id);
			this.readSentAt.set(id, Math.max(sentAt, this.readSentAt.get(id) ?? 0));
		}
	}

	/** Runs one call as a step; `sent` is told the event at which it was sent. */
	private async step<T>(call: () => Promise<T>, sent?: (event: number) => void): Promise<T> {
		if (this.crashed) throw new SimulatedCrash(this.calls);
		this.calls += 1;
		const n = this.calls;
		if (this.plan.editAtCall?.atCall === n) {
			this.editEvent = ++this.events;
			await this.plan.editAtCall.edit();
		}
		const crash = this.plan.crash;
		if (crash?.atCall === n && !crash.afterCall) await this.crash(n);
		sent?.(++this.events);
		const result = await call();
		if (crash?.atCall === n && crash.afterCall) await this.crash(n);
		return result;
	}

	private async crash(n: number): Promise<never> {
		this.crashed = true;
		await this.killEngineSessions();
		throw new SimulatedCrash(n);
	}

	async listPage(entity: EntityType, params: ListParams): Promise<StPage> {
		let sentAt = 0;
		const page = await this.step(
			() => this.inner.listPage(entity, params),
			(e) => (sentAt = e),
		);
		this.touched(page.data, sentAt);
		return page;
	}

	/** The client's own paging (its checks included), one step per page. */
	async *iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
		const pages = this.inner.iteratePages(entity, params)[Symbol.asyncIterator]();
		for (;;) {
			let sentAt = 0;
			const next = await this.step(
				() => pages.next(),
				(e) => (sentAt = e),
			);
			if (next.done) return;
			this.touched(next.value.data, sentAt);
			yield next.value;
		}
	}

	async getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]> {
		let sentAt = 0;
		const records = await this.step(
			() => this.inner.getByIds(entity, ids),
			(e) => (sentAt = e),
		);
		this.touchedIds(ids, sentAt);
		return records;
	}

	async get(entity: EntityType, id: number): Promise<StRecord | null> {
		let sentAt = 0;
		const record = await this.step(
			() => this.inner.get(entity, id),
			(e) => (sentAt = e),
		);
		this.touchedIds([id], sentAt);
		return record;
	}

	/** The codes (a category's name) of every create (POST) sent since the last `takeCreateCalls()`, answered or not. */
	private createCalls: string[] = [];

	takeCreateCalls(): string[] {
		const calls = this.createCalls;
		this.createCalls = [];
		return calls;
	}

	/** A create (POST) is a step like any call: a crash may land before it is sent or after it was answered. */
	async create(entity: EntityType, body: Record<string, unknown>): Promise<StRecord> {
		let sentAt = 0;
		const record = await this.step(
			() => {
				this.createCalls.push(String(body.code ?? body.name));
				return this.inner.create(entity, body);
			},
			(e) => (sentAt = e),
		);
		this.touched([record], sentAt);
		return record;
	}

	patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> {
		return this.step(async () => {
			const n = ++this.patches;
			const around = this.plan.aroundPatch;
			await around?.before?.({ entity, id, body, n });
			const logStart = this.requestCount();
			let outcome: PatchOutcome = 'lost';
			try {
				const record = await this.inner.patch(entity, id, body);
				outcome = 'answered';
				return record;
			} catch (error) {
				if (isStApiError(error) && error.kind === 'validation') outcome = 'rejected';
				throw error;
			} finally {
				this.patchCalls.push({ entity, id, logStart, logEnd: this.requestCount(), outcome });
				await around?.after?.({ entity, id, body, n, outcome });
				const edited = this.editEvent;
				if (edited !== undefined) await this.plan.editAtCall?.patched?.({ id, body, readSinceEdit: (this.readSentAt.get(id) ?? 0) > edited });
			}
		});
	}

	/** The PATCH calls made since the last time this was asked. */
	takePatchCalls(): PatchCall[] {
		const calls = this.patchCalls;
		this.patchCalls = [];
		return calls;
	}

	async exportPage(entity: EntityType, params: ExportParams): Promise<StExportPage> {
		let sentAt = 0;
		const page = await this.step(
			() => this.inner.exportPage(entity, params),
			(e) => (sentAt = e),
		);
		this.touched(page.data, sentAt);
		return page;
	}

	serverNow(entity: EntityType): Promise<Date | null> {
		return this.step(() => this.inner.serverNow(entity));
	}
}

export const MODEL_START = Date.parse('2026-11-25T08:00:00Z');

/**
 * The lease of the n8n driver's runs. ServiceTitan's clock (which the engine reads) stands still during a run and
 * moves only with the scenario's steps, so any TTL keeps a living run's lease; a short one lets an ST edit or two
 * (1 s each) or any clock step outlast the lease of an execution that died, so scenarios see both a busy answer
 * and a takeover. The reference model predicts which (Reference.stagedLeaseUntil).
 */
export const N8N_LEASE_TTL_MS = 2000;

/** One scenario's ServiceTitan (a simulator of its own), the engine under test and an observer's client. */
export interface ScenarioWorld {
	lane: Lane;
	sim: SimulatorHandle;
	st: InterferingSt;
	engine: SyncEngine;
	/** What the n8n step nodes get: the same database pool and interfering ServiceTitan as the engine. */
	n8nDeps: RunDeps;
	/** Reads ServiceTitan for the invariant checks (faults are off whenever it is used). */
	observer: ServiceTitanClient;
	/**
	 * The sync's own clock (the machine n8n runs on), ms: it moves with time passing (advanceClock), not with a
	 * step of ServiceTitan's clock (stepStClock), which is ServiceTitan's server alone.
	 */
	localNow(): number;
	/** Steps ServiceTitan's clock ahead or back (see SimControl.stepClock); the sync's clock does not follow. */
	stepStClock(ms: number): void;
	close(): Promise<void>;
}

export async function openWorld(lane: Lane, options: { seed: number; entity: EntityType; count: number; pageSize: number }): Promise<ScenarioWorld> {
	await emptyDatabase(lane.t.db);
	const counts = { categories: 0, materials: 0, equipment: 0, services: 0, [options.entity]: options.count };
	// ServiceTitan's clock starts at a fixed time and moves only when the scenario says so; the engine's clock moves
	// with it, except when ServiceTitan's own clock is stepped (then only ServiceTitan's moves).
	const sim = await startSimulator({ seed: options.seed, counts, now: () => MODEL_START, quirks: { retryAfterSeconds: 1 } });
	let stepped = 0;
	const clock = () => sim.control.now() - stepped;
	const credentials = {
		clientId: sim.clientId,
		clientSecret: sim.clientSecret,
		appKey: sim.appKey,
		tenantId: sim.tenantId,
		environment: 'integration' as const,
		authUrl: sim.tokenUrl,
		apiBaseUrl: sim.apiBaseUrl,
	};
	// Fast retries and a short timeout: the faults are the point, not the waiting. Retry-After is honoured but capped.
	const client = new ServiceTitanClient(credentials, { maxRetries: 2, backoffBaseMs: 1, backoffMaxMs: 5, timeoutMs: 250, requestsPerSecond: 100_000 });
	const observer = new ServiceTitanClient(credentials, { maxRetries: 0, requestsPerSecond: 100_000 });
	const st = new InterferingSt(
		client,
		async () => {
			// With a timeout, each call returns once that session is gone, so its advisory locks are free: the model
			// knows exactly when the next run must answer busy, and a crashed run's lock is never the reason.
			await lane.t.db.any('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [
				ENGINE_APP,
			]);
		},
		() => sim.control.requests.length,
	);
	const engine = new SyncEngine({ db: lane.engineDb, st, now: () => new Date(clock()), settings: { pageSize: options.pageSize } });
	const n8nDeps: RunDeps = {
		db: lane.engineDb,
		st,
		now: () => new Date(clock()),
		log: () => undefined,
		settings: { ...DEFAULT_SETTINGS, pageSize: options.pageSize, leaseTtlMs: N8N_LEASE_TTL_MS },
	};
	return {
		lane,
		sim,
		st,
		engine,
		n8nDeps,
		observer,
		localNow: clock,
		stepStClock: (ms) => {
			sim.control.stepClock(ms);
			stepped += ms;
		},
		close: async () => {
			client.close();
			observer.close();
			await sim.stop();
		},
	};
}
