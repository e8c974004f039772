import { ENTITY } from '../context';
import { median, percentile, round } from '../stats';
import { stageSplit } from '../stage-split';
import type { Step, StepResult } from '../worker';

/**
 * Case 4: single-entity syncs (what a Retool save or an external notice triggers) on the reference-size database,
 * of items drawn (seeded) from the whole table, with the production client (60 requests/s). Then, as a
 * diagnostic, the same calls with the simulator's latency set to 0 and the client's rate limit lifted, which shows
 * our own part of each call (one ServiceTitan round trip is the floor of every call; at 0 ms latency the calls
 * would otherwise run into the 60 requests/s limit).
 */
export const ENTITY_LOOP = 'single-entity syncs';
export const ENTITY_LOOP_NO_LATENCY = 'single-entity syncs at 0 ms latency';

export function singleEntitySteps(simUrl: string, calls: number, latencyMs: number, seed: number): Step[] {
	return [
		{ kind: 'entityLoop', label: ENTITY_LOOP, entityType: ENTITY, count: calls, seed },
		{ kind: 'simLatency', label: 'latency 0', simUrl, latencyMs: 0 },
		{ kind: 'entityLoop', label: ENTITY_LOOP_NO_LATENCY, entityType: ENTITY, count: calls, seed, client: { requestsPerSecond: 100_000 } },
		{ kind: 'simLatency', label: 'latency back', simUrl, latencyMs },
	];
}

export interface SingleEntityFigures {
	n: number;
	calls: number;
	latencyMs: number;
	medianMs: number;
	p95Ms: number;
	maxMs: number;
	/** One ServiceTitan GET at the simulated latency: no single-entity sync can be quicker. */
	floorMs: number;
	/**
	 * Our own part of a call: its wall time minus its time inside ServiceTitan calls (round trip, latency, parsing),
	 * the mean per call from the stage spans; without spans, the median minus the latency per request.
	 */
	ownMs: number;
	/** How ownMs was taken, for the target's note. */
	ownFrom: string;
	atZeroLatency: { medianMs: number; p95Ms: number };
	/** Mean per call, ms, from the stage spans (see stage-split.ts for the stages). */
	perCall: PerCall | null;
}

export interface PerCall {
	wallMs: number;
	fetchParseMs: number;
	dbReadMs: number;
	dbWriteMs: number;
	dbLedgerMs: number;
	compareMs: number;
	stCalls: number;
	queries: number;
}

export function summarizeSingleEntity(n: number, steps: Record<string, StepResult>, latencyMs: number): SingleEntityFigures {
	const samples = steps[ENTITY_LOOP].samples!;
	const zero = steps[ENTITY_LOOP_NO_LATENCY].samples!;
	const split = stageSplit(steps[ENTITY_LOOP]);
	const perCall = (seconds: number): number => round((seconds * 1000) / samples.length, 2);
	const own = split
		? {
				ownMs: round(perCall(split.wallS) - perCall(split.fetchParseS), 2),
				ownFrom: `own time = mean wall ${perCall(split.wallS)} ms - mean time in ServiceTitan calls ${perCall(split.fetchParseS)} ms (stage spans, ${round(split.stCalls / samples.length, 2)} call(s) each)`,
			}
		: {
				ownMs: round(median(samples) - latencyMs, 2),
				ownFrom: `own time = median wall ${round(median(samples), 1)} ms - the simulator's ${latencyMs} ms latency x 1 request (no stage spans)`,
			};
	return {
		n,
		calls: samples.length,
		latencyMs,
		medianMs: round(median(samples), 1),
		p95Ms: round(percentile(samples, 95), 1),
		maxMs: round(Math.max(...samples), 1),
		floorMs: latencyMs,
		...own,
		atZeroLatency: { medianMs: round(median(zero), 1), p95Ms: round(percentile(zero, 95), 1) },
		perCall: split && {
			wallMs: perCall(split.wallS),
			fetchParseMs: perCall(split.fetchParseS),
			dbReadMs: perCall(split.dbReadS),
			dbWriteMs: perCall(split.dbWriteS),
			dbLedgerMs: perCall(split.dbLedgerS),
			compareMs: perCall(split.compareS),
			stCalls: round(split.stCalls / samples.length, 2),
			queries: round(split.queries / samples.length, 1),
		},
	};
}
