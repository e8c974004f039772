import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { Job, StepResult, WorkerMessage } from './worker';

/**
 * Runs one job in a fresh worker process and returns its steps. `nodeArgs` (e.g. --cpu-prof) go to that process
 * only.
 */
export async function runJob(job: Job, options: { nodeArgs?: string[] } = {}): Promise<StepResult[]> {
	const child = fork(path.join(__dirname, 'worker.js'), [], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		execArgv: ['--expose-gc', ...(options.nodeArgs ?? [])],
	});
	child.send(job);
	let message: WorkerMessage | undefined;
	child.on('message', (m: WorkerMessage) => {
		message = m;
	});
	const code = await new Promise<number | null>((resolve, reject) => {
		child.once('exit', (c) => resolve(c));
		child.once('error', reject);
	});
	if (!message) throw new Error(`benchmark worker exited (${code}) without a result`);
	if (message.type === 'error') throw new Error(`benchmark worker failed: ${message.message}`);
	return message.steps;
}
