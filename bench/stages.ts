import { pgp } from '../lib/db/connection';
import type { EntityType, ExportParams, IterateParams, ListParams, StExportPage, StPage, StRecord } from '../lib/servicetitan';
import type { StApi } from '../lib/sync/ports';

/**
 * Wall-clock spans of one run, by stage: time spent waiting for ServiceTitan (fetch + parse of its answers, in the
 * client), time in PostgreSQL queries (by kind of statement), and the rest, which is our own JavaScript on the
 * sync's event loop (validation, canonical form, comparison, building the write payloads). The run is sequential
 * (page after page), so the spans add up to the wall time.
 */
export interface StageTotals {
	stMs: number;
	stCalls: number;
	dbMs: Record<DbKind, number>;
	dbCalls: Record<DbKind, number>;
	/** Per statement (its first words, values left out): time and calls. */
	statements: Record<string, { ms: number; calls: number }>;
}

export type DbKind = 'read' | 'write' | 'ledger' | 'other';

export function emptyStages(): StageTotals {
	return {
		stMs: 0,
		stCalls: 0,
		dbMs: { read: 0, write: 0, ledger: 0, other: 0 },
		dbCalls: { read: 0, write: 0, ledger: 0, other: 0 },
		statements: {},
	};
}

/** A statement's identity for the profile: its first words with literals and whitespace runs collapsed. */
function statementKey(sql: string): string {
	return sql
		.slice(0, 400)
		.replace(/'(?:[^']|'')*'/g, '?')
		.replace(/\b\d+\b/g, '?')
		.replace(/\s+/g, ' ')
		.trim()
		.slice(0, 90);
}

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * An StApi that times the calls of the one it wraps. Pushes run several PATCH calls at once: `stMs` is the time
 * during which at least one call was in flight (the union of the calls' intervals), not the sum of their times.
 */
export function timedStApi(inner: StApi, totals: StageTotals): StApi {
	let inFlight = 0;
	let busySince = 0n;
	const time = async <T>(fn: () => Promise<T>): Promise<T> => {
		if (inFlight++ === 0) busySince = process.hrtime.bigint();
		try {
			return await fn();
		} finally {
			totals.stCalls += 1;
			if (--inFlight === 0) totals.stMs += ms(busySince);
		}
	};
	return {
		listPage: (entity: EntityType, params: ListParams): Promise<StPage> => time(() => inner.listPage(entity, params)),
		getByIds: (entity: EntityType, ids: readonly number[]): Promise<StRecord[]> => time(() => inner.getByIds(entity, ids)),
		get: (entity: EntityType, id: number): Promise<StRecord | null> => time(() => inner.get(entity, id)),
		patch: (entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> => time(() => inner.patch(entity, id, body)),
		create: (entity: EntityType, body: Record<string, unknown>): Promise<StRecord> => time(() => inner.create(entity, body)),
		exportPage: (entity: EntityType, params: ExportParams): Promise<StExportPage> => time(() => inner.exportPage(entity, params)),
		serverNow: (entity: EntityType): Promise<Date | null> => time(() => inner.serverNow(entity)),
		async *iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
			const iterator = inner.iteratePages(entity, params)[Symbol.asyncIterator]();
			for (;;) {
				const next = await time(() => iterator.next());
				if (next.done) return;
				yield next.value;
			}
		},
	};
}

function classify(sql: string): DbKind {
	const head = sql.trimStart().slice(0, 300).toUpperCase();
	if (/^(INSERT INTO|UPDATE) "?PRICEBOOK_/.test(head)) return 'write';
	if (/^SELECT .* FROM "?PRICEBOOK_/s.test(head) || head.includes('FROM "SYNC_CONFLICTS"') || head.includes('FROM SYNC_CONFLICTS')) return 'read';
	if (/SYNC_RUNS|SYNC_CHANGE_LOG|SYNC_ERROR_LOG|SYNC_RUN_SEEN|SYNC_STATE/.test(head)) return 'ledger';
	return 'other';
}

/**
 * Times every query sent through node-postgres (pg-promise uses `client.query(text, values, callback)`), from the
 * call to the callback: the server's work plus the wire, not pg-promise's formatting before it.
 */
export function timePgQueries(totals: StageTotals): void {
	// pg-promise brings its own node-postgres: patch that one.
	const pg = pgp().pg as unknown as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
	const original = pg.Client.prototype.query;
	pg.Client.prototype.query = function (this: unknown, ...args: unknown[]): unknown {
		const callback = args[args.length - 1];
		const first = args[0];
		const text = typeof first === 'string' ? first : typeof (first as { text?: unknown })?.text === 'string' ? (first as { text: string }).text : '';
		if (typeof callback !== 'function' || !text) return original.apply(this, args);
		const kind = classify(text);
		const key = statementKey(text);
		const start = process.hrtime.bigint();
		args[args.length - 1] = (...result: unknown[]) => {
			const spent = ms(start);
			totals.dbMs[kind] += spent;
			totals.dbCalls[kind] += 1;
			const entry = (totals.statements[key] ??= { ms: 0, calls: 0 });
			entry.ms += spent;
			entry.calls += 1;
			return (callback as (...a: unknown[]) => unknown)(...result);
		};
		return original.apply(this, args);
	};
}

/** What was spent between two snapshots. */
export function stagesSince(before: StageTotals, after: StageTotals): StageTotals {
	const d = emptyStages();
	d.stMs = after.stMs - before.stMs;
	d.stCalls = after.stCalls - before.stCalls;
	for (const k of Object.keys(d.dbMs) as DbKind[]) {
		d.dbMs[k] = after.dbMs[k] - before.dbMs[k];
		d.dbCalls[k] = after.dbCalls[k] - before.dbCalls[k];
	}
	for (const [key, v] of Object.entries(after.statements)) {
		const b = before.statements[key] ?? { ms: 0, calls: 0 };
		if (v.calls > b.calls) d.statements[key] = { ms: v.ms - b.ms, calls: v.calls - b.calls };
	}
	return d;
}
