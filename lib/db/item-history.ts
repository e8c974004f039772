import type { Queryable } from './connection';

/** One row of pricebook_item_history (migration 0017): a change of one item, only the fields that changed. */
export interface ItemHistoryRecord {
	change_id: number;
	entity_type: string;
	entity_id: number;
	changed_at: Date;
	action: string;
	run_id: number | null;
	run_kind: string | null;
	run_trigger: string | null;
	changed_by: string | null;
	temporary_id: number | null;
	fields: Record<string, { before: unknown; after: unknown }>;
}

/** Every change of one item, oldest first (the order they happened in; the id breaks ties within one write). */
export async function readItemHistory(q: Queryable, entityType: string, entityId: number): Promise<ItemHistoryRecord[]> {
	return q.any<ItemHistoryRecord>('SELECT * FROM pricebook_item_history WHERE entity_type = $1 AND entity_id = $2 ORDER BY changed_at, change_id', [
		entityType,
		entityId,
	]);
}

/** The ServiceTitan id a Retool insert's temporary id became, if it was created there (and that entry is still kept). */
export async function idCreatedFromTemporaryId(q: Queryable, entityType: string, temporaryId: number): Promise<number | null> {
	const row = await q.oneOrNone<{ entity_id: number }>(
		`SELECT entity_id FROM sync_change_log
		 WHERE action = 'created_in_st' AND entity_type = $1 AND (before ->> 'temporaryId')::bigint = $2
		 ORDER BY id DESC LIMIT 1`,
		[entityType, temporaryId],
	);
	return row ? Number(row.entity_id) : null;
}

/** Where one change-log entry belongs (restore --change checks it is the item's and still inside the window). */
export interface ChangeRef {
	change_id: number;
	entity_type: string;
	entity_id: number;
	changed_at: Date;
}

export async function readChangeRef(q: Queryable, changeId: number): Promise<ChangeRef | null> {
	const row = await q.oneOrNone<ChangeRef>('SELECT id AS change_id, entity_type, entity_id, changed_at FROM sync_change_log WHERE id = $1', [changeId]);
	return row ? { ...row, change_id: Number(row.change_id), entity_id: Number(row.entity_id) } : null;
}
