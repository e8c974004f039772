#!/usr/bin/env node
// `npm run docs:figures [-- --check]`: rewrites the figure blocks in README.md and docs/*.md from the suites' own
// report files, so no figure in the docs is typed by hand.
//
//   <!-- figures:reliability -->  ...  <!-- /figures:reliability -->   from reports/reliability.json
//                                                                       (npm run test:reliability -- --report)
//   <!-- figures:bench -->        ...  <!-- /figures:bench -->         from reports/bench.json
//                                                                       (npm run bench -- --report)
//
// A block whose report file is missing gets one line saying how to make it. --check changes nothing and exits 1
// when a block is not what the reports give (for CI). Plain Node, no dependencies.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
for (const a of args) {
	if (a === '--help') {
		console.log(
			'usage: npm run docs:figures [-- --check]\n  rewrites the <!-- figures:NAME --> blocks of README.md and docs/*.md from reports/*.json;\n  --check: change nothing, exit 1 if a block is out of date',
		);
		process.exit(0);
	}
	if (a !== '--check') {
		console.error(`unknown option ${a} (see --help)`);
		process.exit(2);
	}
}

const n = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '?');
const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
const list = (o) =>
	Object.entries(o ?? {})
		.sort((a, b) => b[1] - a[1])
		.map(([k, v]) => `${k} ${n(v)}`)
		.join(', ') || 'none';
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (head, rows) =>
	[`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

function readReport(name) {
	const file = path.join(root, 'reports', `${name}.json`);
	return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** One suite's figures from the parts its files published (numbers added, count maps merged); null when none. */
function mergeParts(parts) {
	if (parts.length === 0) return null;
	const add = (a, b) => {
		if (typeof b === 'number') return (typeof a === 'number' ? a : 0) + b;
		if (b && typeof b === 'object' && !Array.isArray(b)) {
			const out = { ...(a && typeof a === 'object' ? a : {}) };
			for (const [k, v] of Object.entries(b)) out[k] = add(out[k], v);
			return out;
		}
		return b;
	};
	return parts.reduce((acc, part) => add(acc, part), {});
}

function reliability() {
	const r = readReport('reliability');
	if (!r) return '_No report yet: run `npm run test:reliability -- --report`, then `npm run docs:figures`._';
	const { 'model-based': m, processes: p } = r.figures ?? {};
	const h = mergeParts(
		Object.entries(r.figures ?? {})
			.filter(([k]) => k === 'hostile-input' || k.startsWith('hostile-input.'))
			.map(([, v]) => v),
	);
	const rows = [];
	if (m) {
		rows.push(
			[
				'model-based',
				`${n(m.scenarios)} scenarios (seed ${m.seed}, ${m.lanes} lanes), ${n(sum(m.steps))} steps, ${n(m.invariantChecks)} invariant checks (one after every step), ${n(m.converged)} converged`,
			],
			['— steps', list(m.steps)],
			[
				'— edits',
				`ServiceTitan ${n(m.stEdits)} edits, ${n(m.stDeletes)} deletes, ${n(m.stCreates)} creations; Retool ${n(m.localEdits)} edits; vendor prices ${n(m.vendorEdits)} edits`,
			],
			['— runs', `${list(m.runs)}; ${n(m.crashes)} crashes injected; ${n(m.idempotentReruns)} re-runs checked to change nothing`],
			...Object.entries(m.runsByDriver ?? {}).map(([driver, runs]) => [`— ${driver} driver`, `${n(sum(runs))} runs: ${list(runs)}`]),
			...(m.stepReruns
				? [
						[
							'— n8n steps run twice',
							`${list(m.stepReruns)} (none did anything twice); ${n(m.leaseTakeovers)} leases of dead n8n executions taken over`,
						],
					]
				: []),
			['— faults injected', `${n(sum(m.faults))}: ${list(m.faults)}`],
			['— runs with a fault plan', list(m.faultPlans)],
			['— resolutions', list(m.resolutions)],
			...(m.pushes
				? [
						['— PATCH behaviours drawn', list(m.patchBehaviours)],
						['— pushes', `${n(sum(m.pushes))}: ${list(m.pushes)}`],
						['— during a push', `${list(m.duringPush)}; ${n(m.heldRetried)} held edits retried by a person before converging`],
					]
				: []),
			...(m.retool ? [['— Retool rows', list(m.retool)]] : []),
		);
	}
	if (p) {
		rows.push([
			'processes',
			`${n(p.concurrentRuns)} concurrent runs (${n(p.busyAnswers)} answered busy); ${n(p.editsDuringFullSync)} Retool edits during a ${n(p.itemsInLargestSync)}-item full sync, none lost; ${n(p.sigkills)} SIGKILLs (${n(p.killedMidRun)} mid-run); ${n(p.connectionDrops)} PostgreSQL connection drop(s)`,
		]);
	}
	if (h) {
		rows.push(
			[
				'hostile input',
				`${n(h.inputsTried)} generated inputs (${list(h.byEntryPoint)}); ${n(h.refusedCorrectly)} refused naming the problem with nothing written; ${n(h.readOnlyUnaffected)} sent to the read-only status webhook, which answered 200 writing nothing; ${n(h.roundTrips)} field values round-tripped unchanged`,
			],
			['— inputs by defect', list(h.byDefect)],
		);
	}
	const outcome =
		r.jestExitCode === 0
			? 'every scenario and check passed'
			: `**the run failed** (jest exit code ${r.jestExitCode}): these are the figures of a failing run`;
	const machine = r.machine ? `${r.machine.cpus} cores, Node ${r.machine.node}` : 'machine not recorded';
	return [
		`From \`reports/reliability.json\` (run ${String(r.startedAt).slice(0, 16).replace('T', ' ')} UTC, ${n(r.seconds)} s, ${machine}; ${outcome}):`,
		'',
		table(['suite', 'figures'], rows),
	].join('\n');
}

function bench() {
	const r = readReport('bench');
	if (!r) return '_No report yet: run `npm run bench -- --report`, then `npm run docs:figures`._';
	const s = r.settings ?? {};
	const mark = (met) => (met === null ? 'not measured' : met ? 'met' : '**missed**');
	const figure = (t) => (t.figure === null ? '–' : `${n(t.figure)} ${t.unit}`);
	const targets = table(
		['case', 'figure', 'target', 'result', 'seed spec'],
		r.targets.map((t) => [t.what, figure(t), t.target, mark(t.met), t.seed ?? '']),
	);
	const notes = r.targets.filter((t) => t.note).map((t) => `- *${t.what}*: ${t.note}`);
	const range = (x) => `${n(x.median)} (${n(x.min)}–${n(x.max)}, ${x.runs} run${x.runs === 1 ? '' : 's'})`;
	const sizes = table(
		['items', 'full sync, s: median (min–max)', 'items/s', 'again, nothing changed, s', 'peak RSS, MB', 'live heap, MB'],
		r.cases.fullSync.map((f) => [n(f.n), range(f.wallS), n(f.itemsPerS), n(f.again?.wallS?.median), range(f.peakRssMb), n(f.liveHeapMb?.median)]),
	);
	const w = r.profile?.wall;
	const split = w
		? `Where the reference full sync's ${n(w.wallS)} s go: ServiceTitan fetch and parse ${n(w.fetchParseS)} s, PostgreSQL read ${n(w.dbReadS)} s, write ${n(w.dbWriteS)} s, ledger ${n(w.dbLedgerS)} s, our comparison code ${n(w.compareS)} s (${n(w.stCalls)} ServiceTitan calls, ${n(w.queries)} queries).`
		: '';
	const m = r.cases.massPush;
	const push = m
		? `Mass push: ${n(m.edits)} Retool edits (${list(m.editsByType)}) on ${n(m.materials)} materials, by two incremental runs at once, in ${n(m.wallS)} s against a floor of ${n(m.floorS)} s (${n(m.ratio)}×); ${n(m.apiRequests)} ServiceTitan requests (${list(m.requestsByRoute)}), ${n(m.requestsPerS)}/s; busiest second ${n(m.busiestSecond)}, ${n(m.tooManyRequests)} 429s; ${n(m.verified)} of ${n(m.edits)} edits verified on both sides; single-entity syncs meanwhile: median ${n(m.singleEntity.medianMs)} ms, p95 ${n(m.singleEntity.p95Ms)} ms (${n(m.singleEntity.calls)} calls); worker peak RSS ${Object.values(m.workerPeakRssMb).map(n).join(' and ')} MB.`
		: '';
	const seed = (r.seedSpec ?? []).map((x) => `${n(x.n)} items: ${n(x.oursS)} s against the seed specification's ${x.seedExpects}`).join('; ');
	const pg = r.postgres ? `PostgreSQL ${String(r.postgres.version).split(' ')[0]}${r.postgres.embedded ? ' (embedded)' : ''}` : '';
	return [
		`From \`reports/bench.json\` (${r.mode} run, ${String(r.startedAt).slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cpus} cores, Node ${r.machine.node}, ${pg}; ${s.entity}, ServiceTitan latency ${s.latencyMs} ms, page size ${n(s.pageSize)}; runs per size: ${Object.entries(
			s.runs ?? {},
		)
			.map(([k, v]) => `${n(Number(k))} ×${v}`)
			.join(', ')}):`,
		'',
		targets,
		...(notes.length ? ['', 'Notes the benchmark wrote for missed or unmeasured targets:', '', ...notes] : []),
		'',
		sizes,
		...(split ? ['', split] : []),
		...(push ? ['', push] : []),
		...(seed ? ['', `Against the seed specification's expectations: ${seed}.`] : []),
	].join('\n');
}

const renderers = { reliability, bench };
const files = [
	'README.md',
	...(existsSync(path.join(root, 'docs'))
		? readdirSync(path.join(root, 'docs'))
				.filter((f) => f.endsWith('.md'))
				.map((f) => `docs/${f}`)
		: []),
];
let stale = 0;
for (const rel of files) {
	const file = path.join(root, rel);
	const text = readFileSync(file, 'utf8');
	const next = text.replace(/(<!-- figures:([a-z-]+) -->)[\s\S]*?(<!-- \/figures:\2 -->)/g, (whole, open, name, close) => {
		const render = renderers[name];
		if (!render) {
			console.error(`${rel}: unknown figures block "${name}" (known: ${Object.keys(renderers).join(', ')})`);
			process.exitCode = 2;
			return whole;
		}
		return `${open}\n${render()}\n${close}`;
	});
	if (next === text) continue;
	stale += 1;
	if (check) console.error(`${rel}: figures out of date (run npm run docs:figures)`);
	else {
		writeFileSync(file, next);
		console.log(`updated ${rel}`);
	}
}
if (check && stale > 0) process.exitCode = 1;
