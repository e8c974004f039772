import { pgp } from '../../../lib/db/connection';
import type { SyncHarness } from '../../support/sync-harness';

// The database and ServiceTitan, before and after.

/** Per harness, the query that fingerprints every table of the schema (pricebook_*, sync_*, vendor_*, migrations). */
const fingerprintSql = new WeakMap<SyncHarness, string>();

/** One md5 per table over all its rows: one round trip per check, and a difference names the table. */
export async function fingerprintOf(h: SyncHarness): Promise<Record<string, string>> {
	let sql = fingerprintSql.get(h);
	if (!sql) {
		const tables = await h.t.db.map(
			"SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
			[],
			(r: { table_name: string }) => pgp().as.name(r.table_name),
		);
		sql = `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`;
		fingerprintSql.set(h, sql);
	}
	return h.t.db.one(sql);
}

/**
 * The fingerprint after the last refused input: while refusals run back to back it is also the next one's
 * "before", which halves the queries. Anything else that writes (a setup step) must call forgetFingerprint().
 */
let lastFingerprint: { h: SyncHarness; value: Record<string, string> } | undefined;

export function forgetFingerprint(): void {
	lastFingerprint = undefined;
}

/** What a refused request may not change: every table, and ServiceTitan (not even a read). */
export async function untouched<T>(h: SyncHarness, work: () => Promise<T>): Promise<T> {
	const before = lastFingerprint?.h === h ? lastFingerprint.value : await fingerprintOf(h);
	const stBefore = h.sim.control.requestCounts().total;
	const result = await work();
	const after = await fingerprintOf(h);
	lastFingerprint = { h, value: after };
	expect(after).toEqual(before);
	expect(h.sim.control.requestCounts().total).toBe(stBefore);
	return result;
}

/** Requests that changed something in ServiceTitan so far. */
export function stWrites(h: SyncHarness): number {
	return h.sim.control.requests.filter((r) => r.target === 'api' && r.method !== 'GET').length;
}
