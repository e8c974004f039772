/**
 * The sync's benchmark (`npm run bench`, `npm run bench -- --quick`): real PostgreSQL, the ServiceTitan simulator
 * over HTTP on loopback in a process of its own, and every measured case in a fresh worker process of its own.
 * Prints one JSON object on stdout (progress and a table of figures against targets on stderr) and writes it to
 * bench/results/latest.json, with the plot in latest.svg. It fails only when the benchmark itself breaks (a run
 * that fails or does not do what the case says), never because a target was missed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runJob } from './child';
import { ENTITY, startSim, type BenchContext } from './context';
import { checkFullSync, fullSyncSteps, FULL, summarizeFullSync, type FullSyncFigures } from './cases/full-sync';
import { checkIncremental, editIds, incrementalSteps, summarizeIncremental } from './cases/incremental';
import { measureMassPush } from './cases/mass-push';
import { measureN8nFullSync } from './cases/n8n';
import { checkPhysicalLimit, physicalLimitSteps, summarizePhysicalLimit } from './cases/physical-limit';
import { singleEntitySteps, summarizeSingleEntity } from './cases/single-entity';
import { newestProfile, summarizeCpuProfile, type CpuSplit } from './cpu-profile';
import { BenchDatabases } from './db';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { renderPlot } from './plot';
import { SimProcess } from './sim-handle';
import { stageSplit, describeSplit, type StageSplit } from './stage-split';
import { round } from './stats';
import { evaluateTargets, type TargetResult } from './targets';
import type { StepResult } from './worker';

type RunSteps = Record<string, StepResult>;

/** Full syncs at every size; at the reference size each run also carries the incremental, single-entity and physical-limit steps. */
async function measureSizes(ctx: BenchContext): Promise<Map<number, RunSteps[]>> {
	const { opts, dbs, log } = ctx;
	const bySize = new Map<number, RunSteps[]>();
	for (const n of opts.sizes) {
		const isReference = n === opts.referenceSize;
		const runs: RunSteps[] = [];
		let sim: SimProcess | null = null;
		for (let run = 1; run <= opts.runs(n); run++) {
			// The reference runs edit the simulator's data, so each gets a pristine one (its unchanged incremental must
			// not see the previous run's edits inside the cursor's overlap window).
			if (!sim || isReference) {
				await sim?.stop();
				sim = await startSim(ctx, n);
			}
			const db = await dbs.create(`n${n}r${run}`);
			const scratch: string[] = [];
			const steps = fullSyncSteps();
			if (isReference) {
				const edits = editIds(await sim.ids(ENTITY), opts.stEdits, opts.retoolEdits);
				steps.push(...incrementalSteps(sim.ready.url, edits));
				if (run === 1) steps.push(...singleEntitySteps(sim.ready.url, opts.entityCalls, opts.latencyMs, opts.seed));
				const target = await dbs.create(`raw${run}`);
				scratch.push(target);
				steps.push(...physicalLimitSteps(target, opts.pageSize));
			}
			log(
				`${n} ${ENTITY}, run ${run}/${opts.runs(n)}: ${steps
					.filter((s) => s.kind !== 'simLatency')
					.map((s) => s.label)
					.join('; ')}`,
			);
			try {
				const results = await runJob({ db, st: sim.stConfig(), settings: { pageSize: opts.pageSize }, steps, stages: true });
				const byLabel: RunSteps = Object.fromEntries(results.map((r) => [r.label, r]));
				checkFullSync(n, byLabel);
				if (isReference) {
					checkIncremental(byLabel, opts.stEdits, opts.retoolEdits);
					checkPhysicalLimit(n, byLabel);
				}
				log(
					`  ${results
						.filter((r) => r.ms > 0)
						.map((r) => `${r.label}: ${r.samples ? `median ${round(median(r.samples), 1)} ms` : `${round(r.ms / 1000, 2)} s`}`)
						.join('; ')}; peak RSS ${round(byLabel[FULL].maxRssKb / 1024, 1)} MB`,
				);
				log(`  stages of the full sync: ${describeSplit(stageSplit(byLabel[FULL]))}`);
				runs.push(byLabel);
			} finally {
				for (const url of [db, ...scratch]) await dbs.drop(url);
			}
		}
		await sim?.stop();
		bySize.set(n, runs);
	}
	return bySize;
}

function median(values: readonly number[]): number {
	const s = [...values].sort((a, b) => a - b);
	const m = Math.floor(s.length / 2);
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface ProfileFigures {
	n: number;
	/** Stage spans of the median reference full sync (wall time). */
	wall: StageSplit | null;
	/** CPU of the sync process in a separate, profiled full sync (node --cpu-prof). */
	cpu: CpuSplit | null;
	cpuProfileFile: string | null;
	cpuProfileWallS: number | null;
}

/** One more reference full sync, under node --cpu-prof; the profile is kept next to the results. */
async function cpuProfile(ctx: BenchContext): Promise<{ cpu: CpuSplit; file: string; wallS: number }> {
	const n = ctx.opts.referenceSize;
	const dir = path.join(ctx.opts.outDir, 'cpu-profile');
	await fs.rm(dir, { recursive: true, force: true });
	await fs.mkdir(dir, { recursive: true });
	const sim = await startSim(ctx, n);
	const db = await ctx.dbs.create('profile');
	try {
		ctx.log(`CPU profile: one more full sync of ${n} under node --cpu-prof`);
		const [step] = await runJob(
			{ db, st: sim.stConfig(), settings: { pageSize: ctx.opts.pageSize }, steps: fullSyncSteps().slice(0, 1), stages: true },
			{ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] },
		);
		const raw = await newestProfile(dir);
		const file = path.join(ctx.opts.outDir, `full-sync-${n}.cpuprofile`);
		await fs.rename(raw, file);
		await fs.rm(dir, { recursive: true, force: true });
		return { cpu: await summarizeCpuProfile(file), file, wallS: round(step.ms / 1000) };
	} finally {
		await sim.stop();
		await ctx.dbs.drop(db);
	}
}

function printTable(log: (line: string) => void, targets: TargetResult[]): void {
	const fmt = (t: TargetResult): string => (t.figure === null ? '-' : `${t.figure} ${t.unit}`);
	const width = Math.max(...targets.map((t) => t.what.length));
	log('');
	log('figures against targets:');
	for (const t of targets) {
		const mark = t.met === null ? '·' : t.met ? '✓' : '✗';
		log(`  ${mark} ${t.what.padEnd(width)}  ${fmt(t).padStart(10)}   target ${t.target}${t.seed ? `; seed spec ${t.seed}` : ''}`);
		if (t.note) log(`      ${t.note}`);
	}
}

async function main(): Promise<number> {
	let opts: BenchOptions | 'help';
	try {
		opts = parseOptions(process.argv.slice(2));
	} catch (error) {
		process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
		return 2;
	}
	if (opts === 'help') {
		process.stdout.write(`${USAGE}\n`);
		return 0;
	}
	const started = Date.now();
	const log = (line: string): void => void process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
	log(`${opts.quick ? 'quick' : 'full'} mode: sizes ${opts.sizes.join(', ')}; latency ${opts.latencyMs} ms; page size ${opts.pageSize}`);
	const dbs = await BenchDatabases.open(log);
	const interrupted = (): void => {
		SimProcess.killAll();
		void dbs.close().finally(() => process.exit(130));
	};
	process.once('SIGINT', interrupted);
	process.once('SIGTERM', interrupted);
	try {
		await dbs.describeServer();
		const ctx: BenchContext = { opts, dbs, log };
		const bySize = await measureSizes(ctx);
		const fullSync: FullSyncFigures[] = opts.sizes.map((n) => summarizeFullSync(n, bySize.get(n)!));
		const reference = fullSync.find((f) => f.n === opts.referenceSize)!;
		const referenceRuns = bySize.get(opts.referenceSize)!;
		const incremental = summarizeIncremental(opts.referenceSize, referenceRuns, opts.stEdits, opts.retoolEdits);
		const singleEntity = summarizeSingleEntity(opts.referenceSize, referenceRuns[0], opts.latencyMs);
		const physicalLimit = summarizePhysicalLimit(opts.referenceSize, referenceRuns);
		const n8n = await measureN8nFullSync(ctx, { medianS: reference.wallS.median });
		const massPush = await measureMassPush(ctx);
		const profiled = opts.cpuProfile ? await cpuProfile(ctx) : null;
		const profile: ProfileFigures = {
			n: opts.referenceSize,
			wall: reference.stages,
			cpu: profiled?.cpu ?? null,
			cpuProfileFile: profiled ? path.relative(process.cwd(), profiled.file) : null,
			cpuProfileWallS: profiled?.wallS ?? null,
		};
		const targets = evaluateTargets({ fullSync, incremental, singleEntity, physicalLimit, n8n, massPush, referenceSize: opts.referenceSize });
		const seedSpec = [
			{ n: 10_000, seedExpects: '~15 min', seedS: 15 * 60 },
			{ n: 50_000, seedExpects: '~60 min', seedS: 60 * 60 },
		].flatMap(({ n, seedExpects, seedS }) => {
			const f = fullSync.find((x) => x.n === n);
			return f ? [{ n, seedExpects, oursS: f.wallS.median, timesFaster: Math.round(seedS / f.wallS.median) }] : [];
		});
		await fs.mkdir(opts.outDir, { recursive: true });
		const jsonFile = path.join(opts.outDir, 'latest.json');
		const svgFile = path.join(opts.outDir, 'latest.svg');
		const cpus = os.cpus();
		const output = {
			benchmark: 'pricebook-sync',
			mode: opts.quick ? 'quick' : 'full',
			startedAt: new Date(started).toISOString(),
			durationS: 0,
			machine: {
				cpus: cpus.length,
				cpuModel: cpus[0]?.model ?? null,
				memoryGb: round(os.totalmem() / 2 ** 30, 1),
				node: process.version,
				platform: `${os.platform()} ${os.release()}`,
			},
			postgres: dbs.server,
			settings: {
				entity: ENTITY,
				latencyMs: opts.latencyMs,
				pageSize: opts.pageSize,
				stClientLimits: 'production defaults: 60 requests/s, 8 concurrent, pushes 4 at a time',
				runs: Object.fromEntries(opts.sizes.map((n) => [n, opts.runs(n)])),
				entityCalls: opts.entityCalls,
				stEdits: opts.stEdits,
				retoolEdits: opts.retoolEdits,
				massPush: opts.massPush,
				seed: opts.seed,
			},
			targets,
			cases: { fullSync, incremental, singleEntity, physicalLimit, n8n, massPush },
			seedSpec,
			profile,
			files: { json: path.relative(process.cwd(), jsonFile), svg: path.relative(process.cwd(), svgFile) },
		};
		const rssTargets = [{ value: 300, label: 'target: <= 300 MB at 100k and 1M' }];
		const small = fullSync.find((f) => f.n === 10_000);
		if (small) rssTargets.push({ value: round(small.peakRssMb.median * 1.5, 1), label: 'growth limit: 1.5x the 10k figure' });
		const svg = renderPlot({
			title: `Full sync of N materials: wall time and peak memory (${output.mode} run, ${output.startedAt.slice(0, 16).replace('T', ' ')} UTC)`,
			subtitle: `${cpus.length} cores, Node ${process.version}, PostgreSQL ${dbs.server.version}; simulated ServiceTitan latency ${opts.latencyMs} ms, page size ${opts.pageSize}; runs per size: ${opts.sizes.map((n) => `${n / 1000}k x${opts.runs(n)}`).join(', ')}`,
			points: fullSync.map((f) => ({ n: f.n, wallS: f.wallS, againS: f.again.wallS, rssMb: f.peakRssMb, liveHeapMb: f.liveHeapMb })),
			wallTargets: [{ value: 15, label: 'target: full sync of 50k <= 15 s' }],
			rssTargets,
		});
		output.durationS = round((Date.now() - started) / 1000, 1);
		await fs.writeFile(jsonFile, `${JSON.stringify(output, null, 2)}\n`);
		await fs.writeFile(svgFile, svg);
		if (opts.report) {
			const reportFile = path.join(__dirname, '../../reports/bench.json');
			await fs.mkdir(path.dirname(reportFile), { recursive: true });
			await fs.writeFile(reportFile, `${JSON.stringify(output, null, 2)}\n`);
			log(`wrote ${path.relative(process.cwd(), reportFile)}`);
		}
		printTable(log, targets);
		log(`wrote ${output.files.json} and ${output.files.svg} in ${output.durationS} s`);
		process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
		return 0;
	} finally {
		SimProcess.killAll();
		await dbs.close();
	}
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exitCode = 1;
	},
);
