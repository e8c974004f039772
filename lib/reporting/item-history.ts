import type { Db } from '../db/connection';
import { idCreatedFromTemporaryId, readItemHistory } from '../db/item-history';
import type { EntityType } from '../entities/types';

export interface ItemHistoryEntry {
	changeId: number;
	changedAt: string;
	action: string;
	runId: number | null;
	runKind: string | null;
	trigger: string | null;
	/** The resolver, or the person who asked for a retry or an undo; null when a scheduled run did it. */
	changedBy: string | null;
	/** Only the fields that changed. */
	fields: Record<string, { before: unknown; after: unknown }>;
}

export interface ItemHistory {
	entityType: EntityType;
	/** The item's id now (ServiceTitan's once created there). */
	entityId: number;
	/** The id asked for, when it was the temporary id of a Retool insert since created in ServiceTitan. */
	temporaryId: number | null;
	entries: ItemHistoryEntry[];
}

/**
 * The history of one item from pricebook_item_history, oldest first. Asked for by the temporary id of a row
 * inserted in Retool that has since been created in ServiceTitan, it is that item's history (the create included).
 */
export async function itemHistory(db: Db, entityType: EntityType, id: number): Promise<ItemHistory> {
	const createdAs = id < 0 ? await idCreatedFromTemporaryId(db, entityType, id) : null;
	const entityId = createdAs ?? id;
	const rows = await readItemHistory(db, entityType, entityId);
	return {
		entityType,
		entityId,
		temporaryId: createdAs === null ? (rows.find((r) => r.temporary_id !== null)?.temporary_id ?? null) : id,
		entries: rows.map((r) => ({
			changeId: Number(r.change_id),
			changedAt: r.changed_at.toISOString(),
			action: r.action,
			runId: r.run_id === null ? null : Number(r.run_id),
			runKind: r.run_kind,
			trigger: r.run_trigger,
			changedBy: r.changed_by,
			fields: r.fields,
		})),
	};
}
