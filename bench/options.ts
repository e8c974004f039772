import * as path from 'node:path';

export interface BenchOptions {
	quick: boolean;
	/** Full-sync sizes (materials). */
	sizes: number[];
	/** The size the incremental, single-entity, physical-limit and n8n cases run at. */
	referenceSize: number;
	/** Runs per size; each case reports the median. */
	runs: (n: number) => number;
	/** Added by the simulator to every API request. */
	latencyMs: number;
	pageSize: number;
	entityCalls: number;
	stEdits: number;
	retoolEdits: number;
	/** The mass-push case: Retool price edits pushed by two incremental runs at once, on a database of `materials`. */
	massPush: { edits: number; materials: number };
	/** The CPU profile of one reference full sync (a run of its own; the stage spans are always taken). */
	cpuProfile: boolean;
	outDir: string;
	/** Also write the JSON to reports/bench.json, the committed report the docs' figures are rendered from. */
	report: boolean;
	seed: number;
}

export const USAGE = `Usage: npm run bench -- [options]
  --quick             10,000 and 50,000 items, fewer runs, a 600-edit push, no CPU profile (about 2 minutes
                      on 2 cores); CI runs this
  --latency MS        simulated ServiceTitan latency per API request (default 50)
  --runs N            runs per size (default: quick 3 at 10,000 and 1 at 50,000; full 5 / 3 / 3 / 1)
  --sizes A,B,...     full-sync sizes (default: quick 10000,50000; full 10000,50000,100000,1000000; a million
                      gets one run, about 5 minutes with its simulator's 15 s start)
  --entity-calls N    single-entity syncs (default 200)
  --push-edits N      Retool edits in the mass-push case (default: quick 600, full 10000)
  --profile           take the CPU profile in --quick too   --no-profile  skip it in the full run
  --out DIR           where latest.json and latest.svg go (default bench/results)
  --report            also write the JSON to reports/bench.json (then: npm run docs:figures)
Environment: BENCH_DATABASE_URL  admin URL of a PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test;
  a database per case is created and dropped there; without a server an embedded PostgreSQL is started).
Prints one JSON object on stdout (progress on stderr) and writes it to <out>/latest.json, the plot to <out>/latest.svg.`;

export const REFERENCE_SIZE = 50_000;
export const MILLION = 1_000_000;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
	const flags = new Set<string>();
	const values = new Map<string, string>();
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
		const [name, inline] = arg.slice(2).split('=', 2);
		if (['quick', 'profile', 'no-profile', 'report', 'help'].includes(name)) flags.add(name);
		else if (['latency', 'runs', 'sizes', 'entity-calls', 'push-edits', 'out'].includes(name)) {
			const value = inline ?? argv[++i];
			if (value === undefined) throw new Error(`--${name} needs a value`);
			values.set(name, value);
		} else throw new Error(`unknown option --${name}`);
	}
	if (flags.has('help')) return 'help';
	const quick = flags.has('quick');
	const int = (name: string, fallback: number, min = 0): number => {
		const raw = values.get(name);
		if (raw === undefined) return fallback;
		const n = Number(raw);
		if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
		return n;
	};
	const sizes = values.has('sizes')
		? values
				.get('sizes')!
				.split(',')
				.map((s) => Number(s.trim()))
		: quick
			? [10_000, REFERENCE_SIZE]
			: [10_000, REFERENCE_SIZE, 100_000, MILLION];
	if (sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--sizes takes whole numbers of at least 100');
	if (!sizes.includes(REFERENCE_SIZE)) sizes.push(REFERENCE_SIZE);
	sizes.sort((a, b) => a - b);
	const fixedRuns = values.has('runs') ? int('runs', 1, 1) : undefined;
	return {
		quick,
		sizes,
		referenceSize: REFERENCE_SIZE,
		// One run at a million: a full sync and its re-run take minutes there.
		runs: (n) => fixedRuns ?? (n >= MILLION ? 1 : quick ? (n <= 10_000 ? 3 : 1) : n <= 10_000 ? 5 : 3),
		latencyMs: int('latency', 50),
		pageSize: 5000,
		entityCalls: int('entity-calls', 200, 1),
		stEdits: 1000,
		retoolEdits: 100,
		massPush: { edits: int('push-edits', quick ? 600 : 10_000, 2), materials: quick ? 10_000 : REFERENCE_SIZE },
		cpuProfile: flags.has('profile') || (!quick && !flags.has('no-profile')),
		outDir: path.resolve(values.get('out') ?? path.join(__dirname, '../../bench/results')),
		report: flags.has('report'),
		seed: 1,
	};
}
