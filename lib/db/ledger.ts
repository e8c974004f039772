import { bound, inChunks, WRITE_CHUNK, type Task } from './pricebook-store';

export type RunKind = 'full' | 'incremental' | 'entity' | 'resolution' | 'vendor_import' | 'undo' | 'vendor_import_undo' | 'restore';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'busy';

export interface RunStart {
	kind: RunKind;
	entityType: string | null;
	trigger: string;
	dryRun: boolean;
	windowFrom?: string | null;
	details?: Record<string, unknown>;
}

export async function startRun(t: Task, run: RunStart, now: Date): Promise<number> {
	const row = await t.one<{ id: number }>(
		`INSERT INTO sync_runs (kind, entity_type, trigger, dry_run, status, started_at, window_from, details)
		 VALUES ($1, $2, $3, $4, 'running', $5, $6, $7) RETURNING id`,
		[run.kind, run.entityType, run.trigger, run.dryRun, now, run.windowFrom ?? null, run.details ?? {}],
	);
	return row.id;
}

/** A run that could not start because another run of the same entity type holds the lock. */
export async function recordBusyRun(t: Task, run: RunStart, now: Date, error = 'another run of this entity type is in progress'): Promise<number> {
	const row = await t.one<{ id: number }>(
		`INSERT INTO sync_runs (kind, entity_type, trigger, dry_run, status, started_at, finished_at, error)
		 VALUES ($1, $2, $3, $4, 'busy', $5, $5, $6) RETURNING id`,
		[run.kind, run.entityType, run.trigger, run.dryRun, now, error],
	);
	return row.id;
}

/** The runs an n8n execution started (their ledger rows carry its key) that are still running. */
export async function runningRunsOfExecution(t: Task, execution: string): Promise<{ id: number; entity_type: string }[]> {
	return t.any(`SELECT id, entity_type FROM sync_runs WHERE status = 'running' AND details ->> 'execution' = $1 ORDER BY id`, [execution]);
}

/** A run that started but found its entity type taken (by a multi-node n8n run's lease). */
export async function markBusy(t: Task, runId: number, now: Date): Promise<void> {
	await t.none(`UPDATE sync_runs SET status = 'busy', finished_at = $2, error = 'another run of this entity type is in progress' WHERE id = $1`, [
		runId,
		now,
	]);
}

/** Pushes read back from ServiceTitan: stored as sent, stored in its own equivalent form, or not applied (held). */
export interface PushCounts {
	verified: number;
	normalized: number;
	ignored: number;
}

export interface RunProgress {
	pagesRead: number;
	itemsSeen: number;
	counts: Record<string, number>;
	itemsSynced: number;
	itemsPushed: number;
	/** Pushes read back, by what ServiceTitan did with them (absent: none, as for vendor imports). */
	pushes?: PushCounts;
	conflictsDetected: number;
	errors: number;
}

const pushesOf = (p: RunProgress): PushCounts => p.pushes ?? { verified: 0, normalized: 0, ignored: 0 };

export async function saveRunProgress(t: Task, runId: number, p: RunProgress): Promise<void> {
	await t.none(
		`UPDATE sync_runs SET pages_read = $2, items_seen = $3, counts = $4, items_synced = $5, items_pushed = $6,
		   conflicts_detected = $7, errors_count = $8, pushes_verified = $9, pushes_normalized = $10, pushes_ignored = $11 WHERE id = $1`,
		[
			runId,
			p.pagesRead,
			p.itemsSeen,
			p.counts,
			p.itemsSynced,
			p.itemsPushed,
			p.conflictsDetected,
			p.errors,
			pushesOf(p).verified,
			pushesOf(p).normalized,
			pushesOf(p).ignored,
		],
	);
}

export interface RunClose {
	status: 'succeeded' | 'failed';
	error?: string | null;
	windowTo?: string | null;
	details?: Record<string, unknown>;
}

export async function finishRun(t: Task, runId: number, outcome: RunClose, progress: RunProgress, now: Date): Promise<void> {
	await saveRunProgress(t, runId, progress);
	await closeRun(t, runId, outcome, now);
}

/**
 * Ends a run whose progress was added page by page; its error count is what it logged, and its window ends at the
 * newest ServiceTitan stamp it read unless one is given. Returns the closed row.
 */
export async function closeRun(t: Task, runId: number, outcome: RunClose, now: Date): Promise<RunRow> {
	return t.one<RunRow>(
		`UPDATE sync_runs SET status = $2, error = $3, window_to = COALESCE($4, max_modified_on), finished_at = $5, details = details || $6::jsonb,
		   errors_count = (SELECT count(*) FROM sync_error_log WHERE run_id = $1)
		 WHERE id = $1 RETURNING *`,
		[runId, outcome.status, outcome.error ?? null, outcome.windowTo ?? null, now, outcome.details ?? {}],
	);
}

/**
 * Adds one step's counts to its run (per-category counts merged key by key), and keeps the newest ServiceTitan
 * stamp the run has read. Both run drivers report progress this way, so the ledger row is the run's one tally.
 */
export async function addRunProgress(
	t: Task,
	runId: number,
	delta: RunProgress,
	maxModifiedOn: string | null = null,
	listedTotal: number | null = null,
): Promise<void> {
	await t.none(
		`UPDATE sync_runs SET pages_read = pages_read + $2, items_seen = items_seen + $3,
		   counts = (SELECT COALESCE(jsonb_object_agg(k, COALESCE((counts ->> k)::int, 0) + COALESCE(($4::jsonb ->> k)::int, 0)), '{}'::jsonb)
		             FROM (SELECT jsonb_object_keys(counts) UNION SELECT jsonb_object_keys($4::jsonb)) AS keys(k)),
		   items_synced = items_synced + $5, items_pushed = items_pushed + $6, conflicts_detected = conflicts_detected + $7,
		   max_modified_on = CASE WHEN $8::text IS NOT NULL AND (max_modified_on IS NULL OR $8 > max_modified_on) THEN $8 ELSE max_modified_on END,
		   listed_total = COALESCE($9::int, listed_total),
		   pushes_verified = pushes_verified + $10, pushes_normalized = pushes_normalized + $11, pushes_ignored = pushes_ignored + $12
		 WHERE id = $1`,
		[
			runId,
			delta.pagesRead,
			delta.itemsSeen,
			delta.counts,
			delta.itemsSynced,
			delta.itemsPushed,
			delta.conflictsDetected,
			maxModifiedOn,
			listedTotal,
			pushesOf(delta).verified,
			pushesOf(delta).normalized,
			pushesOf(delta).ignored,
		],
	);
}

export interface RunRow {
	id: number;
	kind: RunKind;
	entity_type: string | null;
	trigger: string;
	dry_run: boolean;
	status: RunStatus;
	started_at: Date;
	finished_at: Date | null;
	window_from: string | null;
	window_to: string | null;
	max_modified_on: string | null;
	/** ServiceTitan's clock when the run began listing (normalized): the cursor it saves never passes it. */
	st_clock_at_start: string | null;
	listed_total: number | null;
	counts: Record<string, number>;
	pages_read: number;
	items_seen: number;
	items_synced: number;
	items_pushed: number;
	pushes_verified: number;
	pushes_normalized: number;
	pushes_ignored: number;
	conflicts_detected: number;
	errors_count: number;
	error: string | null;
	details: Record<string, unknown>;
}

/** Where a run's listing starts, and ServiceTitan's clock at that moment (see run-lifecycle.ts openListing). */
export async function saveListingStart(t: Task, runId: number, windowFrom: string | null, stClock: string | null): Promise<void> {
	await t.none('UPDATE sync_runs SET window_from = $2, st_clock_at_start = $3 WHERE id = $1', [runId, windowFrom, stClock]);
}

export async function readRun(t: Task, runId: number): Promise<RunRow | null> {
	return t.oneOrNone<RunRow>('SELECT * FROM sync_runs WHERE id = $1', [runId]);
}

/** A run whose process or n8n execution died: failed, and its entity type's failure streak grows. */
export async function markAbandoned(t: Task, entityType: string, runId: number, now: Date): Promise<void> {
	const result = await t.result(
		`UPDATE sync_runs SET status = 'failed', finished_at = $2,
		   error = 'abandoned: the process or n8n execution running it stopped before it finished; a later run took over'
		 WHERE id = $1 AND status = 'running'`,
		[runId, now],
	);
	if (result.rowCount === 1) await recordRunFailure(t, entityType, now);
}

export interface ChangeLogEntry {
	entityId: number;
	action: string;
	before: unknown;
	after: unknown;
	/** Pushes: per pushed field, what was sent, what ServiceTitan stored and the outcome (lib/sync/verify-push.ts). */
	receipt?: unknown;
}

export async function logChanges(t: Task, runId: number | null, entityType: string, entries: readonly ChangeLogEntry[], now: Date): Promise<void> {
	// Bound, not formatted, and in chunks: a full page's entries are MB of JSON (see `bound` and WRITE_CHUNK).
	await inChunks(entries, WRITE_CHUNK, async (chunk) => {
		await t.none(
			bound(
				`INSERT INTO sync_change_log (run_id, entity_type, entity_id, action, before, after, receipt, changed_at)
				 SELECT $1, $2, x.entity_id, x.action, x.before, x.after, x.receipt, $4
				 FROM jsonb_to_recordset($3::jsonb) AS x(entity_id bigint, action text, before jsonb, after jsonb, receipt jsonb)`,
				[
					runId,
					entityType,
					JSON.stringify(
						chunk.map((e) => ({
							entity_id: e.entityId,
							action: e.action,
							before: e.before ?? null,
							after: e.after ?? null,
							receipt: e.receipt ?? null,
						})),
					),
					now,
				],
			),
		);
	});
}

export interface ErrorLogEntry {
	entityId: number | null;
	kind: string;
	message: string;
	details?: unknown;
}

export async function logErrors(t: Task, runId: number | null, entityType: string | null, entries: readonly ErrorLogEntry[], now: Date): Promise<void> {
	if (entries.length === 0) return;
	await t.none(
		`INSERT INTO sync_error_log (run_id, entity_type, entity_id, kind, message, details, occurred_at)
		 SELECT $1, $2, x.entity_id, x.kind, x.message, x.details, $4
		 FROM jsonb_to_recordset($3::jsonb) AS x(entity_id bigint, kind text, message text, details jsonb)`,
		[runId, entityType, JSON.stringify(entries.map((e) => ({ entity_id: e.entityId, kind: e.kind, message: e.message, details: e.details ?? null }))), now],
	);
}

export interface SyncStateRow {
	entity_type: string;
	cursor_raw: string | null;
	last_full_sync_at: Date | null;
	last_incremental_sync_at: Date | null;
	last_success_at: Date | null;
	consecutive_failures: number;
}

export async function readSyncState(t: Task, entityType: string): Promise<SyncStateRow> {
	return t.one<SyncStateRow>('SELECT * FROM sync_state WHERE entity_type = $1', [entityType]);
}

/** Only a successful run moves the cursor; `cursor` is its new value (null: unchanged), decided by the caller under the run's lock. */
export async function recordRunSuccess(t: Task, entityType: string, kind: 'full' | 'incremental' | 'entity', cursor: string | null, now: Date): Promise<void> {
	await t.none(
		`UPDATE sync_state SET
		   cursor_raw = COALESCE($3, cursor_raw),
		   last_full_sync_at = CASE WHEN $2 = 'full' THEN $4 ELSE last_full_sync_at END,
		   last_incremental_sync_at = CASE WHEN $2 = 'incremental' THEN $4 ELSE last_incremental_sync_at END,
		   last_success_at = CASE WHEN $2 = 'entity' THEN last_success_at ELSE $4 END,
		   consecutive_failures = CASE WHEN $2 = 'entity' THEN consecutive_failures ELSE 0 END,
		   updated_at = $4
		 WHERE entity_type = $1`,
		[entityType, kind, cursor, now],
	);
}

export async function recordRunFailure(t: Task, entityType: string, now: Date): Promise<void> {
	await t.none('UPDATE sync_state SET consecutive_failures = consecutive_failures + 1, updated_at = $2 WHERE entity_type = $1', [entityType, now]);
}
