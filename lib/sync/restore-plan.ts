import type { CanonicalRecord, CanonicalValue, EntityDefinition } from '../entities/types';
import { same, show, type ItemPlan } from './undo-plan';

/**
 * What restore would do to one item, decided field by field from the item's change log and both sides as they are
 * now. Pure: restore.ts reads and writes, this module only decides.
 */

/** One change of the item after the point restored to, as pricebook_item_history gives it (only the fields it changed). */
export interface LaterChange {
	action: string;
	fields: Record<string, { before: unknown; after: unknown }>;
}

/** Changes that mean the item did not exist yet at the point restored to: restore does not delete items. */
const CREATES = new Set(['created', 'created_in_st']);

/**
 * The item's value of each field at the point restored to: the `before` of the first later change that touched the
 * field. A field no later change touched is already at that value and is not in the answer. Null when a later change
 * created the item (there is no earlier state to go back to).
 */
export function valuesAt(def: EntityDefinition, later: readonly LaterChange[]): CanonicalRecord | null {
	if (later.some((c) => CREATES.has(c.action))) return null;
	const columns = new Set(def.fields.map((f) => f.column));
	const values: CanonicalRecord = {};
	for (const change of later) {
		for (const [field, f] of Object.entries(change.fields)) {
			if (columns.has(field) && !(field in values)) values[field] = (f.before ?? null) as CanonicalValue;
		}
	}
	return values;
}

/** Where the item stands now, as restore checks it. */
export interface RestoreNow {
	/** Null: no local row. */
	local: { current: CanonicalRecord; base: CanonicalRecord | null; deleted: boolean; inConflict: boolean } | null;
	/** Null: ServiceTitan no longer has it. */
	st: CanonicalRecord | null;
}

/**
 * The safety check of restore, per field. Later edits that were synced are overwritten on purpose (that is what
 * restore is for, and the dry run shows them), but never one the person could not have seen: a ServiceTitan edit the
 * sync has not pulled yet (ServiceTitan differs from the sync base) or a Retool edit not pushed yet (the local row
 * differs from it). Those fields are skipped and kept, with what to do first.
 */
export function planRestore(def: EntityDefinition, entityId: number, target: CanonicalRecord, now: RestoreNow): ItemPlan {
	const plan: ItemPlan = { entityId, restore: [], skipped: [] };
	const fields = def.fields.map((f) => f.column).filter((c) => c in target);
	if (fields.length === 0) return plan;
	const whole = (reason: string) => {
		plan.skipped.push({ reason });
		return plan;
	};
	if (!now.local) return whole('no longer exists locally; nothing to restore');
	if (!now.st) return whole('no longer exists in ServiceTitan; nothing to restore');
	if (now.local.deleted) return whole('deleted locally (it was deleted in ServiceTitan); reactivate it in ServiceTitan and run a sync first');
	if (now.local.inConflict) return whole('in conflict now: resolve the conflict first (pricebook-sync conflicts), then restore again');
	const { current, base } = now.local;
	if (!base) return whole('has no synced version to check ServiceTitan against: run a sync first, then restore again');
	for (const field of fields) {
		const value = target[field];
		if (same(current[field], value) && same(now.st[field], value)) continue;
		if (!same(now.st[field], base[field]))
			plan.skipped.push({
				field,
				reason: `changed in ServiceTitan and not synced yet (now ${show(now.st[field])}); run a sync first, then restore again`,
			});
		else if (!same(current[field], base[field]))
			plan.skipped.push({ field, reason: `holds a Retool edit not pushed yet (now ${show(current[field])}); run a sync first, then restore again` });
		else plan.restore.push({ field, now: current[field], afterUndo: value });
	}
	return plan;
}
