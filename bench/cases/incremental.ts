import { ENTITY, TABLE } from '../context';
import { spread, type Spread } from '../stats';
import { stageSplit, type StageSplit } from '../stage-split';
import type { Step, StepResult } from '../worker';
import { pickMedianRun } from './full-sync';

/** Case 3: incremental runs on the reference-size database the full sync just filled. */
export const INCREMENTAL_UNCHANGED = 'incremental (nothing changed)';
export const RETOOL_EDITS = 'Retool edits (setup, not timed as a case)';
export const ST_EDITS = 'ServiceTitan edits (setup, not timed as a case)';
export const INCREMENTAL_EDITS = 'incremental (ServiceTitan and Retool edits)';

/**
 * Edits on ids spread over the whole table: `stEdits` price changes in ServiceTitan, `retoolEdits` description
 * changes in Retool (plain UPDATEs), on disjoint items, so the run has exactly that many of each to do.
 */
export function editIds(ids: readonly number[], stEdits: number, retoolEdits: number): { st: number[]; retool: number[] } {
	const sorted = [...ids].sort((a, b) => a - b);
	const stStride = Math.floor(sorted.length / stEdits);
	const retoolStride = Math.floor(sorted.length / retoolEdits);
	if (stStride < 2 || retoolStride < 2) throw new Error(`${sorted.length} items are too few for ${stEdits} + ${retoolEdits} edits`);
	const st = Array.from({ length: stEdits }, (_, i) => sorted[i * stStride]);
	const taken = new Set(st);
	const retool = Array.from({ length: retoolEdits }, (_, i) => sorted[i * retoolStride + Math.floor(stStride / 2)]);
	if (retool.some((id) => taken.has(id))) throw new Error('edit sets overlap');
	return { st, retool };
}

export function incrementalSteps(simUrl: string, edits: { st: number[]; retool: number[] }): Step[] {
	return [
		{ kind: 'sync', label: INCREMENTAL_UNCHANGED, syncKind: 'incremental', entityType: ENTITY },
		{ kind: 'retoolEdits', label: RETOOL_EDITS, table: TABLE, ids: edits.retool },
		{ kind: 'stEdits', label: ST_EDITS, simUrl, entityType: ENTITY, ids: edits.st },
		{ kind: 'sync', label: INCREMENTAL_EDITS, syncKind: 'incremental', entityType: ENTITY },
	];
}

export function checkIncremental(steps: Record<string, StepResult>, stEdits: number, retoolEdits: number): void {
	const unchanged = steps[INCREMENTAL_UNCHANGED].result!;
	if (unchanged.kind !== 'incremental') throw new Error(`${INCREMENTAL_UNCHANGED} ran as ${unchanged.kind}`);
	const s0 = unchanged.summary;
	if (s0.newInST + s0.modifiedInSTOnly + s0.modifiedLocalOnly + s0.conflicts + s0.deletedInST !== 0) {
		throw new Error(`${INCREMENTAL_UNCHANGED} found changes: ${JSON.stringify(s0)}`);
	}
	const edited = steps[INCREMENTAL_EDITS].result!;
	const s = edited.summary;
	if (
		edited.kind !== 'incremental' ||
		s.modifiedInSTOnly !== stEdits ||
		s.modifiedLocalOnly !== retoolEdits ||
		edited.itemsPushed !== retoolEdits ||
		s.conflicts !== 0
	) {
		throw new Error(
			`${INCREMENTAL_EDITS}: expected ${stEdits} from ServiceTitan and ${retoolEdits} pushed, got ${JSON.stringify({ kind: edited.kind, ...s, itemsPushed: edited.itemsPushed })}`,
		);
	}
}

export interface IncrementalFigures {
	n: number;
	unchanged: { wallS: Spread; stages: StageSplit | null };
	edits: {
		stEdits: number;
		retoolEdits: number;
		wallS: Spread;
		summary: NonNullable<StepResult['result']>['summary'];
		itemsPushed: number;
		stages: StageSplit | null;
	};
}

export function summarizeIncremental(n: number, runs: Record<string, StepResult>[], stEdits: number, retoolEdits: number): IncrementalFigures {
	const u = pickMedianRun(runs, INCREMENTAL_UNCHANGED);
	const e = pickMedianRun(runs, INCREMENTAL_EDITS);
	return {
		n,
		unchanged: { wallS: spread(runs.map((r) => r[INCREMENTAL_UNCHANGED].ms / 1000)), stages: stageSplit(u[INCREMENTAL_UNCHANGED]) },
		edits: {
			stEdits,
			retoolEdits,
			wallS: spread(runs.map((r) => r[INCREMENTAL_EDITS].ms / 1000)),
			summary: e[INCREMENTAL_EDITS].result!.summary,
			itemsPushed: e[INCREMENTAL_EDITS].result!.itemsPushed,
			stages: stageSplit(e[INCREMENTAL_EDITS]),
		},
	};
}
