import type { EntityDefinition } from '../entities/types';
import type { Task } from '../db/pricebook-store';
import type { StApi, SyncLog } from './ports';
import type { Tally } from './tally';

/** What one step of a run works with: its entity type, connection, ServiceTitan, clock and the step's own counts. */
export interface RunScope {
	def: EntityDefinition;
	t: Task;
	st: StApi;
	runId: number | null;
	dryRun: boolean;
	now: () => Date;
	tally: Tally;
	log: SyncLog;
	/** Parallel PATCH calls (the client's rate limiter still applies). */
	pushConcurrency: number;
}
