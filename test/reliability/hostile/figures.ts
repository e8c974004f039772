import { publishFigures } from '../model/figures';

/**
 * What the hostile-input files tried, for the report `npm run test:reliability` prints. Each test file counts
 * in its own copy of this module (jest loads modules per file) and publishes it as `hostile-input.<part>`;
 * run.mjs adds the parts up into one hostile-input line.
 */
export const figures = {
	inputsTried: 0,
	byEntryPoint: {} as Record<string, number>,
	/** Inputs tried per kind of defect (e.g. "bad id", "mergedData not JSON"), over all entry points. */
	byDefect: {} as Record<string, number>,
	refusedCorrectly: 0,
	/** GET status takes no input: hostile query strings and bodies must leave it answering 200, read-only. */
	readOnlyUnaffected: 0,
	roundTrips: 0,
};

export function tried(entryPoint: string, defect?: string): void {
	figures.inputsTried += 1;
	figures.byEntryPoint[entryPoint] = (figures.byEntryPoint[entryPoint] ?? 0) + 1;
	if (defect) figures.byDefect[defect] = (figures.byDefect[defect] ?? 0) + 1;
}

/** Call from the test file's afterAll; `part` names the file's family (webhooks, cli, ...). */
export function publishHostileFigures(part: string): void {
	publishFigures(`hostile-input.${part}`, figures);
}
