import { closeDb, connectDb } from '../../lib/db/connection';
import { readSyncRowsByIds } from '../../lib/db/pricebook-store';
import { entityDefinition } from '../../lib/entities/definitions';
import { runJob } from '../child';
import { startSim, type BenchContext } from '../context';
import { startInteractiveLoop, type InteractiveSample } from '../interactive-loop';
import type { SimProcess } from '../sim-handle';
import { stageSplit, type StageSplit } from '../stage-split';
import { median, percentile, round } from '../stats';
import type { Step, StepResult } from '../worker';

/**
 * Case 7: a mass push. A database synced with N materials gets E price edits from Retool (plain UPDATEs), half on
 * materials and half on equipment, and two worker processes each run the incremental sync of one of the two types
 * at the same time (runs of one type never overlap, so the halves are two types). Both draw on the request budget
 * the database shares (lib/budget, default rate), against one simulator that enforces ServiceTitan's limit of 60
 * requests in any second with the benchmark's latency. Meanwhile this process runs a single-entity sync of a
 * service (the interactive lane) every 300 ms, as a person saving in Retool would, and times each.
 */
export const ST_LIMIT_PER_S = 60;
export const PUSHED_TYPES = ['materials', 'equipment'] as const;
const INTERACTIVE_TYPE = 'services' as const;
const INTERACTIVE_EVERY_MS = 300;
const SERVICES = 200;
const SETUP = 'set-up: full syncs and Retool price edits';

/** `count` ids spread evenly over the sorted list. */
export function spreadIds(ids: readonly number[], count: number): number[] {
	const sorted = [...ids].sort((a, b) => a - b);
	const stride = Math.floor(sorted.length / count);
	if (stride < 1) throw new Error(`${sorted.length} items are too few for ${count} edits`);
	return Array.from({ length: count }, (_, i) => sorted[i * stride]);
}

/** A price no seeded item has (cents from the index), so every edit is a real change with a known value. */
const editedPrice = (i: number): number => round(100_000 + i / 100, 2);

export interface MassPushFigures {
	materials: number;
	edits: number;
	editsByType: Record<string, number>;
	/** From the first incremental's start to the last one's end, s. */
	wallS: number;
	/** E PATCHes at ServiceTitan's limit of 60 per second, s. */
	floorS: number;
	ratio: number;
	/** ServiceTitan requests during the push (both workers and the single-entity syncs), and per second of it. */
	apiRequests: number;
	requestsPerS: number;
	/** The same requests by route (`PATCH /materials/{id}`, ...), most first. */
	requestsByRoute: Record<string, number>;
	busiestSecond: number;
	tooManyRequests: number;
	/** Rows synced with the edited price that ServiceTitan holds too, of `edits`. */
	verified: number;
	singleEntity: { calls: number; medianMs: number; p95Ms: number; maxMs: number; everyMs: number };
	/** Peak RSS of each worker process, MB. */
	workerPeakRssMb: Record<string, number>;
	/** Where the slower worker's time went. */
	stages: StageSplit | null;
}

export async function measureMassPush(ctx: BenchContext): Promise<MassPushFigures> {
	const { opts, dbs, log } = ctx;
	const { edits, materials } = opts.massPush;
	const editsByType: Record<string, number> = { materials: Math.ceil(edits / 2), equipment: Math.floor(edits / 2) };
	const sim = await startSim(ctx, materials, {
		counts: { equipment: Math.max(1000, editsByType.equipment * 2), services: SERVICES },
		faults: { rateLimit: { budget: ST_LIMIT_PER_S } },
	});
	const db = await dbs.create('masspush');
	try {
		const edited: Record<string, { ids: number[]; prices: number[] }> = {};
		let next = 0;
		for (const type of PUSHED_TYPES) {
			const ids = spreadIds(await sim.ids(type), editsByType[type]);
			edited[type] = { ids, prices: ids.map(() => editedPrice(next++)) };
		}
		log(`mass push: ${SETUP} (${materials} materials; ${editsByType.materials} + ${editsByType.equipment} edits)`);
		const setup: Step[] = [
			...[...PUSHED_TYPES, INTERACTIVE_TYPE].map((entityType): Step => ({ kind: 'sync', label: `full ${entityType}`, syncKind: 'full', entityType })),
			...PUSHED_TYPES.map((type): Step => ({
				kind: 'retoolEdits',
				label: `Retool edits of ${type}`,
				table: entityDefinition(type).table,
				ids: edited[type].ids,
				prices: edited[type].prices,
			})),
		];
		await runJob({ db, st: sim.stConfig(), settings: { pageSize: opts.pageSize }, steps: setup, budget: true });

		log(`mass push: ${edits} edits by two incremental runs at once (${PUSHED_TYPES.join(' and ')}), single-entity syncs every ${INTERACTIVE_EVERY_MS} ms`);
		await sim.resetStats();
		const interactive = startInteractiveLoop(db, sim.stConfig(), INTERACTIVE_TYPE, await sim.ids(INTERACTIVE_TYPE), INTERACTIVE_EVERY_MS);
		let pushes: StepResult[] = [];
		let samples: InteractiveSample[] = [];
		try {
			pushes = await Promise.all(
				PUSHED_TYPES.map(async (entityType) => {
					const [step] = await runJob({
						db,
						st: sim.stConfig(),
						settings: { pageSize: opts.pageSize },
						steps: [{ kind: 'sync', label: `incremental ${entityType}`, syncKind: 'incremental', entityType }],
						stages: true,
						budget: true,
					});
					return step;
				}),
			);
		} finally {
			// Stopped either way, so a failing push does not leave the loop running; its own failure surfaces here.
			samples = await interactive.stop();
		}
		const stats = await sim.stats();
		checkPushes(pushes, editsByType);
		const verified = await countVerified(db, sim, edited);
		if (verified !== edits) throw new Error(`mass push: ${verified} of ${edits} edits are synced with ServiceTitan holding the value`);

		const startedAt = Math.min(...pushes.map((p) => p.startedAtMs!));
		const endedAt = Math.max(...pushes.map((p) => p.endedAtMs!));
		const wallS = (endedAt - startedAt) / 1000;
		const floorS = edits / ST_LIMIT_PER_S;
		const during = samples.filter((s) => s.startedAtMs >= startedAt && s.startedAtMs < endedAt).map((s) => s.ms);
		const slower = pushes.reduce((a, b) => (b.ms > a.ms ? b : a));
		return {
			materials,
			edits,
			editsByType,
			wallS: round(wallS),
			floorS: round(floorS),
			ratio: round(wallS / floorS, 3),
			apiRequests: stats.api,
			requestsPerS: round(stats.api / wallS, 1),
			requestsByRoute: Object.fromEntries(Object.entries(stats.byRoute).sort((a, b) => b[1] - a[1])),
			busiestSecond: stats.busiestSecond,
			tooManyRequests: stats.byStatus['429'] ?? 0,
			verified,
			singleEntity: describeWaits(during),
			workerPeakRssMb: Object.fromEntries(pushes.map((p, i) => [PUSHED_TYPES[i], round(p.maxRssKb / 1024, 1)])),
			stages: stageSplit(slower),
		};
	} finally {
		await sim.stop();
		await dbs.drop(db);
	}
}

function describeWaits(ms: number[]): MassPushFigures['singleEntity'] {
	if (ms.length === 0) throw new Error('mass push: no single-entity sync ran while the pushes did');
	return {
		calls: ms.length,
		medianMs: round(median(ms), 1),
		p95Ms: round(percentile(ms, 95), 1),
		maxMs: round(Math.max(...ms), 1),
		everyMs: INTERACTIVE_EVERY_MS,
	};
}

/** Each run pushed exactly its edits and nothing else went wrong, so the benchmark times what the case says. */
function checkPushes(pushes: StepResult[], editsByType: Record<string, number>): void {
	for (const [i, step] of pushes.entries()) {
		const r = step.result!;
		const expected = editsByType[PUSHED_TYPES[i]];
		if (r.kind !== 'incremental' || r.itemsPushed !== expected || r.summary.modifiedLocalOnly !== expected || r.summary.conflicts !== 0 || r.errors !== 0)
			throw new Error(
				`${step.label}: expected ${expected} pushed, got ${JSON.stringify({ kind: r.kind, ...r.summary, itemsPushed: r.itemsPushed, errors: r.errors })}`,
			);
	}
}

/** Edits whose row is synced with the edited price, which ServiceTitan holds as well. */
async function countVerified(dbUrl: string, sim: SimProcess, edited: Record<string, { ids: number[]; prices: number[] }>): Promise<number> {
	const db = connectDb({ connectionString: dbUrl, max: 1, applicationName: 'pricebook-bench-verify' });
	try {
		let verified = 0;
		for (const type of PUSHED_TYPES) {
			const { ids, prices } = edited[type];
			const rows = new Map((await db.task((t) => readSyncRowsByIds(t, entityDefinition(type), ids))).map((r) => [Number(r.id), r]));
			const inSt = await sim.field(type, ids, 'price');
			for (const [i, id] of ids.entries()) {
				const row = rows.get(id) as (Record<string, unknown> & { sync_status: string }) | undefined;
				if (row?.sync_status === 'synced' && Number(row.price) === prices[i] && Number(inSt[i]) === prices[i]) verified++;
			}
		}
		return verified;
	} finally {
		await closeDb(db);
	}
}
