import { ENTITY, TABLE } from '../context';
import { round, spread, type Spread } from '../stats';
import type { Step, StepResult } from '../worker';
import { FULL } from './full-sync';

/**
 * Case 5: the physical limit, in the same run on the same rows. `download`: every page of the listing through the
 * client (HTTP, the simulated latency, JSON parsing) and nothing else. `raw upsert`: the rows the full sync
 * wrote, copied out of its database (not timed), then COPY into a temporary table and one INSERT ... ON CONFLICT
 * into the same table of a fresh database (timed). Our full sync is reported as a ratio to their sum.
 */
export const DOWNLOAD = 'download and parse every page';
export const RAW_UPSERT = 'raw bulk upsert (COPY + INSERT ... ON CONFLICT)';

export function physicalLimitSteps(targetDb: string, pageSize: number): Step[] {
	return [
		{ kind: 'download', label: DOWNLOAD, entityType: ENTITY, pageSize },
		{ kind: 'rawUpsert', label: RAW_UPSERT, table: TABLE, targetDb },
	];
}

export function checkPhysicalLimit(n: number, steps: Record<string, StepResult>): void {
	if (steps[DOWNLOAD].items !== n) throw new Error(`${DOWNLOAD}: ${steps[DOWNLOAD].items} items, expected ${n}`);
	if (steps[RAW_UPSERT].items !== n) throw new Error(`${RAW_UPSERT}: ${steps[RAW_UPSERT].items} rows, expected ${n}`);
}

export interface PhysicalLimitFigures {
	n: number;
	downloadS: Spread;
	rawUpsertS: Spread;
	/** Median download + median raw upsert. */
	limitS: number;
	fullSyncS: number;
	/** Our full sync (median) over the limit. */
	ratio: number;
}

export function summarizePhysicalLimit(n: number, runs: Record<string, StepResult>[]): PhysicalLimitFigures {
	const downloadS = spread(runs.map((r) => r[DOWNLOAD].ms / 1000));
	const rawUpsertS = spread(runs.map((r) => r[RAW_UPSERT].ms / 1000));
	const fullSyncS = spread(runs.map((r) => r[FULL].ms / 1000)).median;
	const limitS = round(downloadS.median + rawUpsertS.median);
	return { n, downloadS, rawUpsertS, limitS, fullSyncS, ratio: round(fullSyncS / limitS, 2) };
}
