import type { Db } from '../db/connection';
import { listHeldPushRecords } from '../db/reports';

/** A local edit ServiceTitan did not take, as status and the CLI show it. */
export interface HeldPush {
	entityType: string;
	entityId: number;
	label: string | null;
	/** The fields held: the local values ServiceTitan kept its own value for (or refused with a 400). */
	fields: string[];
	heldValues: Record<string, unknown>;
	/** ServiceTitan's values of the same fields, as last synced. */
	stValues: Record<string, unknown>;
	reason: string | null;
	heldSince: string | null;
}

/** Held edits, longest-waiting first. */
export async function listHeldPushes(db: Db, filter: { entityType?: string; limit?: number } = {}): Promise<HeldPush[]> {
	const rows = await listHeldPushRecords(db, filter.entityType ?? null, filter.limit ?? 500);
	return rows.map((r) => ({
		entityType: r.entity_type,
		entityId: Number(r.entity_id),
		label: r.item_label,
		fields: r.fields,
		heldValues: r.held_values,
		stValues: r.st_values,
		reason: r.reason,
		heldSince: r.held_since?.toISOString() ?? null,
	}));
}
