import { checkStRecord, withoutNul } from '../entities/validate';
import type { EntityDefinition } from '../entities/types';
import { logErrors, type ErrorLogEntry } from '../db/ledger';
import type { StRecord } from '../servicetitan/types';
import type { StSide } from './categorize';
import type { RunScope } from './scope';

/** A ServiceTitan record that passed validation, with its canonical form: validated once, then carried along. */
export interface StItem extends StSide {
	id: number;
	record: StRecord;
}

/** Validates ServiceTitan records; invalid ones are logged and skipped, duplicates keep the newest. */
export async function prepareStItems(scope: RunScope, records: readonly unknown[]): Promise<StItem[]> {
	const byId = new Map<number, StItem>();
	const errors: ErrorLogEntry[] = [];
	for (const record of records) {
		const check = checkStRecord(scope.def, record);
		if (!check.ok) {
			errors.push({ entityId: check.id, kind: 'invalid_st_record', message: check.problems.join('; '), details: { record: withoutNul(record) } });
			continue;
		}
		const item: StItem = { id: check.id, record: record as StRecord, canonical: check.canonical, modifiedOn: check.modifiedOn };
		const seen = byId.get(item.id);
		// Listed twice on one page: the newer wins; without stamps, the first.
		if (!seen || (seen.modifiedOn !== null && item.modifiedOn !== null && seen.modifiedOn < item.modifiedOn)) byId.set(item.id, item);
	}
	if (errors.length > 0) {
		scope.tally.errors += errors.length;
		scope.log('warn', `skipped ${errors.length} invalid ${scope.def.type} record(s) from ServiceTitan`, { ids: errors.map((e) => e.entityId) });
		if (!scope.dryRun) await logErrors(scope.t, scope.runId, scope.def.type, errors, scope.now());
	}
	return [...byId.values()];
}

/** The ids of records as ServiceTitan listed them, invalid ones included: ServiceTitan has them, so no sweep may delete them. */
export function listedIds(records: readonly unknown[]): number[] {
	return records.map((r) => (r as { id?: unknown }).id).filter((id): id is number => typeof id === 'number' && Number.isSafeInteger(id));
}

/** Parents before children, so a category's parent exists locally before the child that points at it. */
export function inApplyOrder(def: EntityDefinition, items: StItem[]): StItem[] {
	if (def.type !== 'categories') return items;
	const byId = new Map(items.map((i) => [i.id, i]));
	const depth = (item: StItem, seen = new Set<number>()): number => {
		const parent = item.canonical.parent_id as number | null;
		if (parent === null || !byId.has(parent) || seen.has(item.id)) return 0;
		seen.add(item.id);
		return 1 + depth(byId.get(parent)!, seen);
	};
	return items
		.map((i) => ({ i, d: depth(i) }))
		.sort((a, b) => a.d - b.d)
		.map((x) => x.i);
}

export function newestStamp(items: readonly StItem[]): string | null {
	let newest: string | null = null;
	for (const i of items) if (i.modifiedOn !== null && (!newest || i.modifiedOn > newest)) newest = i.modifiedOn;
	return newest;
}
