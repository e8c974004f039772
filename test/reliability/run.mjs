#!/usr/bin/env node
// `npm run test:reliability [-- --soak | --scenarios N | --seed S] [--report]`: builds nothing itself (the npm script
// builds first, the process suite runs the built CLI), runs jest's reliability project and prints the figures each
// suite wrote; --report also saves them to reports/reliability.json (for `npm run docs:figures`). Exit code: jest's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const wholeNumber = (flag, value) => {
	if (!/^\d{1,9}$/.test(value ?? '') || Number(value) < 1) {
		console.error(`${flag} needs a positive whole number (got ${JSON.stringify(value ?? null)}); see --help`);
		process.exit(2);
	}
	return value;
};
const env = { ...process.env };
let report = false;
for (let i = 0; i < args.length; i++) {
	const a = args[i];
	if (a === '--soak') env.RELIABILITY_SCENARIOS = env.RELIABILITY_SCENARIOS ?? '20000';
	else if (a === '--scenarios') env.RELIABILITY_SCENARIOS = wholeNumber(a, args[++i]);
	else if (a === '--seed') env.RELIABILITY_SEED = wholeNumber(a, args[++i]);
	else if (a === '--report') report = true;
	else if (a === '--help') {
		console.log(
			'usage: npm run test:reliability [-- --soak | --scenarios N | --seed S] [--report]\n  default: 1,000 model-based scenarios (CI), seed 20261125; --soak: 20,000 scenarios, seed as given\n  --report: also save the figures to reports/reliability.json (then: npm run docs:figures)',
		);
		process.exit(0);
	} else {
		console.error(`unknown option ${a} (see --help)`);
		process.exit(2);
	}
}
if (args.includes('--soak') && !env.RELIABILITY_SEED) env.RELIABILITY_SEED = String(Date.now() % 1_000_000_000);

const dir = mkdtempSync(path.join(tmpdir(), 'reliability-'));
env.RELIABILITY_FIGURES_DIR = dir;
const started = Date.now();
const startedAt = new Date(started).toISOString();
const jest = spawnSync(process.execPath, ['node_modules/jest/bin/jest.js', '--selectProjects', 'reliability'], { env, stdio: 'inherit' });
const seconds = Math.round((Date.now() - started) / 1000);

const figures = Object.fromEntries(readdirSync(dir).map((f) => [path.basename(f, '.json'), JSON.parse(readFileSync(path.join(dir, f), 'utf8'))]));
rmSync(dir, { recursive: true, force: true });

const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
const list = (o) =>
	Object.entries(o ?? {})
		.sort((a, b) => b[1] - a[1])
		.map(([k, v]) => `${k} ${v}`)
		.join(', ') || 'none';
const m = figures['model-based'];
const p = figures.processes;
// The hostile-input suite is one file per entry-point family, each publishing `hostile-input.<part>`: one line, their sum.
const addFigures = (a, b) =>
	Object.fromEntries(
		[...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
			k,
			typeof (a[k] ?? b[k]) === 'number' ? (a[k] ?? 0) + (b[k] ?? 0) : addFigures(a[k] ?? {}, b[k] ?? {}),
		]),
	);
const hostileParts = Object.entries(figures).filter(([suite]) => suite === 'hostile-input' || suite.startsWith('hostile-input.'));
const h = hostileParts.length > 0 ? hostileParts.map(([, part]) => part).reduce(addFigures) : undefined;
const lines = ['', `Reliability report (${seconds} s, jest exit code ${jest.status})`];
if (m) {
	lines.push(
		`  model-based: ${m.scenarios} scenarios (seed ${m.seed}, ${m.lanes} lanes), ${sum(m.steps)} steps, ${m.invariantChecks} invariant checks, ${m.converged} converged`,
		`    edits: ServiceTitan ${m.stEdits} (${m.clockSteps ?? 0} with its clock jumping ahead or stepping back), deletes ${m.stDeletes}, creations ${m.stCreates}; Retool ${m.localEdits}; vendor prices ${m.vendorEdits}`,
		`    runs: ${list(m.runs)}; crashes injected ${m.crashes}; idempotent re-runs checked ${m.idempotentReruns}`,
		...Object.entries(m.runsByDriver ?? {}).map(([driver, runs]) => `      ${driver} driver: ${sum(runs)} runs (${list(runs)})`),
		`    n8n steps run twice (none did anything twice): ${list(m.stepReruns)}; leases of dead n8n executions taken over ${m.leaseTakeovers ?? 0}`,
		`    faults injected (${sum(m.faults)}): ${list(m.faults)}`,
		`    runs with a fault plan: ${list(m.faultPlans)}`,
		`    resolutions: ${list(m.resolutions)}`,
		`    PATCH behaviours drawn: ${list(m.patchBehaviours)}`,
		`    pushes (${sum(m.pushes)}): ${list(m.pushes)}`,
		`    during a push: ${list(m.duringPush)}; held edits a person retried ${m.heldRetried ?? 0}`,
		`    Retool rows: ${list(m.retool ?? {})}`,
		`    undos (${sum(m.undos)}): ${list(m.undos ?? {})}; fields back exactly on both sides ${m.exactUndoFields ?? 0}`,
	);
}
if (p) {
	lines.push(
		`  processes: ${p.concurrentRuns} concurrent runs (${p.busyAnswers} answered busy); ${p.editsDuringFullSync} Retool edits during a ${p.itemsInLargestSync}-item full sync (none lost);`,
		`    ${p.sigkills} SIGKILLs (${p.killedMidRun} mid-run), ${p.connectionDrops} PostgreSQL connection drop(s)`,
	);
}
if (h)
	lines.push(
		`  hostile input: ${h.inputsTried} inputs tried (${list(h.byEntryPoint)}), ${h.refusedCorrectly} refused correctly; ${h.roundTrips} round trips`,
	);
lines.push(`  violations: ${jest.status === 0 ? 0 : 'see the failures above'}`);
console.log(lines.join('\n'));
if (report) {
	const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../reports/reliability.json');
	const machine = { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` };
	mkdirSync(path.dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify({ suite: 'reliability', startedAt, seconds, jestExitCode: jest.status, machine, figures }, null, 2)}\n`);
	console.log(`  wrote ${path.relative(process.cwd(), file)}`);
}
process.exit(jest.status ?? 1);
