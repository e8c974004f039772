import { ENTITY } from '../context';
import { round, spread, type Spread } from '../stats';
import type { Step, StepResult } from '../worker';
import { stageSplit, type StageSplit } from '../stage-split';

/** Cases 1 and 2: a full sync of N materials into an empty database, then the same full sync again. */
export const FULL = 'full sync (empty database)';
export const FULL_AGAIN = 'full sync again (nothing changed)';

export function fullSyncSteps(): Step[] {
	return [
		{ kind: 'sync', label: FULL, syncKind: 'full', entityType: ENTITY },
		{ kind: 'sync', label: FULL_AGAIN, syncKind: 'full', entityType: ENTITY },
	];
}

/** Checks a run did what the case says, so a broken benchmark fails instead of timing the wrong thing. */
export function checkFullSync(n: number, steps: Record<string, StepResult>): void {
	const first = steps[FULL].result!;
	if (first.summary.newInST !== n || first.errors !== 0) throw new Error(`${FULL} of ${n}: expected ${n} new items, got ${JSON.stringify(first.summary)}`);
	const again = steps[FULL_AGAIN].result!;
	if (again.summary.noChange !== n || again.itemsSynced !== 0)
		throw new Error(`${FULL_AGAIN} of ${n}: expected ${n} unchanged, got ${JSON.stringify(again.summary)}`);
}

export interface FullSyncFigures {
	n: number;
	wallS: Spread;
	itemsPerS: number;
	/** process.resourceUsage().maxRSS of the sync's own process at the end of the sync, MB. */
	peakRssMb: Spread;
	/** Where the wall time of the median run went. */
	stages: StageSplit | null;
	/** The median run's heap and buffer peaks during the sync, and the heap still in use after it (forced GC). */
	memory: StepResult['memory'] | null;
	/** Over the runs: the most heap still in use right after a major collection during the sync (what it keeps alive), MB. */
	liveHeapMb: Spread | null;
	again: { wallS: Spread; stages: StageSplit | null };
}

export function summarizeFullSync(n: number, runs: Record<string, StepResult>[]): FullSyncFigures {
	const wall = runs.map((r) => r[FULL].ms / 1000);
	const medianRun = pickMedianRun(runs, FULL);
	const againRun = pickMedianRun(runs, FULL_AGAIN);
	const wallS = spread(wall);
	return {
		n,
		wallS,
		itemsPerS: Math.round(n / wallS.median),
		peakRssMb: spread(
			runs.map((r) => r[FULL].maxRssKb / 1024),
			1,
		),
		stages: stageSplit(medianRun[FULL]),
		memory: medianRun[FULL].memory ?? null,
		liveHeapMb: runs.every((r) => r[FULL].memory?.liveHeapPeakMb != null)
			? spread(
					runs.map((r) => r[FULL].memory!.liveHeapPeakMb!),
					1,
				)
			: null,
		again: { wallS: spread(runs.map((r) => r[FULL_AGAIN].ms / 1000)), stages: stageSplit(againRun[FULL_AGAIN]) },
	};
}

/** The run whose `label` step took the median time (the lower middle one for an even count). */
export function pickMedianRun(runs: Record<string, StepResult>[], label: string): Record<string, StepResult> {
	const sorted = [...runs].sort((a, b) => a[label].ms - b[label].ms);
	return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const mb = (kb: number): number => round(kb / 1024, 1);
