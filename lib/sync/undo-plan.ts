import type { CanonicalRecord, CanonicalValue, EntityDefinition } from '../entities/types';
import type { LoggedChange } from '../db/undo-store';

/**
 * What undo would do to one item, decided field by field from the run's change log and both sides as they are now.
 * Pure: undo.ts reads and writes, this module only decides.
 */
export interface FieldRestore {
	field: string;
	/** The value both sides hold now (what the run left). */
	now: CanonicalValue;
	/** The value after the undo (what the item held before the run). */
	afterUndo: CanonicalValue;
	/** Undo of a resolution only: the side this value goes back on (before a resolution the two sides differed). */
	side?: 'local' | 'servicetitan';
}

export interface Skip {
	/** Absent when the whole item is skipped. */
	field?: string;
	reason: string;
}

export interface ItemPlan {
	entityId: number;
	restore: FieldRestore[];
	skipped: Skip[];
}

/** What the run changed in an item's fields: per field, the value before the run and the value it left. */
export interface FieldChanges {
	before: CanonicalRecord;
	after: CanonicalRecord;
	/** Changes of this item that undo does not reverse, with the reason. */
	notUndone: string[];
}

/**
 * The actions whose before and after are field values on both sides: a change pulled from ServiceTitan (before:
 * the local row, after: ServiceTitan's record) and a verified push (before and after: ServiceTitan's pushed fields,
 * which the local row held, and holds after the push), and an undo's restore of the local row (the same values
 * as its push, kept so that a restore whose push did not happen is on record too).
 */
const FIELD_ACTIONS = new Set(['updated_from_st', 'pushed', 'push_not_applied', 'undo_restored_locally']);

/** Why undo leaves what the other actions did, for the admin reading the plan. */
const NOT_UNDONE: Record<string, string> = {
	created:
		'new in ServiceTitan, added locally by this run: undo does not remove items (deactivate it in ServiceTitan if it should go; the next sync brings that here)',
	created_in_st:
		'created in ServiceTitan from a Retool insert by this run: undo does not remove items (deactivate it in Retool or ServiceTitan if it should go)',
	soft_deleted: 'deleted in ServiceTitan, so the run deleted it locally: undo cannot bring it back in ServiceTitan',
	undeleted: 'back in ServiceTitan, so the run restored the local row: undo does not delete it again',
	conflict: 'the run opened a conflict: it stays open for a person to resolve',
	conflict_settled: 'both sides had come to agree, so the run closed the conflict: nothing to restore',
	push_retry_requested: 'a retry request changes no values',
	undo_took_st_value: "a later ServiceTitan edit the undo took into the local row: it stays (it was a ServiceTitan user's, not the undo's)",
	undo_reopened_conflict: 'the undo reopened a conflict: decide it again to undo that',
};

/** Folds a run's entries for one item: the first before and the last after of each field it changed. */
export function fieldChanges(def: EntityDefinition, entries: readonly LoggedChange[]): FieldChanges {
	const columns = new Set(def.fields.map((f) => f.column));
	const before: CanonicalRecord = {};
	const after: CanonicalRecord = {};
	const notUndone: string[] = [];
	for (const e of entries) {
		if (!FIELD_ACTIONS.has(e.action)) {
			const reason = NOT_UNDONE[e.action] ?? `a "${e.action}" change is not undone`;
			if (!notUndone.includes(reason)) notUndone.push(reason);
			continue;
		}
		const b = (e.before ?? {}) as CanonicalRecord;
		const a = (e.after ?? {}) as CanonicalRecord;
		for (const field of Object.keys(a)) {
			if (!columns.has(field) || !(field in b) || same(b[field], a[field])) continue;
			if (!(field in before)) before[field] = b[field];
			after[field] = a[field];
		}
	}
	return { before, after, notUndone };
}

/** Where the item stands now, as undo checks it. */
export interface ItemNow {
	/** Null: no local row. */
	local: { current: CanonicalRecord; deleted: boolean; inConflict: boolean } | null;
	/** Null: ServiceTitan no longer has it. */
	st: CanonicalRecord | null;
}

/**
 * The three-way check of undo, per field: a field is restored only while both sides still hold what the run left;
 * one changed since on either side is someone's later edit, skipped (and named) so undo never loses it.
 */
export function planItem(def: EntityDefinition, entityId: number, changes: FieldChanges, now: ItemNow): ItemPlan {
	const plan: ItemPlan = { entityId, restore: [], skipped: changes.notUndone.map((reason) => ({ reason })) };
	const fields = def.fields.map((f) => f.column).filter((c) => c in changes.after);
	if (fields.length === 0) return plan;
	const whole = (reason: string) => {
		plan.skipped.push({ reason });
		return plan;
	};
	if (!now.local) return whole('no longer exists locally');
	if (!now.st) return whole('no longer exists in ServiceTitan');
	if (now.local.deleted) return whole('deleted locally since the run');
	if (now.local.inConflict) return whole('in conflict now: resolve the conflict first, then undo again');
	for (const field of fields) {
		const left = changes.after[field];
		const local = now.local.current[field];
		const st = now.st[field];
		if (!same(local, left)) plan.skipped.push({ field, reason: `changed locally since the run (now ${show(local)}); kept` });
		else if (!same(st, left)) plan.skipped.push({ field, reason: `changed in ServiceTitan since the run (now ${show(st)}); kept` });
		else plan.restore.push({ field, now: left, afterUndo: changes.before[field] });
	}
	return plan;
}

export function same(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
	return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export function show(value: CanonicalValue | undefined): string {
	return value === null || value === undefined ? 'empty' : JSON.stringify(value);
}

/** The local row undo writes for an item: its values, the base to write with them (null: keep the row's), and the fields taken from ServiceTitan. */
export interface StagedRow {
	values: CanonicalRecord;
	base: CanonicalRecord | null;
	tookFromSt: string[];
}

/**
 * The row undo writes: the restored fields at their values before the run, a pending Retool edit kept as it is,
 * and a field changed in ServiceTitan since the run (skipped by the plan) taken from ServiceTitan, with
 * ServiceTitan's record as the new base. The sync then sees only undo's restores and the Retool edits as local
 * changes and pushes them, instead of calling a later ServiceTitan edit in another field a conflict. Where a Retool
 * edit and a ServiceTitan edit differ in the same field, or the row has no base, nothing is rebased: the sync decides
 * that row as it would any other (a conflict for a person), so nothing is lost either way.
 */
export function stagedRow(def: EntityDefinition, current: CanonicalRecord, base: CanonicalRecord | null, st: CanonicalRecord, plan: ItemPlan): StagedRow {
	const restored = Object.fromEntries(plan.restore.map((r) => [r.field, r.afterUndo]));
	if (!base) return { values: { ...current, ...restored }, base: null, tookFromSt: [] };
	const values: CanonicalRecord = {};
	const tookFromSt: string[] = [];
	for (const { column } of def.fields) {
		const editedLocally = !same(current[column], base[column]);
		if (column in restored) values[column] = restored[column];
		else if (editedLocally) {
			if (!same(st[column], base[column]) && !same(st[column], current[column]))
				return { values: { ...current, ...restored }, base: null, tookFromSt: [] };
			values[column] = current[column];
		} else {
			values[column] = st[column];
			if (!same(st[column], current[column])) tookFromSt.push(column);
		}
	}
	return { values, base: st, tookFromSt };
}
