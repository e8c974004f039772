import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is asking ServiceTitan, in the order requests are served when the budget is short: a person waiting on one
 * item (a single-entity sync, a resolution, an undo or restore) goes ahead of the 15-minute incremental run, which
 * goes ahead of full runs, backfills and vendor-driven mass work.
 */
export type Lane = 'interactive' | 'incremental' | 'bulk';

export const LANES: readonly Lane[] = ['interactive', 'incremental', 'bulk'];

/** What every request waits on before it goes out: a local limiter, or the budget shared through PostgreSQL. */
export interface RequestThrottle {
	acquire(lane: Lane): Promise<void>;
	/** ServiceTitan answered 429: everyone sharing the budget should hold back (waitMs: the wait it named, if any). */
	rateLimited?(waitMs: number | undefined): Promise<void>;
	/** Releases what the throttle holds (the budget's database connections); the client's close() calls it. */
	close?(): Promise<void>;
}

// The lane travels with the async call chain, so a run sets it once and every request below it (pages, reads by id,
// pushes, their verification reads and retries) is counted in it, without threading it through every signature.
const laneStore = new AsyncLocalStorage<Lane>();

/** Runs `work` with every ServiceTitan request it makes counted in `lane`. */
export function inLane<T>(lane: Lane, work: () => Promise<T>): Promise<T> {
	return laneStore.run(lane, work);
}

/** The lane of the current call chain; work nobody placed is `bulk`, so it can never crowd out a person. */
export function currentLane(): Lane {
	return laneStore.getStore() ?? 'bulk';
}
