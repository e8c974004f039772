import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

export interface BuiltCli {
	/** The compiled `dist/cli/main.js` equivalent. */
	main: string;
	root: string;
}

export interface ProcessRun {
	code: number | null;
	stdout: string;
	stderr: string;
}

/**
 * The command line compiled for tests that run it as real processes, as `npm start` does: lib/, cli/ and sim/
 * transpiled with the project's compiler options into a folder of its own (the migrations copied beside, as the
 * build does), so such a test never reads a stale dist/ nor races another test building it. Types are checked by
 * `npm run typecheck`, not here.
 */
export function buildCliForTests(): BuiltCli {
	const root = mkdtempSync(path.join(tmpdir(), 'pricebook-cli-build-'));
	const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (file) => readFileSync(file, 'utf8'));
	const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
	const compilerOptions = { ...options, sourceMap: false, declaration: false, noEmit: false };
	const walk = (dir: string): void => {
		for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
			const rel = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(rel);
			else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
				const out = ts.transpileModule(readFileSync(path.join(ROOT, rel), 'utf8'), { compilerOptions, fileName: path.join(ROOT, rel) });
				mkdirSync(path.join(root, dir), { recursive: true });
				writeFileSync(path.join(root, rel.replace(/\.ts$/, '.js')), out.outputText);
			}
		}
	};
	for (const dir of ['lib', 'cli', 'sim']) walk(dir);
	cpSync(path.join(ROOT, 'lib/db/migrations'), path.join(root, 'lib/db/migrations'), { recursive: true });
	// Dependencies resolve as in the clone.
	symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
	return { main: path.join(root, 'cli/main.js'), root };
}

/** Runs the compiled CLI as a process in `cwd` with exactly `env`, and collects what it printed (`onStderr` hears it as it comes; `onSpawn` gets the process). */
export function runCliProcess(
	cli: BuiltCli,
	args: string[],
	options: { cwd: string; env: NodeJS.ProcessEnv; onStderr?: (text: string) => void; onSpawn?: (child: ChildProcess) => void },
): Promise<ProcessRun> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli.main, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
		options.onSpawn?.(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString('utf8');
			options.onStderr?.(stderr);
		});
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}
