import { differingFields } from '../entities/canonical';
import { isNormalizedForm } from '../entities/equivalence';
import type { CanonicalRecord, CanonicalValue, EntityDefinition } from '../entities/types';

/** What ServiceTitan did with each pushed field, read back after the PATCH. */
export interface PushVerdict {
	/** Stored as sent. */
	landed: string[];
	/** Stored in an equivalent form (rounded, trimmed, HTML normalized, '' as null): the local row adopts it. */
	normalized: string[];
	/** ServiceTitan kept its own value: not applied. */
	ignored: string[];
	/** Changed to something else, or another field changed meanwhile: someone else's edit in ServiceTitan. */
	elsewhere: string[];
}

/**
 * Compares what was sent (`sent`, the local values), what ServiceTitan had when the push was decided (`before`)
 * and what it stores now (`stored`, read back by id). Pure.
 */
export function verifyPush(
	def: EntityDefinition,
	fields: readonly string[],
	sent: CanonicalRecord,
	before: CanonicalRecord,
	stored: CanonicalRecord,
): PushVerdict {
	const verdict: PushVerdict = { landed: [], normalized: [], ignored: [], elsewhere: [] };
	const same = (f: string, a: CanonicalRecord, b: CanonicalRecord) => differingFields(def, { [f]: a[f] }, { [f]: b[f] }).length === 0;
	for (const field of def.fields) {
		const f = field.column;
		if (!fields.includes(f)) {
			if (!same(f, before, stored)) verdict.elsewhere.push(f);
			continue;
		}
		if (same(f, sent, stored)) verdict.landed.push(f);
		else if (isNormalizedForm(field, sent[f], stored[f])) verdict.normalized.push(f);
		else if (same(f, before, stored)) verdict.ignored.push(f);
		else verdict.elsewhere.push(f);
	}
	return verdict;
}

/** How a run counts one verified push: all fields as sent, some in ServiceTitan's own form, or some not applied. */
export type PushOutcome = 'verified' | 'normalized' | 'ignored';

export function pushOutcome(verdict: PushVerdict): PushOutcome {
	if (verdict.ignored.length > 0) return 'ignored';
	return verdict.normalized.length > 0 ? 'normalized' : 'verified';
}

/** One pushed field in the change log: what was sent, what ServiceTitan stored when read back, and the verdict. */
export interface FieldReceipt {
	sent: CanonicalValue;
	stored: CanonicalValue;
	outcome: 'landed' | 'normalized' | 'ignored' | 'changed_by_someone_else';
}

/** The change log's receipt of a push: one entry per pushed field. */
export function pushReceipt(fields: readonly string[], sent: CanonicalRecord, stored: CanonicalRecord, verdict: PushVerdict): Record<string, FieldReceipt> {
	const outcome = (f: string): FieldReceipt['outcome'] =>
		verdict.landed.includes(f)
			? 'landed'
			: verdict.normalized.includes(f)
				? 'normalized'
				: verdict.ignored.includes(f)
					? 'ignored'
					: 'changed_by_someone_else';
	return Object.fromEntries(fields.map((f) => [f, { sent: sent[f] ?? null, stored: stored[f] ?? null, outcome: outcome(f) }]));
}
