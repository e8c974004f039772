import { round } from './stats';
import type { StepResult } from './worker';

/**
 * Where a sync's wall time went, from the spans the worker takes around every ServiceTitan call and every query.
 * The run is sequential (page after page), so the parts add up to the wall time:
 * - `fetchParseS`: waiting for ServiceTitan's answers, the client's JSON parsing of them included;
 * - `dbReadS`: reading the local rows (and open conflicts) a page needs;
 * - `dbWriteS`: writing pricebook rows;
 * - `dbLedgerS`: the run ledger, change log, error log, ids seen by a full run, locks and session settings;
 * - `compareS`: the rest, our own JavaScript: validating ServiceTitan's records, their canonical form, the
 *   three-way comparison and building the write payloads.
 */
export interface StageSplit {
	wallS: number;
	fetchParseS: number;
	dbReadS: number;
	dbWriteS: number;
	dbLedgerS: number;
	compareS: number;
	stCalls: number;
	queries: number;
	/** The biggest part, for notes. */
	largest: string;
	/** The statements that took the most time (their first words), with their calls. */
	topStatements: { sql: string; s: number; calls: number }[];
}

export function stageSplit(step: StepResult | undefined): StageSplit | null {
	if (!step?.stages) return null;
	const s = step.stages;
	const wall = step.ms;
	const st = s.stMs;
	const read = s.dbMs.read;
	const write = s.dbMs.write;
	const ledger = s.dbMs.ledger + s.dbMs.other;
	const compare = Math.max(0, wall - st - read - write - ledger);
	const parts: Record<string, number> = {
		'fetch + parse (ServiceTitan)': st,
		'read (PostgreSQL)': read,
		'write (PostgreSQL)': write,
		'ledger (PostgreSQL)': ledger,
		'compare (our JavaScript)': compare,
	};
	const largest = Object.entries(parts).sort((a, b) => b[1] - a[1])[0];
	return {
		wallS: round(wall / 1000),
		fetchParseS: round(st / 1000),
		dbReadS: round(read / 1000),
		dbWriteS: round(write / 1000),
		dbLedgerS: round(ledger / 1000),
		compareS: round(compare / 1000),
		stCalls: s.stCalls,
		queries: Object.values(s.dbCalls).reduce((a, b) => a + b, 0),
		largest: `${largest[0]} ${round(largest[1] / 1000, 2)} s of ${round(wall / 1000, 2)} s`,
		topStatements: Object.entries(s.statements)
			.sort((a, b) => b[1].ms - a[1].ms)
			.slice(0, 6)
			.map(([sql, v]) => ({ sql, s: round(v.ms / 1000), calls: v.calls })),
	};
}

export function describeSplit(split: StageSplit | null): string {
	if (!split) return 'no stage spans';
	return (
		`fetch+parse ${split.fetchParseS} s, read ${split.dbReadS} s, write ${split.dbWriteS} s, ledger ${split.dbLedgerS} s, ` +
		`compare ${split.compareS} s (${split.stCalls} ServiceTitan calls, ${split.queries} queries)`
	);
}
