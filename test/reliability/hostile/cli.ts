import { terminalSafe } from '../../../cli/terminal-text';
import { runCliCaptured } from '../../support/cli';
import type { SyncHarness } from '../../support/sync-harness';
import { figures, tried } from './figures';
import { fingerprintOf, untouched } from './untouched';

// The command line, run in-process as the CLI tests do.

export interface CliCase {
	defect: string;
	argv: string[];
	mentions: string;
}

export async function expectCliRefuses(h: SyncHarness, entryPoint: string, c: CliCase): Promise<void> {
	tried(entryPoint, `cli: ${c.defect}`);
	const run = await untouched(h, () => runCliCaptured(c.argv, h.env));
	expect({ defect: c.defect, argv: c.argv, code: run.code, stdout: run.stdout }).toEqual({ defect: c.defect, argv: c.argv, code: 2, stdout: '' });
	// The message names the problem as the terminal shows it: control characters in it are escaped, not obeyed.
	expect(run.stderr).toContain(terminalSafe(c.mentions));
	figures.refusedCorrectly += 1;
}

interface CliOutcome {
	argv: string[];
	code: number;
	namesProblem: boolean;
	dbChanged: boolean;
	stCalled: boolean;
}

/** Runs one command and notes what happened, without asserting, so a test can list every input that fails. */
export async function observeCli(h: SyncHarness, entryPoint: string, argv: string[], mentions: string): Promise<CliOutcome> {
	tried(entryPoint);
	const before = await fingerprintOf(h);
	const stBefore = h.sim.control.requestCounts().total;
	const run = await runCliCaptured(argv, h.env);
	const outcome = {
		argv,
		code: run.code,
		namesProblem: run.stderr.includes(terminalSafe(mentions)),
		dbChanged: JSON.stringify(await fingerprintOf(h)) !== JSON.stringify(before),
		stCalled: h.sim.control.requestCounts().total > stBefore,
	};
	if (outcome.code === 2 && outcome.namesProblem && !outcome.dbChanged && !outcome.stCalled) figures.refusedCorrectly += 1;
	return outcome;
}

export const refusedCli = (argv: string[]): CliOutcome => ({ argv, code: 2, namesProblem: true, dbChanged: false, stCalled: false });
