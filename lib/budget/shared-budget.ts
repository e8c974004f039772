import { createHash } from 'node:crypto';
import { closeDb, sidePool, type Db } from '../db/connection';
import { ensureBudget, lowerBudget, takeSlot } from '../db/st-budget';
import { ST_REQUESTS_PER_SECOND_LIMIT } from '../servicetitan/config';
import type { Lane, RequestThrottle } from '../servicetitan/throttle';

/**
 * ServiceTitan allows 60 requests per second per app and tenant. The default keeps 5 of them free: requests leave on
 * time to within a few milliseconds, so a one-second window at the server can hold one or two more than the rate.
 */
export const DEFAULT_REQUESTS_PER_SECOND = 55;

/**
 * How far ahead of now each lane may reserve a slot. A person's request always reserves (it waits behind at most
 * what the other lanes may queue); the incremental run queues up to a second of requests, full runs and backfills a
 * quarter second. A single-entity sync thus waits at most about a second behind everything else.
 */
export const LANE_HORIZON_S: Readonly<Record<Lane, number>> = { interactive: 120, incremental: 1, bulk: 0.25 };

/**
 * After a request of a person or of the incremental run is served, full runs and backfills take no slot for this
 * long: more of them are probably coming, and a full run must not take the slots in between. While those lanes keep
 * asking, a full run waits; when they fall quiet, it has the whole budget again within this time.
 */
export const PRIORITY_HOLD_S = 0.15;

/** How long the rate stays lowered after a 429. */
export const LOWERED_FOR_S = 30;

/**
 * A request that would leave more than this after its slot (its process was busy when the slot came: a long page
 * being parsed, a garbage collection) takes a new slot instead. Late requests of one process would otherwise leave
 * together with the next ones on time, and ServiceTitan counts them in the same second: at 10,000 pushes a
 * second of 61 and a 429 were measured before this rule. Bounding lateness to this keeps a second within
 * rate x (1 + MAX_LATE_MS / 1000) + 1, about 58 at the default 55.
 */
export const MAX_LATE_MS = 40;

export interface SharedBudgetOptions {
	appKey: string;
	tenantId: string;
	/** Default DEFAULT_REQUESTS_PER_SECOND; above ServiceTitan's 60 is refused. */
	requestsPerSecond?: number;
	sleep?: (ms: number) => Promise<void>;
	/** This process's clock in ms (only differences are used: the slots themselves are on the database's clock). */
	now?: () => number;
}

/** The budget's row key: the app key is a credential, so only its hash is stored. */
export function budgetKeyOf(appKey: string, tenantId: string): string {
	return createHash('sha256').update(`${appKey}\u0000${tenantId}`).digest('hex');
}

export function validRequestsPerSecond(value: number): number {
	if (!Number.isFinite(value) || value <= 0 || value > ST_REQUESTS_PER_SECOND_LIMIT)
		throw new RangeError(`requests per second must be a number above 0 and at most ServiceTitan's limit of ${ST_REQUESTS_PER_SECOND_LIMIT}, got ${value}`);
	return value;
}

/**
 * One ServiceTitan request budget per app and tenant, kept in PostgreSQL (st_request_budget) so that the CLI, the
 * library and every n8n worker draw on the same 60 requests per second, with lanes (see LANE_HORIZON_S) deciding
 * who goes first when it is short. Each request costs one short statement on the pricebook database, on a pool of
 * two connections of the budget's own; close() releases them.
 */
export class SharedRequestBudget implements RequestThrottle {
	readonly key: string;
	readonly rate: number;
	private readonly sleep: (ms: number) => Promise<void>;
	private readonly now: () => number;
	private ensured: Promise<void> | undefined;

	/** A pool of its own (see sidePool): the budget is asked by code that may hold every connection of the caller's. */
	private readonly db: Db;

	constructor(
		pricebookDb: Db,
		private readonly options: SharedBudgetOptions,
	) {
		this.key = budgetKeyOf(options.appKey, options.tenantId);
		this.rate = validRequestsPerSecond(options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND);
		this.db = sidePool(pricebookDb, 'request budget');
		this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
		this.now = options.now ?? (() => performance.now());
	}

	async acquire(lane: Lane): Promise<void> {
		const request = {
			ratePerSecond: this.rate,
			horizonS: LANE_HORIZON_S[lane],
			lane,
			yields: lane === 'bulk',
			holdS: lane === 'bulk' ? 0 : PRIORITY_HOLD_S,
			counts: true,
		};
		for (;;) {
			// Measured from before the question: the slot lies at least this far ahead of when it was asked for.
			const asked = this.now();
			let answer = await takeSlot(this.db, this.key, request);
			if (answer === null) {
				await (this.ensured ??= ensureBudget(this.db, this.key, this.options.tenantId, this.rate));
				answer = await takeSlot(this.db, this.key, request);
				if (answer === null) throw new Error('the ServiceTitan request budget row could not be created (st_request_budget)');
			}
			if (answer.granted) {
				if (answer.waitMs >= 1) await this.sleep(answer.waitMs);
				if (this.now() - asked - answer.waitMs <= MAX_LATE_MS) return;
				// Too late for its slot (see MAX_LATE_MS): the slot goes unused, and the request queues again. It was
				// counted with its first slot: one request, however many slots it took.
				request.counts = false;
				continue;
			}
			// Ask again when the queue has drained to what this lane may reach; a little jitter keeps waiting
			// processes from asking in lockstep.
			await this.sleep(Math.max(5, answer.retryMs) + Math.random() * 10);
		}
	}

	async close(): Promise<void> {
		await closeDb(this.db);
	}

	async rateLimited(waitMs: number | undefined): Promise<void> {
		await lowerBudget(this.db, this.key, waitMs ?? 1000, LOWERED_FOR_S);
	}
}
