import { runCli } from '../../cli/main';

export interface CliRun {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the CLI in-process with a given environment, capturing what it prints. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
	const out: string[] = [];
	const err: string[] = [];
	const code = await runCli(argv, { env, stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false });
	return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
