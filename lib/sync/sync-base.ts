import { canonicalFromRow, differingFields } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import type { StoredRow } from '../db/pricebook-store';

/**
 * The base a row is compared with: its last synced version, except where a push whose answer was never recorded
 * (the process died, or the answer was lost, after ServiceTitan applied it) left its values in push_in_flight and
 * ServiceTitan now holds exactly those values. They are our own echo, so they count as the base, not as a
 * ServiceTitan edit that would overwrite, or conflict with, a newer local edit. Sync and resolution both use it,
 * so a conflict's suggested merge and the resolution's check of it agree.
 */
export function syncBase(def: EntityDefinition, row: Pick<StoredRow, 'sync_base' | 'push_in_flight'>, st: CanonicalRecord | null): CanonicalRecord | null {
	if (!row.sync_base) return null;
	const base = canonicalFromRow(def, row.sync_base);
	const inFlight = row.push_in_flight;
	if (!inFlight || !st) return base;
	for (const { column } of def.fields) {
		if (!(column in inFlight)) continue;
		const sent = { [column]: inFlight[column] } as CanonicalRecord;
		if (differingFields(def, sent, { [column]: st[column] }).length === 0) base[column] = sent[column];
	}
	return base;
}
