import type { ITask, ParameterizedQuery } from 'pg-promise';
import type { EntityDefinition } from '../entities/types';
import { pgp } from './connection';

/**
 * Bulk reads and writes of the pricebook tables. Every write takes a whole batch as one JSON parameter
 * (jsonb_populate_recordset), so a page costs a constant number of statements whatever its size. Table and
 * column names come from the entity definitions, never from input, and are still escaped as identifiers.
 * Callers mark the transaction as the engine's (markEngineWrites) before writing.
 */
export type Task = ITask<unknown>;

/**
 * A statement whose values travel as bind parameters ($1, $2, ...) instead of being formatted into its text.
 * The batch payloads are several MB of JSON a page: formatted, each would be escaped into a second copy and then
 * concatenated into a third (the SQL text) before the driver encodes it; bound, it is encoded once. Only values
 * go here; identifiers are put into the text with `ident`.
 */
export function bound(text: string, values: readonly unknown[]): ParameterizedQuery {
	return new (pgp().ParameterizedQuery)({ text, values: [...values] });
}

/** An escaped identifier (or comma-separated list of them) for the text of a `bound` statement. */
export function ident(name: string | readonly string[]): string {
	return pgp().as.format('$1:name', [name]);
}

/**
 * Rows per write statement. A page (up to 5000 items) is written in a few statements of this many rows, all in
 * the caller's transaction: still a constant number of statements per page, but the payloads of one page are
 * never all in memory at once. Measured with `npm run bench` (full sync of 10,000 / 100,000 materials): 500 rows
 * gave the lowest peak RSS (about 162 / 240 MB, against 177 / 255 MB with 1000 and 187 / 270 MB with one statement
 * per page) at the same speed; 250-1000 is also where multi-row writes were fastest (shared/toolchain.md).
 */
export const WRITE_CHUNK = 500;

/** Runs `fn` on consecutive slices of `items` of at most `size`, one after the other; concatenates the results. */
export async function inChunks<T, R>(items: readonly T[], size: number, fn: (chunk: readonly T[]) => Promise<readonly R[] | void>): Promise<R[]> {
	const out: R[] = [];
	for (let i = 0; i < items.length; i += size) {
		const result = await fn(items.slice(i, i + size));
		if (result) out.push(...result);
	}
	return out;
}

export interface StoredRow extends Record<string, unknown> {
	id: number;
	row_version: number;
	sync_status: string;
	sync_base: Record<string, unknown> | null;
	st_modified_on_raw: string | null;
	local_modified_at: Date | null;
	last_synced_at: Date | null;
	deleted_at: Date | null;
	deleted_in_st: boolean;
	has_conflict: boolean;
	/** Canonical values of a PATCH that was sent and whose answer may not have been recorded (migration 0006). */
	push_in_flight: Record<string, unknown> | null;
	/** Why the last push of this row was refused, if it was. */
	push_error: string | null;
	/** Values ServiceTitan kept its own value for (migration 0008): not sent again while the row holds them. */
	push_refused: Record<string, unknown> | null;
}

/**
 * The rows of `ids` with just what the sync decides on: the synced columns and the sync bookkeeping. Not
 * `st_data` (ServiceTitan's other fields, most of a row's size), which no decision reads: a page of 5000 full rows
 * would be parsed from JSONB only to be dropped.
 */
export async function readSyncRowsByIds(t: Task, def: EntityDefinition, ids: readonly number[]): Promise<StoredRow[]> {
	if (ids.length === 0) return [];
	const columns = [...SYNC_ROW_COLUMNS, ...def.fields.map((f) => f.column)];
	return t.any<StoredRow>(`SELECT ${ident(columns)} FROM ${ident(def.table)} WHERE id = ANY($1::bigint[])`, [ids]);
}

/** The bookkeeping columns of StoredRow. */
const SYNC_ROW_COLUMNS = [
	'id',
	'row_version',
	'sync_status',
	'sync_base',
	'st_modified_on_raw',
	'local_modified_at',
	'last_synced_at',
	'deleted_at',
	'deleted_in_st',
	'has_conflict',
	'push_in_flight',
	'push_error',
	'push_refused',
] as const satisfies readonly (keyof StoredRow)[];

export async function readRow(t: Task, table: string, id: number): Promise<StoredRow | null> {
	return t.oneOrNone<StoredRow>('SELECT * FROM $1:name WHERE id = $2', [table, id]);
}

/**
 * Ids of rows edited locally and waiting to be pushed (not in conflict, not deleted), in id order; with a run id,
 * only those the run has not read from ServiceTitan already (those were decided with their page).
 */
export async function pendingPushIds(t: Task, table: string, afterId: number, limit: number, unseenByRun: number | null = null): Promise<number[]> {
	const rows = await t.any<{ id: number }>(
		`SELECT id FROM $1:name AS t WHERE sync_status = 'pending_push' AND NOT deleted_in_st AND id > GREATEST($2, 0)
		   AND ($4::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM sync_run_seen s WHERE s.run_id = $4 AND s.entity_id = t.id))
		 ORDER BY id LIMIT $3`,
		[table, afterId, limit, unseenByRun],
	);
	return rows.map((r) => r.id);
}

/** How many rows pendingPushIds would hand out in all (for progress). */
export async function countPendingPushes(t: Task, table: string, unseenByRun: number | null = null): Promise<number> {
	const row = await t.one<{ n: number }>(
		`SELECT count(*)::int AS n FROM $1:name AS t WHERE sync_status = 'pending_push' AND NOT deleted_in_st AND id > 0
		   AND ($2::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM sync_run_seen s WHERE s.run_id = $2 AND s.entity_id = t.id))`,
		[table, unseenByRun],
	);
	return row.n;
}

/** Live ids of a table in id order, from `afterId` (a dry run's sweep, which records nothing). */
export async function liveIds(t: Task, table: string, afterId: number, limit: number): Promise<number[]> {
	const rows = await t.any<{ id: number }>('SELECT id FROM $1:name WHERE deleted_at IS NULL AND id > GREATEST($2, 0) ORDER BY id LIMIT $3', [
		table,
		afterId,
		limit,
	]);
	return rows.map((r) => r.id);
}

export async function countLive(t: Task, table: string): Promise<number> {
	return (await t.one<{ n: number }>('SELECT count(*)::int AS n FROM $1:name WHERE deleted_at IS NULL AND id > 0', [table])).n;
}

export async function rowExists(t: Task, table: string, id: number): Promise<boolean> {
	return (await t.oneOrNone('SELECT 1 FROM $1:name WHERE id = $2', [table, id])) !== null;
}

export interface StWrite {
	id: number;
	/** Column values of the synced fields. */
	values: Record<string, unknown>;
	base: Record<string, unknown>;
	stData: Record<string, unknown>;
	/** Null for records ServiceTitan sends without a modifiedOn (categories). */
	stModifiedOnRaw: string | null;
	stModifiedOnPg: string | null;
	/** For compare-and-set; absent for inserts. */
	rowVersion?: number;
}

function recordsetJson(writes: readonly StWrite[], columns: readonly string[]): string {
	return JSON.stringify(
		writes.map((w) => {
			const row: Record<string, unknown> = {
				id: w.id,
				sync_base: w.base,
				st_data: w.stData,
				st_modified_on_raw: w.stModifiedOnRaw,
				st_modified_on: w.stModifiedOnPg,
				row_version: w.rowVersion ?? 0,
			};
			for (const c of columns) row[c] = w.values[c];
			return row;
		}),
	);
}

/** Inserts items new in ServiceTitan as synced rows. Returns the ids inserted. */
export async function insertFromSt(t: Task, table: string, columns: readonly string[], writes: readonly StWrite[], now: Date): Promise<number[]> {
	return inChunks(writes, WRITE_CHUNK, async (chunk) => {
		const rows = await t.any<{ id: number }>(
			bound(
				`INSERT INTO ${ident(table)} (id, ${ident(columns)}, sync_base, st_data, st_modified_on, st_modified_on_raw, last_synced_at, sync_status, sync_direction)
				 SELECT id, ${ident(columns)}, sync_base, st_data, st_modified_on, st_modified_on_raw, $2, 'synced', 'from_st'
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb)
				 ON CONFLICT (id) DO NOTHING
				 RETURNING id`,
				[recordsetJson(chunk, columns), now],
			),
		);
		return rows.map((r) => r.id);
	});
}

/**
 * Overwrites rows with ServiceTitan's version and rebases them (update from ST, undelete, same change on both
 * sides, push answer). Compare-and-set: a row whose version moved since it was read (a Retool edit in between)
 * is left alone and its id is missing from the result, so the caller decides again.
 */
export async function updateFromSt(t: Task, table: string, columns: readonly string[], writes: readonly StWrite[], now: Date): Promise<number[]> {
	if (writes.length === 0) return [];
	const sets = columns.map((c) => `${ident(c)} = x.${ident(c)}`).join(', ');
	return inChunks(writes, WRITE_CHUNK, async (chunk) => {
		const rows = await t.any<{ id: number }>(
			bound(
				`UPDATE ${ident(table)} AS t SET ${sets},
				   sync_base = x.sync_base, st_data = x.st_data, st_modified_on = x.st_modified_on,
				   st_modified_on_raw = x.st_modified_on_raw, last_synced_at = $2, sync_status = 'synced',
				   sync_direction = 'from_st', push_error = NULL, push_in_flight = NULL, push_refused = NULL, deleted_in_st = FALSE,
				   -- Back in ServiceTitan after the sync had deleted it, or reactivated there: no longer deleted. A person's
				   -- soft delete (a deactivation ServiceTitan holds too) stays.
				   deleted_at = CASE WHEN t.deleted_in_st OR x.active IS NOT FALSE THEN NULL ELSE t.deleted_at END
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb) AS x
				 WHERE t.id = x.id AND t.row_version = x.row_version
				 RETURNING t.id`,
				[recordsetJson(chunk, columns), now],
			),
		);
		return rows.map((r) => r.id);
	});
}

/** After a push whose answer could not be written (the row changed again): keep the new edit, move the base. */
export async function rebaseOnly(t: Task, table: string, writes: readonly StWrite[], now: Date): Promise<void> {
	await inChunks(writes, WRITE_CHUNK, async (chunk) => {
		await t.none(
			bound(
				`UPDATE ${ident(table)} AS t SET sync_base = x.sync_base, st_data = x.st_data, st_modified_on = x.st_modified_on,
				   st_modified_on_raw = x.st_modified_on_raw, last_synced_at = $2, push_error = NULL, push_in_flight = NULL
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb) AS x
				 WHERE t.id = x.id`,
				[recordsetJson(chunk, []), now],
			),
		);
	});
}

/**
 * A row holding an edit ServiceTitan did not apply meets a newer ServiceTitan version with the base's content (a
 * push of ours whose answer was lost landed): that version becomes the base and the stamp, and push_in_flight is
 * done with. The row's values, its held edit (push_refused, push_error) and its pending status stay.
 * Compare-and-set: a row edited since it was read is missing from the result and decided again.
 */
export async function rebaseHeld(t: Task, table: string, writes: readonly StWrite[], now: Date): Promise<number[]> {
	if (writes.length === 0) return [];
	return inChunks(writes, WRITE_CHUNK, async (chunk) => {
		const rows = await t.any<{ id: number }>(
			bound(
				`UPDATE ${ident(table)} AS t SET sync_base = x.sync_base, st_data = x.st_data, st_modified_on = x.st_modified_on,
				   st_modified_on_raw = x.st_modified_on_raw, last_synced_at = $2, push_in_flight = NULL
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb) AS x
				 WHERE t.id = x.id AND t.row_version = x.row_version
				 RETURNING t.id`,
				[recordsetJson(chunk, []), now],
			),
		);
		return rows.map((r) => r.id);
	});
}

/**
 * Records the values about to be pushed, committed before the PATCH (compare-and-set). Returns each row's new
 * version; a row edited again since it was read is missing, and is not pushed in this run.
 */
export async function markPushInFlight(
	t: Task,
	table: string,
	items: readonly { id: number; rowVersion: number; values: Record<string, unknown> }[],
): Promise<Map<number, number>> {
	if (items.length === 0) return new Map();
	const rows = await t.any<{ id: number; row_version: number }>(
		`UPDATE $1:name AS t SET push_in_flight = x.values
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, row_version bigint, "values" jsonb)
		 WHERE t.id = x.id AND t.row_version = x.row_version
		 RETURNING t.id, t.row_version`,
		[table, JSON.stringify(items.map((i) => ({ id: i.id, row_version: i.rowVersion, values: i.values })))],
	);
	return new Map(rows.map((r) => [Number(r.id), Number(r.row_version)]));
}

/** ST's timestamp (or fields we do not sync) moved while the synced content did not: record it, touch nothing else. */
export async function refreshStMeta(t: Task, table: string, writes: readonly StWrite[]): Promise<void> {
	await inChunks(writes, WRITE_CHUNK, async (chunk) => {
		await t.none(
			bound(
				`UPDATE ${ident(table)} AS t SET st_data = x.st_data, st_modified_on = x.st_modified_on, st_modified_on_raw = x.st_modified_on_raw
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb) AS x
				 WHERE t.id = x.id`,
				[recordsetJson(chunk, [])],
			),
		);
	});
}

/** Soft delete (compare-and-set). Returns the ids deleted. */
export async function softDelete(t: Task, table: string, items: readonly { id: number; rowVersion: number }[], now: Date): Promise<number[]> {
	if (items.length === 0) return [];
	const rows = await t.any<{ id: number }>(
		`UPDATE $1:name AS t SET deleted_at = $3, deleted_in_st = TRUE, sync_status = 'synced', last_synced_at = $3
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, row_version bigint)
		 WHERE t.id = x.id AND t.row_version = x.row_version
		 RETURNING t.id`,
		[table, JSON.stringify(items.map((i) => ({ id: i.id, row_version: i.rowVersion }))), now],
	);
	return rows.map((r) => r.id);
}

/** Flags rows as in conflict; the person's values stay as they are. */
export async function markConflicts(t: Task, table: string, items: readonly { id: number; conflictData: unknown }[]): Promise<void> {
	if (items.length === 0) return;
	await t.none(
		`UPDATE $1:name AS t SET has_conflict = TRUE, conflict_data = x.conflict_data, sync_status = 'conflict',
		   conflict_resolved_at = NULL, conflict_resolution = NULL, resolved_by = NULL
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, conflict_data jsonb)
		 WHERE t.id = x.id`,
		[table, JSON.stringify(items.map((i) => ({ id: i.id, conflict_data: i.conflictData })))],
	);
}

/**
 * Records why ServiceTitan refused a push; the row stays pending so the edit is not lost. A definite answer also
 * clears push_in_flight, which covers only a push whose answer was lost: ServiceTitan holding those values later is
 * a person's edit there, not the echo of ours.
 */
export async function recordPushErrors(t: Task, table: string, items: readonly { id: number; message: string }[]): Promise<void> {
	if (items.length === 0) return;
	await t.none(
		`UPDATE $1:name AS t SET push_error = x.message, push_in_flight = NULL
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, message text)
		 WHERE t.id = x.id`,
		[table, JSON.stringify(items)],
	);
}

/** Ids a completed full listing did not return, in batches (id order), for the soft-delete sweep. */
export async function unseenIds(t: Task, table: string, runId: number, afterId: number, limit: number): Promise<number[]> {
	const rows = await t.any<{ id: number }>(
		`SELECT id FROM $1:name AS t WHERE deleted_at IS NULL AND id > GREATEST($3, 0)
		   AND NOT EXISTS (SELECT 1 FROM sync_run_seen s WHERE s.run_id = $2 AND s.entity_id = t.id)
		 ORDER BY id LIMIT $4`,
		[table, runId, afterId, limit],
	);
	return rows.map((r) => r.id);
}

export async function countUnseen(t: Task, table: string, runId: number): Promise<{ unseen: number; live: number }> {
	return t.one(
		`SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sync_run_seen s WHERE s.run_id = $2 AND s.entity_id = t.id))::int AS unseen,
		        count(*)::int AS live
		 FROM $1:name AS t WHERE deleted_at IS NULL AND id > 0`,
		[table, runId],
	);
}

/** Records ids a run has read from ServiceTitan; returns those it had not read before (a listing can repeat an item). */
export async function recordSeen(t: Task, runId: number, ids: readonly number[], recheck: readonly number[] = []): Promise<number[]> {
	if (ids.length === 0) return [];
	const rows = await t.any<{ entity_id: string }>(
		'INSERT INTO sync_run_seen (run_id, entity_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING RETURNING entity_id',
		[runId, ids],
	);
	if (recheck.length > 0) await t.none('UPDATE sync_run_seen SET recheck = TRUE WHERE run_id = $1 AND entity_id = ANY($2::bigint[])', [runId, recheck]);
	return rows.map((r) => Number(r.entity_id));
}

/** Ids a run must look up by id before deciding (listed inactive by the export feed: deactivated or deleted), in id order. */
export async function recheckIds(t: Task, runId: number, afterId: number, limit: number): Promise<number[]> {
	const rows = await t.any<{ entity_id: string }>(
		'SELECT entity_id FROM sync_run_seen WHERE run_id = $1 AND recheck AND entity_id > $2 ORDER BY entity_id LIMIT $3',
		[runId, afterId, limit],
	);
	return rows.map((r) => Number(r.entity_id));
}

export async function countSeen(t: Task, runId: number): Promise<number> {
	return (await t.one<{ n: number }>('SELECT count(*)::int AS n FROM sync_run_seen WHERE run_id = $1', [runId])).n;
}

export async function forgetSeen(t: Task, runId: number): Promise<void> {
	await t.none('DELETE FROM sync_run_seen WHERE run_id = $1', [runId]);
}

/** Stores an open conflict's refreshed view on its row (the same JSON as sync_conflicts.conflict_data). */
export async function setConflictData(t: Task, table: string, id: number, conflictData: object): Promise<void> {
	await t.none('UPDATE $1:name SET conflict_data = $2 WHERE id = $3', [table, conflictData, id]);
}

/**
 * How a resolved conflict leaves its row: kept (ServiceTitan's version was written, or an edit made meanwhile
 * stays pending on top of it) or deleted (ServiceTitan's delete accepted: soft-deleted, vendor prices stay).
 */
export type ResolvedRow = { deleted: false; syncStatus: 'synced' | 'pending_push'; syncDirection: 'from_st' | 'to_st' } | { deleted: true };

/** Clears a row's conflict flag and records who decided what, and when. */
export async function markConflictResolved(
	t: Task,
	table: string,
	id: number,
	decided: { resolution: string; resolvedBy: string },
	outcome: ResolvedRow,
	at: Date,
): Promise<void> {
	const common = 'has_conflict = FALSE, conflict_data = NULL, conflict_resolved_at = $3, conflict_resolution = $4, resolved_by = $5';
	const values = [table, id, at, decided.resolution, decided.resolvedBy];
	if (outcome.deleted) {
		await t.none(`UPDATE $1:name SET ${common}, sync_status = 'synced', deleted_at = $3, deleted_in_st = TRUE, last_synced_at = $3 WHERE id = $2`, values);
	} else {
		await t.none(`UPDATE $1:name SET ${common}, sync_status = $6, sync_direction = $7 WHERE id = $2`, [
			...values,
			outcome.syncStatus,
			outcome.syncDirection,
		]);
	}
}

/** Who closes a conflict whose sides came to agree: the sync, not a person (kept in resolved_by, as a resolution's is). */
export const SETTLED_BY = 'sync: both sides agree';

/**
 * Takes rows out of conflict whose two sides came to agree by hand (see categorize): the flag and the shown
 * conflict go, as a resolution clears them; `conflict_resolution` stays NULL, since nobody chose one of the three
 * resolutions Retool knows, and `resolved_by` says the sync closed it. A row already rewritten from ServiceTitan's
 * version in this transaction (updateFromSt: values, base, stamps) passes `rowVersion: null`; a row both sides
 * deleted keeps its base and the person's `deleted_at`, now ServiceTitan's delete too (`deleted_in_st`),
 * compare-and-set on the version it was decided on. Returns
 * the ids written.
 */
export async function markConflictsSettled(t: Task, table: string, items: readonly { id: number; rowVersion: number | null }[], at: Date): Promise<number[]> {
	if (items.length === 0) return [];
	// Only an item gone from ServiceTitan makes the row's delete ServiceTitan's too (deleted_in_st). A row rewritten
	// from ServiceTitan's (inactive) item keeps a person's soft delete as the person's: marked deleted_in_st, the next
	// run would take the listed item for one that came back and clear deleted_at (model seed 20261125 path 785).
	const rows = await t.any<{ id: string }>(
		`UPDATE $1:name AS t SET has_conflict = FALSE, conflict_data = NULL, conflict_resolved_at = $3, conflict_resolution = NULL,
		   resolved_by = $4, sync_status = 'synced', last_synced_at = $3,
		   deleted_in_st = CASE WHEN x.row_version IS NULL THEN t.deleted_in_st ELSE (t.deleted_at IS NOT NULL) OR t.deleted_in_st END
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, row_version bigint)
		 WHERE t.id = x.id AND (x.row_version IS NULL OR t.row_version = x.row_version)
		 RETURNING t.id`,
		[table, JSON.stringify(items.map((i) => ({ id: i.id, row_version: i.rowVersion }))), at, SETTLED_BY],
	);
	return rows.map((r) => Number(r.id));
}

/**
 * Pushed values ServiceTitan answered for but did not store: the row keeps them, pending (also after the push wrote
 * what ServiceTitan did store onto it), with the reason; they are not sent again while the row holds them (see
 * categorize). The answer was definite, so nothing is in flight.
 */
export async function recordPushRefused(
	t: Task,
	table: string,
	items: readonly { id: number; message: string; refused: Record<string, unknown> }[],
): Promise<void> {
	if (items.length === 0) return;
	await t.none(
		`UPDATE $1:name AS t SET push_error = x.message, push_refused = x.refused, push_in_flight = NULL, sync_status = 'pending_push'
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, message text, refused jsonb)
		 WHERE t.id = x.id`,
		[table, JSON.stringify(items)],
	);
}

/**
 * Puts values ServiceTitan did not apply back on a row as a held local edit: the columns get `values`, the row is
 * pending with the reason, and push_refused keeps the canonical values so they are not sent again unchanged.
 */
export async function holdRefusedValues(
	t: Task,
	table: string,
	id: number,
	values: Record<string, unknown>,
	refused: Record<string, unknown>,
	message: string,
	/** The columns' values when the caller read the row: a column a person has changed since keeps the newer value. */
	readBefore: Record<string, unknown>,
): Promise<void> {
	const columns = Object.keys(values);
	if (columns.length === 0) return;
	const kept = columns.map((c) => `CASE WHEN t.${ident(c)} IS NOT DISTINCT FROM o.${ident(c)} THEN n.${ident(c)} ELSE t.${ident(c)} END`).join(', ');
	await t.none(
		bound(
			`UPDATE ${ident(table)} AS t SET (${ident(columns)}) = (SELECT ${kept}
			     FROM jsonb_populate_record(NULL::${ident(table)}, $2::jsonb) n, jsonb_populate_record(NULL::${ident(table)}, $5::jsonb) o),
			   sync_status = 'pending_push', push_error = $3, push_refused = $4::jsonb
			 WHERE t.id = $1`,
			[id, JSON.stringify(values), message, JSON.stringify(refused), JSON.stringify(readBefore)],
		),
	);
}

/**
 * A person's retry of held edits: push_refused and the reason are cleared, so the next run pushes the row's values
 * again. `ids` null: every held row of the table. Returns what each released row held, for the audit trail.
 */
export async function releaseHeldPushes(
	t: Task,
	table: string,
	ids: readonly number[] | null,
): Promise<{ id: number; held: Record<string, unknown>; reason: string | null }[]> {
	const rows = await t.any<{ id: string; held: Record<string, unknown>; reason: string | null }>(
		`WITH old AS (
		   SELECT id, push_refused, push_error FROM $1:name
		   WHERE push_refused IS NOT NULL AND deleted_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
		   FOR UPDATE
		 )
		 UPDATE $1:name AS t SET push_refused = NULL, push_error = NULL FROM old WHERE t.id = old.id
		 RETURNING t.id, old.push_refused AS held, old.push_error AS reason`,
		[table, ids],
	);
	return rows.map((r) => ({ id: Number(r.id), held: r.held, reason: r.reason })).sort((a, b) => a.id - b.id);
}

/**
 * Marks rows holding a value the sync cannot read (lib/sync/unreadable.ts): the reason goes to push_error, where
 * Retool shows it, and nothing else changes. Compare-and-set, so a row a person corrected meanwhile gets no stale
 * mark (it is decided again instead). Returns the ids marked.
 */
export async function markUnreadable(t: Task, table: string, items: readonly { id: number; rowVersion: number; message: string }[]): Promise<number[]> {
	if (items.length === 0) return [];
	const rows = await t.any<{ id: number }>(
		`UPDATE $1:name AS t SET push_error = x.message
		 FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, row_version bigint, message text)
		 WHERE t.id = x.id AND t.row_version = x.row_version
		 RETURNING t.id`,
		[table, JSON.stringify(items.map((i) => ({ id: i.id, row_version: i.rowVersion, message: i.message })))],
	);
	return rows.map((r) => r.id);
}

/** Clears the push_error of `ids` where it starts with `prefix` (a mark whose cause is gone); other reasons stay. */
export async function clearPushErrorsStartingWith(t: Task, table: string, ids: readonly number[], prefix: string): Promise<void> {
	if (ids.length === 0) return;
	await t.none('UPDATE $1:name SET push_error = NULL WHERE id = ANY($2::bigint[]) AND starts_with(push_error, $3)', [table, ids, prefix]);
}
