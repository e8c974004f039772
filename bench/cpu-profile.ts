import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { round } from './stats';

/**
 * Where the sync process's CPU went, from a V8 CPU profile (node --cpu-prof) of one full sync. Each sample is
 * charged to the nearest frame on its stack that is project or package code (so a JSON.stringify or a Buffer write
 * counts for the code that called it), then grouped:
 * - idle: nothing to do, waiting for ServiceTitan or PostgreSQL;
 * - parse: the client's JSON parsing of ServiceTitan's pages;
 * - http: the client and axios (requests, decoding the bodies);
 * - compare: validation, canonical form, timestamps, the three-way comparison and the run loop;
 * - writePayload: building the JSON payloads and SQL of the writes (lib/db, pg-promise);
 * - driver: node-postgres encoding queries and decoding rows;
 * - gc: the garbage collector; other: the rest (module loading, the benchmark's own code).
 */
export interface CpuSplit {
	totalS: number;
	idleS: number;
	parseS: number;
	httpS: number;
	compareS: number;
	writePayloadS: number;
	driverS: number;
	gcS: number;
	otherS: number;
	/** The busiest functions (self time, charged as above), for the report. */
	top: { fn: string; ms: number }[];
}

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

type Group = Exclude<keyof CpuSplit, 'totalS' | 'top'>;

function groupOf(url: string, fn: string): Group | null {
	if (fn === '(idle)') return 'idleS';
	if (fn === '(garbage collector)') return 'gcS';
	if (fn === '(program)' || fn === '(root)') return 'otherS';
	if (!url || url.startsWith('node:')) return null; // builtins and Node's own code: charged to the caller
	if (url.includes('/lib/servicetitan/response')) return 'parseS';
	if (url.includes('/lib/servicetitan/timestamps')) return 'compareS';
	if (url.includes('/lib/servicetitan/') || url.includes('/node_modules/axios/') || url.includes('/node_modules/follow-redirects/')) return 'httpS';
	if (url.includes('/lib/entities/') || url.includes('/lib/sync/')) return 'compareS';
	if (url.includes('/lib/db/') || url.includes('/node_modules/pg-promise/lib/')) return 'writePayloadS';
	if (/\/node_modules\/(pg-promise\/node_modules\/)?(pg|pg-protocol|pg-types|pg-pool|postgres-[a-z]+)\//.test(url)) return 'driverS';
	return 'otherS';
}

export async function summarizeCpuProfile(file: string): Promise<CpuSplit> {
	const profile = JSON.parse(await fs.readFile(file, 'utf8')) as CpuProfile;
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const parent = new Map<number, number>();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const charged = new Map<number, { group: Group; fn: string }>();
	const charge = (id: number): { group: Group; fn: string } => {
		const known = charged.get(id);
		if (known) return known;
		let cursor: number | undefined = id;
		let result: { group: Group; fn: string } | undefined;
		while (cursor !== undefined) {
			const frame = byId.get(cursor)!.callFrame;
			const group = groupOf(frame.url, frame.functionName);
			if (group) {
				const where = frame.url
					? `${frame.url
							.replace(/^file:\/\//, '')
							.split('/')
							.slice(-3)
							.join('/')}:${frame.lineNumber + 1}`
					: '';
				result = { group, fn: `${frame.functionName || '(anonymous)'} ${where}`.trim() };
				break;
			}
			cursor = parent.get(cursor);
		}
		result ??= { group: 'otherS', fn: byId.get(id)!.callFrame.functionName || '(anonymous)' };
		charged.set(id, result);
		return result;
	};
	const groups: Record<Group, number> = { idleS: 0, parseS: 0, httpS: 0, compareS: 0, writePayloadS: 0, driverS: 0, gcS: 0, otherS: 0 };
	const byFn = new Map<string, number>();
	let total = 0;
	profile.samples.forEach((id, i) => {
		const dt = profile.timeDeltas[i] ?? 0;
		total += dt;
		const c = charge(id);
		groups[c.group] += dt;
		if (c.group !== 'idleS') byFn.set(c.fn, (byFn.get(c.fn) ?? 0) + dt);
	});
	const s = (us: number): number => round(us / 1e6, 3);
	return {
		totalS: s(total),
		idleS: s(groups.idleS),
		parseS: s(groups.parseS),
		httpS: s(groups.httpS),
		compareS: s(groups.compareS),
		writePayloadS: s(groups.writePayloadS),
		driverS: s(groups.driverS),
		gcS: s(groups.gcS),
		otherS: s(groups.otherS),
		top: [...byFn.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, 12)
			.map(([fn, us]) => ({ fn, ms: round(us / 1000, 1) })),
	};
}

/** The newest .cpuprofile in `dir`. */
export async function newestProfile(dir: string): Promise<string> {
	const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
	if (files.length === 0) throw new Error(`no CPU profile was written to ${dir}`);
	const stats = await Promise.all(files.map(async (f) => ({ f, t: (await fs.stat(path.join(dir, f))).mtimeMs })));
	return path.join(dir, stats.sort((a, b) => b.t - a.t)[0].f);
}
