import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';

export interface CliRun {
	code: number;
	stdout: string;
	stderr: string;
}

let emptyFolder: string | undefined;
// Jest loads this module once per test file: the folder goes when the file's tests end.
afterAll(() => {
	if (emptyFolder) rmSync(emptyFolder, { recursive: true, force: true });
});

/**
 * An empty folder to run in: without DATABASE_URL the CLI falls back on the embedded database in `.data` of the
 * folder it runs in, and a clone where `npm start` ran has one. Tests must not see (or write) it.
 */
function emptyCwd(): string {
	emptyFolder ??= mkdtempSync(path.join(tmpdir(), 'pricebook-cli-cwd-'));
	return emptyFolder;
}

/** Runs the CLI in-process with a given environment (and working folder: default an empty one), capturing what it prints. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv, options: { cwd?: string } = {}): Promise<CliRun> {
	const out: string[] = [];
	const err: string[] = [];
	const code = await runCli(argv, { env, stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false, cwd: options.cwd ?? emptyCwd() });
	return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
