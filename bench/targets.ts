import type { FullSyncFigures } from './cases/full-sync';
import type { IncrementalFigures } from './cases/incremental';
import type { MassPushFigures } from './cases/mass-push';
import type { N8nFigures } from './cases/n8n';
import type { PhysicalLimitFigures } from './cases/physical-limit';
import type { SingleEntityFigures } from './cases/single-entity';
import type { StageSplit } from './stage-split';
import * as os from 'node:os';
import { LOWERED_FOR_S } from '../lib/budget';
import { round } from './stats';

/** One target of the issue, with the figure it is judged on, side by side. `met: null` = not measured in this mode. */
export interface TargetResult {
	id: string;
	what: string;
	figure: number | null;
	unit: string;
	target: string;
	met: boolean | null;
	/** The seed specification's expectation, where it has one. */
	seed?: string;
	/** For a missed target: which stage takes the time (from the spans) and what would fix it. */
	note?: string;
}

export interface Figures {
	fullSync: FullSyncFigures[];
	incremental: IncrementalFigures;
	singleEntity: SingleEntityFigures;
	physicalLimit: PhysicalLimitFigures;
	n8n: N8nFigures;
	massPush: MassPushFigures;
	referenceSize: number;
}

/** What would make each stage quicker, for the note of a missed target. */
const FIXES: Record<string, string> = {
	'fetch + parse (ServiceTitan)':
		'ServiceTitan time (latency x pages, the request budget): the library driver already reads the next page ahead while it writes this one (lib/util/read-ahead.ts); what is left is parsing each page (JSON.parse on the same thread) and the n8n steps, which fetch one page per node',
	'read (PostgreSQL)': 'reading the local rows: fewer columns (done: no st_data) or keep a content hash per row to skip unchanged ones without decoding them',
	'write (PostgreSQL)':
		'writing rows: COPY into a temporary table instead of jsonb_populate_recordset (what the raw-upsert baseline does) needs a COPY stream library, which pg-promise lacks and the runtime dependencies do not include; or fewer JSONB columns per row',
	'ledger (PostgreSQL)': 'ledger writes: the change log and seen ids per item; COPY them, or record seen ids as ranges',
	'compare (our JavaScript)': "our JavaScript (validation, canonical form, payload building): see the CPU profile's top functions",
};

function stageNote(split: StageSplit | null): string {
	if (!split) return 'no stage spans recorded';
	const stage = split.largest.replace(/ [\d.]+ s of [\d.]+ s$/, '').replace(/^\(per call, in ms\) /, '');
	return `largest stage: ${split.largest}; ${FIXES[stage] ?? ''}`.trim();
}

const at = (figures: Figures, n: number): FullSyncFigures | undefined => figures.fullSync.find((f) => f.n === n);

export function evaluateTargets(f: Figures): TargetResult[] {
	const ref = at(f, f.referenceSize)!;
	const small = at(f, 10_000);
	const large = at(f, 100_000);
	const out: TargetResult[] = [];
	const add: Add = (t, met, missNote) => {
		const result: TargetResult = { ...t, figure: t.figure === null ? null : round(t.figure, 3), met };
		if (met === false && missNote) result.note = missNote();
		out.push(result);
	};

	add(
		{
			id: 'full-50k-time',
			what: `full sync of ${ref.n} materials (empty database)`,
			figure: ref.wallS.median,
			unit: 's',
			target: '<= 15 s',
			seed: '~60 min',
		},
		ref.wallS.median <= 15,
		() => stageNote(ref.stages),
	);
	add(
		{
			id: 'full-50k-vs-limit',
			what: `full sync of ${ref.n} / (download ${f.physicalLimit.downloadS.median} s + raw upsert ${f.physicalLimit.rawUpsertS.median} s)`,
			figure: f.physicalLimit.ratio,
			unit: 'x',
			target: '<= 1.5x',
		},
		f.physicalLimit.ratio <= 1.5,
		() => stageNote(ref.stages),
	);
	const againRatio = ref.again.wallS.median / ref.wallS.median;
	add(
		{
			id: 'full-50k-again',
			what: `the same full sync of ${ref.n} again, nothing changed (${ref.again.wallS.median} s) / the first (${ref.wallS.median} s)`,
			figure: againRatio,
			unit: 'x',
			target: '<= 0.5x',
		},
		againRatio <= 0.5,
		() => stageNote(ref.again.stages),
	);
	add(
		{
			id: 'incremental-unchanged',
			what: `incremental, nothing changed (${f.incremental.n} items)`,
			figure: f.incremental.unchanged.wallS.median,
			unit: 's',
			target: '<= 0.5 s',
		},
		f.incremental.unchanged.wallS.median <= 0.5,
		() => stageNote(f.incremental.unchanged.stages),
	);
	add(
		{
			id: 'incremental-edits',
			what: `incremental with ${f.incremental.edits.stEdits} ServiceTitan + ${f.incremental.edits.retoolEdits} Retool edits (${f.incremental.n} items)`,
			figure: f.incremental.edits.wallS.median,
			unit: 's',
			target: '<= 3 s',
		},
		f.incremental.edits.wallS.median <= 3,
		() =>
			`${stageNote(f.incremental.edits.stages)}. The ${f.incremental.edits.retoolEdits} pushes are one PATCH each, and the client keeps ServiceTitan's limit of 60 requests/s: ` +
			`about ${round((f.incremental.edits.retoolEdits + 3) / 60, 1)} s of the run is that limit alone`,
	);
	const se = f.singleEntity;
	add(
		{
			id: 'single-entity-own',
			what: `single-entity sync, own time: wall minus ServiceTitan's round trip (${se.calls} calls; wall median ${se.medianMs} ms, p95 ${se.p95Ms} ms)`,
			figure: se.ownMs,
			unit: 'ms',
			target: '<= 5 ms',
			seed: '< 2 s (wall)',
		},
		se.ownMs <= 5,
		() =>
			`${se.ownFrom}. With the latency set to 0: median ${se.atZeroLatency.medianMs} ms (p95 ${se.atZeroLatency.p95Ms} ms)` +
			(se.perCall
				? `. Per call ${se.perCall.queries} queries taking ${round(se.perCall.dbReadMs + se.perCall.dbWriteMs + se.perCall.dbLedgerMs, 1)} ms ` +
					`(${se.perCall.dbLedgerMs} ms of them the lock, run ledger row, lease and outcome: lib/sync/run-lifecycle.ts) and ${se.perCall.compareMs} ms of our JavaScript`
				: ''),
	);
	add(
		{ id: 'rss-100k', what: 'peak RSS of the sync process, full sync of 100000', figure: large?.peakRssMb.median ?? null, unit: 'MB', target: '<= 300 MB' },
		large ? large.peakRssMb.median <= 300 : null,
		() => memoryNote(small, large!),
	);
	const growth = small && large ? large.peakRssMb.median / small.peakRssMb.median : null;
	add(
		{
			id: 'rss-growth',
			what: `peak RSS growth from 10000 to 100000 items${small && large ? ` (${small.peakRssMb.median} -> ${large.peakRssMb.median} MB)` : ''}`,
			figure: growth,
			unit: 'x',
			target: '< 1.5x',
		},
		growth === null ? null : growth < 1.5,
		() => memoryNote(small, large!),
	);
	if (growth === null && small) {
		const mid = at(f, f.referenceSize);
		out[out.length - 1].note =
			`not measured in this mode (needs 100000); 10000 -> ${mid?.n}: ${small.peakRssMb.median} -> ${mid?.peakRssMb.median} MB (${mid ? round(mid.peakRssMb.median / small.peakRssMb.median, 2) : '?'}x)`;
	}
	if (!large) out.find((t) => t.id === 'rss-100k')!.note = 'not measured in this mode (run the full benchmark: npm run bench)';
	const million = at(f, 1_000_000);
	add(
		{
			id: 'rss-1m',
			what: 'peak RSS of the sync process, full sync of 1000000',
			figure: million?.peakRssMb.median ?? null,
			unit: 'MB',
			target: '<= 300 MB',
		},
		million ? million.peakRssMb.median <= 300 : null,
		() => memoryNote(large ?? small, million!),
	);
	const perItem = million && large ? million.wallS.median / million.n / (large.wallS.median / large.n) : null;
	add(
		{
			id: 'per-item-1m',
			what: `time per item, full sync of 1000000 / of 100000${perItem !== null ? ` (${million!.itemsPerS} vs ${large!.itemsPerS} items/s)` : ''}`,
			figure: perItem,
			unit: 'x',
			target: '<= 1.1x',
		},
		perItem === null ? null : perItem <= 1.1,
		() => stageNote(million!.stages),
	);
	for (const id of ['rss-1m', 'per-item-1m']) {
		const t = out.find((x) => x.id === id)!;
		if (t.met === null) t.note = 'not measured in this mode: the full run measures it (npm run bench), or add 100000,1000000 to --sizes';
	}
	const n8n = f.n8n;
	add(
		{
			id: 'n8n-ratio',
			what: `n8n full-sync workflow / library full sync (${f.referenceSize} items)`,
			figure: n8n.status === 'measured' ? n8n.ratio : null,
			unit: 'x',
			target: '<= 1.2x',
		},
		n8n.status === 'measured' ? n8n.ratio <= 1.2 : null,
	);
	if (n8n.status !== 'measured') out[out.length - 1].note = `not measured yet: ${n8n.why}`;
	addMassPushTargets(add, f.massPush);
	return out;
}

function memoryNote(small: FullSyncFigures | undefined, large: FullSyncFigures): string {
	const m = large.memory;
	const live = (f: FullSyncFigures | undefined): string => (f?.memory?.liveHeapPeakMb != null ? `${f.memory.liveHeapPeakMb} MB at ${f.n}` : '?');
	return (
		`what the sync keeps alive does not grow with N: the heap in use right after a major collection peaks at ${live(small)} and ${live(large)}, ` +
		`and ${m?.heapUsedAfterGcMb ?? '?'} MB remain after the sync. The rest of the peak is garbage between collections: ` +
		`at ${large.n} the heap peaks at ${m?.heapUsedPeakMb ?? '?'} MB used of ${m?.heapTotalPeakMb ?? '?'} MB and buffers at ${m?.externalPeakMb ?? '?'} MB, ` +
		`because V8 lets the heap grow to a multiple of the live set before it collects, and a 2-page run of 10000 ends before that. ` +
		`Lowering it further means fewer big transient copies per page: the client's page text and parse (lib/servicetitan), ` +
		`or the page held by the run loop while it is applied (lib/sync/runs.ts)`
	);
}

type Add = (t: Omit<TargetResult, 'met'>, met: boolean | null, missNote?: () => string) => void;

/** The mass push: how close two processes pushing at once come to ServiceTitan's limit, without passing it. */
function addMassPushTargets(add: Add, m: MassPushFigures): void {
	const routes = Object.entries(m.requestsByRoute)
		.slice(0, 4)
		.map(([route, count]) => `${route} ${count}`)
		.join(', ');
	const where = (): string =>
		`${m.apiRequests} ServiceTitan requests (${routes}) in ${m.wallS} s (${m.requestsPerS}/s) against the shared budget's default 55/s, ` +
		`which alone makes the push ${round(60 / 55, 3)}x the floor, and the single-entity syncs and the runs' listings and ` +
		`read-backs share it; ` +
		(m.tooManyRequests > 0
			? `${m.tooManyRequests} 429(s), and a 429 lowers the budget's rate by a fifth for ${LOWERED_FOR_S} s (LOWERED_FOR_S in lib/budget); `
			: '') +
		`largest stage of the slower run: ${m.stages?.largest ?? 'no stage spans recorded'} ` +
		`(waiting for a slot of the shared budget counts as ServiceTitan time: it is taken inside the client)`;
	add(
		{
			id: 'mass-push-ratio',
			what: `mass push of ${m.edits} Retool edits by two incremental runs at once (${m.wallS} s) / ${m.edits} PATCHes at 60/s (${m.floorS} s)`,
			figure: m.ratio,
			unit: 'x',
			target: '<= 1.15x',
		},
		m.ratio <= 1.15,
		where,
	);
	add(
		{
			id: 'mass-push-busiest-second',
			what: `mass push: most requests ServiceTitan saw in any second (${m.tooManyRequests} 429s)`,
			figure: m.busiestSecond,
			unit: 'requests',
			target: '<= 60, and no 429',
		},
		m.busiestSecond <= 60 && m.tooManyRequests === 0,
		() =>
			`the shared budget (lib/budget, table st_request_budget) let more through than ServiceTitan allows. It spaces the slots it grants on ` +
			`the database's clock; most likely a process that sends late (a busy event loop: two workers, the simulator, PostgreSQL and this ` +
			`process on ${os.cpus().length} cores) sends its late requests together with the next ones: ${where()}`,
	);
	const se = m.singleEntity;
	add(
		{
			id: 'mass-push-entity-p95',
			what: `single-entity sync every ${se.everyMs} ms while the mass push runs, p95 of ${se.calls} (median ${se.medianMs} ms)`,
			figure: se.p95Ms,
			unit: 'ms',
			target: '< 2000 ms',
		},
		se.p95Ms < 2000,
		() => `a person's request waits behind what the other lanes may queue (LANE_HORIZON_S in lib/budget/shared-budget.ts): ${where()}`,
	);
}
