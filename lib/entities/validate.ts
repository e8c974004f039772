import { tooDeepReason } from '../servicetitan/depth';
import { normalizeStTimestamp } from '../servicetitan/timestamps';
import { canonicalFromSt, FieldValueError } from './canonical';
import type { CanonicalRecord, EntityDefinition } from './types';

/** Whether any text in a JSON value (keys included) holds U+0000, which PostgreSQL text and JSONB cannot store. */
export function hasNul(value: unknown): boolean {
	if (typeof value === 'string') return value.includes('\u0000');
	if (Array.isArray(value)) return value.some(hasNul);
	if (typeof value === 'object' && value !== null) return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
	return false;
}

/** The same value with every U+0000 shown as U+FFFD, so it can be stored (in the error log) with the rest intact. */
export function withoutNul(value: unknown): unknown {
	if (typeof value === 'string') return value.replaceAll('\u0000', '\ufffd');
	if (Array.isArray(value)) return value.map(withoutNul);
	if (typeof value === 'object' && value !== null)
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replaceAll('\u0000', '\ufffd'), withoutNul(v)]));
	return value;
}

/** `modifiedOn` is null only for a record of an unstamped type that carries none (categories on a live tenant). */
export type StRecordCheck =
	{ ok: true; id: number; canonical: CanonicalRecord; modifiedOn: string | null } | { ok: false; id: number | null; problems: string[] };

/**
 * Checks one ServiceTitan record before the sync trusts it. A bad record is skipped and logged by the caller;
 * it never stops the run and never reaches the local tables.
 */
export function checkStRecord(def: EntityDefinition, record: unknown): StRecordCheck {
	if (typeof record !== 'object' || record === null || Array.isArray(record)) {
		return { ok: false, id: null, problems: ['record is not an object'] };
	}
	const r = record as Record<string, unknown>;
	const problems: string[] = [];
	const id = typeof r.id === 'number' && Number.isSafeInteger(r.id) && r.id > 0 ? r.id : null;
	// The client's stand-in for a record nested too deep to read (lib/servicetitan/depth.ts): nothing else to check.
	const tooDeep = tooDeepReason(r);
	if (tooDeep !== undefined) return { ok: false, id, problems: [tooDeep] };
	if (id === null) problems.push('id: expected a positive integer');
	let modifiedOn: string | null = null;
	if (def.stamped || (r.modifiedOn !== undefined && r.modifiedOn !== null)) {
		try {
			modifiedOn = normalizeStTimestamp(r.modifiedOn as string);
		} catch (error) {
			problems.push(`modifiedOn: ${(error as Error).message}`);
		}
	}
	for (const field of def.fields) {
		const value = r[field.st];
		if (field.required && (value === undefined || value === null || value === '')) problems.push(`${field.st}: required`);
	}
	let canonical: CanonicalRecord | undefined;
	try {
		canonical = canonicalFromSt(def, r);
	} catch (error) {
		if (error instanceof FieldValueError) {
			const field = def.fields.find((f) => f.column === error.field);
			problems.push(`${field?.st ?? error.field}: ${error.message.slice(error.field.length + 2)}`);
		} else throw error;
	}
	// The fields the sync does not compare are still stored (st_data, JSONB), which cannot hold U+0000 either.
	if (canonical && hasNul(r)) problems.push('contains a NUL (U+0000) character, which PostgreSQL cannot store');
	if (problems.length > 0 || !canonical || id === null) return { ok: false, id, problems };
	return { ok: true, id, canonical, modifiedOn };
}
