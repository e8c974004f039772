import type { Queryable } from './connection';

/**
 * Read-only queries behind the status page, the logs and their exports (lib/reporting). They never write, so
 * they take the pool or any task. Rows come back with the tables' column names; shaping them for people is
 * lib/reporting's job.
 */

/** One row of pricebook_sync_status_v (migration 0003): counts and sync state of one entity type. */
export interface EntityStatusRecord {
	entity_type: string;
	total: number;
	synced: number;
	pending: number;
	conflicts: number;
	deleted: number;
	push_errors: number;
	/** Live rows whose edit ServiceTitan did not take, held until edited or retried (migration 0009). */
	pushes_held: number;
	last_full_sync_at: Date | null;
	last_incremental_sync_at: Date | null;
	last_success_at: Date | null;
	consecutive_failures: number;
	last_run_status: string | null;
	last_run_error: string | null;
}

export async function readEntityStatuses(q: Queryable): Promise<EntityStatusRecord[]> {
	return q.any<EntityStatusRecord>('SELECT * FROM pricebook_sync_status_v');
}

export interface ErrorLogRecord {
	id: number;
	run_id: number | null;
	entity_type: string | null;
	entity_id: number | null;
	kind: string;
	message: string;
	occurred_at: Date;
}

/** The newest `limit` entries of the error log, newest first. */
export async function readRecentErrors(q: Queryable, limit: number): Promise<ErrorLogRecord[]> {
	return q.any<ErrorLogRecord>(
		'SELECT id, run_id, entity_type, entity_id, kind, message, occurred_at FROM sync_error_log ORDER BY occurred_at DESC, id DESC LIMIT $1',
		[limit],
	);
}

export async function countErrorsSince(q: Queryable, since: Date): Promise<number> {
	const { n } = await q.one<{ n: number }>('SELECT count(*)::int AS n FROM sync_error_log WHERE occurred_at > $1', [since]);
	return n;
}

/** Filters of the log listings; an absent one does not filter. `until` is exclusive. */
export interface LogRange {
	entityType: string | null;
	since: Date | null;
	until: Date | null;
	limit: number;
}

export interface RunRecord {
	id: number;
	kind: string;
	entity_type: string | null;
	trigger: string;
	dry_run: boolean;
	status: string;
	started_at: Date;
	finished_at: Date | null;
	counts: Record<string, number>;
	items_synced: number;
	items_pushed: number;
	pushes_verified: number;
	pushes_normalized: number;
	pushes_ignored: number;
	conflicts_detected: number;
	errors_count: number;
	error: string | null;
}

/** Runs of the ledger, newest first; `status` filters on the run's status. */
export async function listRunRecords(q: Queryable, filter: LogRange & { status: string | null }): Promise<RunRecord[]> {
	return q.any<RunRecord>(
		`SELECT * FROM sync_runs
		 WHERE ($1::text IS NULL OR entity_type = $1) AND ($2::text IS NULL OR status = $2)
		   AND ($3::timestamptz IS NULL OR started_at >= $3) AND ($4::timestamptz IS NULL OR started_at < $4)
		 ORDER BY started_at DESC, id DESC LIMIT $5`,
		[filter.entityType, filter.status, filter.since, filter.until, filter.limit],
	);
}

export interface ChangeRecord {
	id: number;
	run_id: number | null;
	entity_type: string;
	entity_id: number;
	action: string;
	before: unknown;
	after: unknown;
	receipt: unknown;
	changed_at: Date;
}

/** Entries of the change log, newest first; `entityId` narrows to one item. */
export async function listChangeRecords(q: Queryable, filter: LogRange & { entityId: number | null }): Promise<ChangeRecord[]> {
	return q.any<ChangeRecord>(
		`SELECT * FROM sync_change_log
		 WHERE ($1::text IS NULL OR entity_type = $1) AND ($2::bigint IS NULL OR entity_id = $2)
		   AND ($3::timestamptz IS NULL OR changed_at >= $3) AND ($4::timestamptz IS NULL OR changed_at < $4)
		 ORDER BY changed_at DESC, id DESC LIMIT $5`,
		[filter.entityType, filter.entityId, filter.since, filter.until, filter.limit],
	);
}

/** Local edits held back because ServiceTitan refused the app write access (their push_error starts with `prefix`). */
export async function countPushErrorsStartingWith(q: Queryable, prefix: string): Promise<number> {
	const { n } = await q.one<{ n: number }>(
		`SELECT (SELECT count(*) FROM pricebook_services WHERE starts_with(push_error, $1))
		      + (SELECT count(*) FROM pricebook_materials WHERE starts_with(push_error, $1))
		      + (SELECT count(*) FROM pricebook_equipment WHERE starts_with(push_error, $1))
		      + (SELECT count(*) FROM pricebook_categories WHERE starts_with(push_error, $1)) AS n`,
		[prefix],
	);
	return Number(n);
}

/** Per entity type, rows whose push_error starts with `prefix` (counted like the status view's push_errors). */
export async function countPushErrorsStartingWithByType(q: Queryable, prefix: string): Promise<Record<string, number>> {
	const rows = await q.any<{ entity_type: string; n: number }>(
		`SELECT 'services' AS entity_type, count(*)::int AS n FROM pricebook_services WHERE starts_with(push_error, $1)
		 UNION ALL SELECT 'materials', count(*)::int FROM pricebook_materials WHERE starts_with(push_error, $1)
		 UNION ALL SELECT 'equipment', count(*)::int FROM pricebook_equipment WHERE starts_with(push_error, $1)
		 UNION ALL SELECT 'categories', count(*)::int FROM pricebook_categories WHERE starts_with(push_error, $1)`,
		[prefix],
	);
	return Object.fromEntries(rows.map((r) => [r.entity_type, Number(r.n)]));
}

/** Pushes of the runs of each entity type that finished since `since`, by what ServiceTitan did with them. */
export async function sumPushesSince(
	q: Queryable,
	since: Date,
): Promise<{ entity_type: string; pushes_verified: number; pushes_normalized: number; pushes_ignored: number }[]> {
	return q.any(
		`SELECT entity_type, sum(pushes_verified)::int AS pushes_verified, sum(pushes_normalized)::int AS pushes_normalized,
		   sum(pushes_ignored)::int AS pushes_ignored
		 FROM sync_runs WHERE finished_at >= $1 AND NOT dry_run AND entity_type IS NOT NULL GROUP BY entity_type`,
		[since],
	);
}

/** One row of pricebook_held_pushes_v (migration 0009): a local edit ServiceTitan did not take. */
export interface HeldPushRecord {
	entity_type: string;
	entity_id: number;
	item_label: string | null;
	fields: string[];
	held_values: Record<string, unknown>;
	st_values: Record<string, unknown>;
	reason: string | null;
	held_since: Date | null;
}

/** Held edits, oldest first (the longest-waiting on top), optionally of one entity type. */
export async function listHeldPushRecords(q: Queryable, entityType: string | null, limit: number): Promise<HeldPushRecord[]> {
	return q.any<HeldPushRecord>(
		`SELECT * FROM pricebook_held_pushes_v WHERE ($1::text IS NULL OR entity_type = $1)
		 ORDER BY held_since ASC NULLS FIRST, entity_type, entity_id LIMIT $2`,
		[entityType, limit],
	);
}
