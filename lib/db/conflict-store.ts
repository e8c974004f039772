import type { EntityDefinition, EntityType } from '../entities/types';
import type { Queryable } from './connection';
import { ident, type Task } from './pricebook-store';

export interface ConflictWrite {
	entityId: number;
	kind: 'modified' | 'deleted_in_st' | 'unknown_base';
	conflictData: Record<string, unknown>;
	baseVersion: Record<string, unknown> | null;
	stModifiedOnRaw: string | null;
	suggestedMerge: Record<string, unknown> | null;
}

export interface OpenConflictRow {
	id: number;
	entity_id: number;
	kind: string;
	conflict_data: Record<string, unknown>;
	st_modified_on_raw: string | null;
}

export async function openConflictsFor(t: Task, entityType: string, ids: readonly number[]): Promise<OpenConflictRow[]> {
	if (ids.length === 0) return [];
	return t.any<OpenConflictRow>(
		`SELECT id, entity_id, kind, conflict_data, st_modified_on_raw FROM sync_conflicts
		 WHERE status = 'open' AND entity_type = $1 AND entity_id = ANY($2::bigint[])`,
		[entityType, ids],
	);
}

/**
 * Opens a conflict per item, or refreshes the open one (the partial unique index keeps it to one open conflict
 * per item, even with two writers). Returns conflict ids by entity id.
 */
export async function upsertConflicts(t: Task, entityType: string, runId: number | null, items: readonly ConflictWrite[]): Promise<Map<number, number>> {
	if (items.length === 0) return new Map();
	const rows = await t.any<{ id: number; entity_id: number }>(
		`INSERT INTO sync_conflicts (entity_type, entity_id, kind, conflict_data, base_version, st_modified_on_raw, suggested_merge, run_id)
		 SELECT $1, x.entity_id, x.kind, x.conflict_data, x.base_version, x.st_modified_on_raw, x.suggested_merge, $2
		 FROM jsonb_to_recordset($3::jsonb) AS x(entity_id bigint, kind text, conflict_data jsonb, base_version jsonb,
		   st_modified_on_raw text, suggested_merge jsonb)
		 ON CONFLICT (entity_type, entity_id) WHERE status = 'open' DO UPDATE SET
		   kind = EXCLUDED.kind, conflict_data = EXCLUDED.conflict_data, st_modified_on_raw = EXCLUDED.st_modified_on_raw,
		   suggested_merge = EXCLUDED.suggested_merge, base_version = COALESCE(sync_conflicts.base_version, EXCLUDED.base_version),
		   updated_at = now()
		 RETURNING id, entity_id`,
		[
			entityType,
			runId,
			JSON.stringify(
				items.map((i) => ({
					entity_id: i.entityId,
					kind: i.kind,
					conflict_data: i.conflictData,
					base_version: i.baseVersion,
					st_modified_on_raw: i.stModifiedOnRaw,
					suggested_merge: i.suggestedMerge,
				})),
			),
		],
	);
	return new Map(rows.map((r) => [r.entity_id, r.id]));
}

/** A conflict a run stored, with the parts of its data that say what it is about. */
export interface StoredConflictRow {
	id: number;
	entity_id: number;
	kind: string;
	diff: StoredConflictData['diff'] | null;
	/** The row's values when the conflict was stored (canonical, by column). */
	local: Record<string, unknown> | null;
}

/**
 * The conflicts run `runId` stored (opened or refreshed) for these items, as its change log recorded them, in item
 * order: at most `limit`, with how many there are in all.
 */
export async function conflictsStoredByRun(
	q: Queryable,
	runId: number,
	entityType: string,
	entityIds: readonly number[],
	limit: number,
): Promise<{ total: number; rows: StoredConflictRow[] }> {
	if (entityIds.length === 0) return { total: 0, rows: [] };
	const rows = await q.any<StoredConflictRow & { total: number }>(
		`WITH stored AS (
		   SELECT DISTINCT (l.after ->> 'conflictId')::bigint AS id FROM sync_change_log l
		   WHERE l.run_id = $1 AND l.entity_type = $2 AND l.action = 'conflict' AND l.entity_id = ANY($3::bigint[]))
		 SELECT c.id, c.entity_id, c.kind, c.conflict_data -> 'diff' AS diff, c.conflict_data -> 'localVersion' -> 'data' AS local,
		   count(*) OVER ()::int AS total
		 FROM stored s JOIN sync_conflicts c ON c.id = s.id
		 ORDER BY c.entity_id LIMIT $4`,
		[runId, entityType, entityIds, limit],
	);
	return { total: rows[0]?.total ?? 0, rows: rows.map(({ total: _total, ...row }) => row) };
}

/**
 * The parts of conflict_data (written by lib/sync/conflict-data.ts) that readers use. Optional throughout: the
 * JSON is only as complete as the version that wrote it.
 */
export interface StoredConflictData {
	stVersion?: { data?: Record<string, unknown> | null; deleted?: boolean };
	localVersion?: { data?: Record<string, unknown> };
	diff?: { fields?: string[]; stValues?: Record<string, unknown>; localValues?: Record<string, unknown>; baseValues?: Record<string, unknown> | null };
}

/** A sync_conflicts row, as the reports and the resolution read it. */
export interface ConflictRecord {
	id: number;
	entity_type: EntityType;
	entity_id: number;
	kind: string;
	status: 'open' | 'resolved';
	detected_at: Date;
	conflict_data: StoredConflictData;
	suggested_merge: unknown;
	/** settled_by_hand: both sides came to agree without a decision here; the sync closed it (migration 0013). */
	resolution: 'use_st' | 'use_local' | 'merged' | 'settled_by_hand' | null;
	resolved_by: string | null;
	resolved_at: Date | null;
}

export async function readConflict(q: Queryable, id: number): Promise<ConflictRecord | null> {
	return q.oneOrNone<ConflictRecord>('SELECT * FROM sync_conflicts WHERE id = $1', [id]);
}

/** Conflicts newest first; a null `entityType` means all types. */
export async function listConflictRecords(
	q: Queryable,
	filter: { entityType: string | null; status: 'open' | 'resolved' | 'all'; limit: number },
): Promise<ConflictRecord[]> {
	return q.any<ConflictRecord>(
		`SELECT * FROM sync_conflicts
		 WHERE ($1::text IS NULL OR entity_type = $1) AND ($2 = 'all' OR status = $2)
		 ORDER BY detected_at DESC, id DESC LIMIT $3`,
		[filter.entityType, filter.status, filter.limit],
	);
}

export async function countOpenConflicts(q: Queryable): Promise<number> {
	const { n } = await q.one<{ n: number }>(`SELECT count(*)::int AS n FROM sync_conflicts WHERE status = 'open'`);
	return n;
}

/** What an open conflict is shown with, re-read from both sides (a resolution found ServiceTitan had moved). */
export interface ConflictRefresh {
	kind: 'modified' | 'deleted_in_st';
	/** Stored on the conflict and on the item's row. */
	conflictData: object;
	stModifiedOnRaw: string | null;
	suggestedMerge: object | null;
}

export async function refreshConflict(t: Task, id: number, refresh: ConflictRefresh, at: Date): Promise<void> {
	await t.none('UPDATE sync_conflicts SET kind = $2, conflict_data = $3, st_modified_on_raw = $4, suggested_merge = $5, updated_at = $6 WHERE id = $1', [
		id,
		refresh.kind,
		refresh.conflictData,
		refresh.stModifiedOnRaw,
		refresh.suggestedMerge,
		at,
	]);
}

/** Who decided what, and both sides before and the outcome after, for the audit trail. */
export interface ConflictClosing {
	resolution: 'use_st' | 'use_local' | 'merged';
	resolvedBy: string;
	before: unknown;
	after: unknown;
}

export async function closeConflict(t: Task, id: number, closing: ConflictClosing, at: Date): Promise<void> {
	await t.none(
		`UPDATE sync_conflicts SET status = 'resolved', resolution = $2, resolved_by = $3, resolved_at = $4, resolution_before = $5,
		   resolution_after = $6, updated_at = $4 WHERE id = $1`,
		[id, closing.resolution, closing.resolvedBy, at, closing.before, closing.after],
	);
}

/** A conflict whose sides came to agree by hand: both sides as they were, and what the item holds now. */
export interface ConflictSettling {
	entityId: number;
	before: unknown;
	after: unknown;
}

/**
 * Closes the open conflicts of items whose sides came to agree, recorded as settled by hand (`resolvedBy`: the
 * sync). Only open ones: one a person resolved meanwhile keeps that resolution. Returns conflict ids by entity id.
 */
export async function closeSettledConflicts(
	t: Task,
	entityType: string,
	items: readonly ConflictSettling[],
	resolvedBy: string,
	at: Date,
): Promise<Map<number, number>> {
	if (items.length === 0) return new Map();
	const rows = await t.any<{ id: number; entity_id: string }>(
		`UPDATE sync_conflicts AS c SET status = 'resolved', resolution = 'settled_by_hand', resolved_by = $3, resolved_at = $4,
		   resolution_before = x.before, resolution_after = x.after, updated_at = $4
		 FROM jsonb_to_recordset($2::jsonb) AS x(entity_id bigint, before jsonb, after jsonb)
		 WHERE c.status = 'open' AND c.entity_type = $1 AND c.entity_id = x.entity_id
		 RETURNING c.id, c.entity_id`,
		[entityType, JSON.stringify(items.map((i) => ({ entity_id: i.entityId, before: i.before, after: i.after }))), resolvedBy, at],
	);
	return new Map(rows.map((r) => [Number(r.entity_id), Number(r.id)]));
}

/** An open conflict with its item's synced columns as they are now, and ServiceTitan's side as the conflict shows it. */
export interface OpenConflictSides extends Record<string, unknown> {
	entity_id: number;
	/** conflict_data.stVersion: `data` null when ServiceTitan had deleted the item. */
	st_version: StoredConflictData['stVersion'] | null;
	deleted_at: Date | null;
}

/**
 * Open conflicts of an entity type with their rows (soft-deleted ones too), in entity id order after `afterId`;
 * with a run id, only items that run has not read from ServiceTitan (those were decided with their page).
 */
export async function openConflictSides(
	t: Task,
	def: EntityDefinition,
	afterId: number,
	limit: number,
	unseenByRun: number | null,
): Promise<OpenConflictSides[]> {
	const columns = def.fields.map((f) => `p.${ident(f.column)}`).join(', ');
	const rows = await t.any<OpenConflictSides>(
		`SELECT c.entity_id, c.conflict_data -> 'stVersion' AS st_version, p.deleted_at, ${columns}
		 FROM sync_conflicts c JOIN ${ident(def.table)} p ON p.id = c.entity_id
		 WHERE c.status = 'open' AND c.entity_type = $1 AND c.entity_id > $2
		   AND ($4::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM sync_run_seen s WHERE s.run_id = $4 AND s.entity_id = c.entity_id))
		 ORDER BY c.entity_id LIMIT $3`,
		[def.type, afterId, limit, unseenByRun],
	);
	return rows.map((r) => ({ ...r, entity_id: Number(r.entity_id) }));
}

/**
 * Opens a resolved conflict again (undo of its resolution): the decision is cleared from the conflict row; who
 * decided what stays in the change log and the resolution's run. Returns false when the item has another open
 * conflict meanwhile (one open per item), and then changes nothing.
 */
export async function reopenConflict(t: Task, id: number, at: Date): Promise<boolean> {
	const result = await t.result(
		`UPDATE sync_conflicts c SET status = 'open', resolution = NULL, resolved_by = NULL, resolved_at = NULL,
		   resolution_before = NULL, resolution_after = NULL, updated_at = $2
		 WHERE c.id = $1 AND c.status = 'resolved'
		   AND NOT EXISTS (SELECT 1 FROM sync_conflicts o WHERE o.entity_type = c.entity_type AND o.entity_id = c.entity_id AND o.status = 'open')`,
		[id, at],
	);
	return result.rowCount === 1;
}

/** The base a conflict was recorded against (null: the row had none). */
export async function conflictBase(t: Task, id: number): Promise<Record<string, unknown> | null> {
	const row = await t.oneOrNone<{ base_version: Record<string, unknown> | null }>('SELECT base_version FROM sync_conflicts WHERE id = $1', [id]);
	return row?.base_version ?? null;
}
