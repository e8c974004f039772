import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import { differingFields } from '../entities/canonical';

export interface SuggestedMerge {
	/** Marked so nobody mistakes it for a decision: it is applied only when a person picks it (as `merged`). */
	suggestion: true;
	/** Per field: the side that changed it (or either, when both agree). */
	values: CanonicalRecord;
	takenFrom: Record<string, 'st' | 'local' | 'both'>;
	/** Fields both sides changed differently: a person must choose; `values` holds the local value for them. */
	unresolvedFields: string[];
	complete: boolean;
}

/**
 * The three-way merge of a conflict: fields only one side changed take that side's value. Without a base
 * nothing can be attributed, so every differing field is unresolved.
 */
export function suggestMerge(def: EntityDefinition, base: CanonicalRecord | null, st: CanonicalRecord, local: CanonicalRecord): SuggestedMerge {
	const values: CanonicalRecord = { ...local };
	const takenFrom: Record<string, 'st' | 'local' | 'both'> = {};
	const unresolved: string[] = [];
	const differing = new Set(differingFields(def, st, local));
	const stMoved = new Set(base ? differingFields(def, base, st) : []);
	const localMoved = new Set(base ? differingFields(def, base, local) : []);
	for (const field of def.fields) {
		const c = field.column;
		if (!differing.has(c)) {
			if (stMoved.has(c) || localMoved.has(c)) takenFrom[c] = 'both';
			continue;
		}
		if (base && stMoved.has(c) && !localMoved.has(c)) {
			values[c] = st[c];
			takenFrom[c] = 'st';
		} else if (base && localMoved.has(c) && !stMoved.has(c)) {
			takenFrom[c] = 'local';
		} else {
			unresolved.push(c);
		}
	}
	return { suggestion: true, values, takenFrom, unresolvedFields: unresolved, complete: unresolved.length === 0 };
}
