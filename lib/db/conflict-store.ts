import type { EntityType } from '../entities/types';
import type { Queryable } from './connection';
import type { Task } from './pricebook-store';

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
	resolution: 'use_st' | 'use_local' | 'merged' | null;
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
