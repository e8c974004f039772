import { ExactDecimal } from '../servicetitan/exact-json';
import { canonicalDecimal } from './decimal';
import type { CanonicalRecord, CanonicalValue, EntityDefinition, FieldDef, MaterialLine } from './types';

/** A value that does not fit its field: the message names the field, so people and logs can act on it. */
export class FieldValueError extends Error {
	constructor(
		readonly field: string,
		/** What is wrong, without the field's name. */
		readonly reason: string,
	) {
		super(`${field}: ${reason}`);
		this.name = 'FieldValueError';
	}
}

function asId(value: unknown, field: string): number {
	const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
	// A negative id is a row inserted in Retool that ServiceTitan has not created yet (its temporary id).
	if (typeof n === 'number' && Number.isSafeInteger(n) && n < 0)
		throw new FieldValueError(field, `refers to ${n}, a row not yet created in ServiceTitan; it is sent once that row is created`);
	if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw new FieldValueError(field, 'expected a positive integer id');
	return n;
}

function canonicalIdList(value: unknown, field: string): number[] {
	if (value === null || value === undefined) return [];
	if (!Array.isArray(value)) throw new FieldValueError(field, 'expected an array of ids');
	// Services list categories as objects ({id, name, active}); everything else as plain ids.
	const ids = value.map((v) => asId(typeof v === 'object' && v !== null ? (v as { id?: unknown }).id : v, field));
	return [...new Set(ids)].sort((a, b) => a - b);
}

function canonicalMaterialList(value: unknown, field: string, idKey: 'skuId' | 'materialId'): MaterialLine[] {
	if (value === null || value === undefined) return [];
	if (!Array.isArray(value)) throw new FieldValueError(field, 'expected an array of {materialId, quantity}');
	const lines = value.map((v) => {
		if (typeof v !== 'object' || v === null) throw new FieldValueError(field, 'expected objects with an id and a quantity');
		const line = v as Record<string, unknown>;
		const quantity = canonicalValue({ st: field, column: field, kind: 'decimal' }, line.quantity);
		return { materialId: asId(line[idKey] ?? line.materialId ?? line.skuId, field), quantity: (quantity as string | null) ?? '0' };
	});
	return lines.sort((a, b) => a.materialId - b.materialId || a.quantity.localeCompare(b.quantity));
}

function canonicalValue(field: FieldDef, value: unknown, idKey: 'skuId' | 'materialId' = 'skuId'): CanonicalValue {
	const name = field.column;
	switch (field.kind) {
		case 'text':
			if (value === null || value === undefined) return null;
			if (typeof value !== 'string') throw new FieldValueError(name, 'expected text');
			// PostgreSQL text cannot hold U+0000: refused here, before anything is written anywhere.
			if (value.includes('\u0000')) throw new FieldValueError(name, 'must not contain NUL (U+0000) characters');
			return value;
		case 'enum':
			if (value === null || value === undefined) return null;
			if (typeof value !== 'string' || !(field.enumValues ?? []).includes(value)) {
				throw new FieldValueError(name, `expected one of ${(field.enumValues ?? []).join(', ')}`);
			}
			return value;
		case 'decimal':
			try {
				return canonicalDecimal(value);
			} catch (error) {
				throw new FieldValueError(name, `expected a decimal number (${(error as Error).message})`);
			}
		case 'boolean':
			if (value === null || value === undefined) return null;
			if (typeof value !== 'boolean') throw new FieldValueError(name, 'expected true or false');
			return value;
		case 'integer':
			if (value === null || value === undefined) return null;
			if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new FieldValueError(name, 'expected a whole number');
			return value;
		case 'idRef':
			if (value === null || value === undefined) return null;
			return asId(value, name);
		case 'idList':
			return canonicalIdList(value, name);
		case 'materialList':
			return canonicalMaterialList(value, name, idKey);
	}
}

/** The synced fields of a ServiceTitan record, canonical. Throws FieldValueError on a malformed field. */
export function canonicalFromSt(def: EntityDefinition, record: Record<string, unknown>): CanonicalRecord {
	const out: CanonicalRecord = {};
	for (const field of def.fields) out[field.column] = canonicalValue(field, record[field.st], 'skuId');
	return out;
}

/** The synced fields of a local row (as pg returns it: NUMERIC as strings, JSONB parsed), canonical. */
export function canonicalFromRow(def: EntityDefinition, row: Record<string, unknown>): CanonicalRecord {
	const out: CanonicalRecord = {};
	for (const field of def.fields) out[field.column] = canonicalValue(field, row[field.column], 'materialId');
	return out;
}

/**
 * Column values to write for a canonical record (JSON-ready; decimals stay strings so NUMERIC stays exact). A
 * partial record (some fields, e.g. the values of a push ServiceTitan did not apply) gives just those columns.
 */
export function rowValuesFromCanonical(def: EntityDefinition, canonical: CanonicalRecord): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const field of def.fields) {
		if (!(field.column in canonical)) continue;
		const value = canonical[field.column];
		out[field.column] =
			field.kind === 'materialList' ? (value as MaterialLine[]).map((l) => ({ materialId: l.materialId, quantity: Number(l.quantity) })) : value;
	}
	return out;
}

/** A PATCH body holding just the given fields, in ServiceTitan's names and shapes. */
export function patchBodyFromCanonical(def: EntityDefinition, canonical: CanonicalRecord, columns: readonly string[]): Record<string, unknown> {
	const body: Record<string, unknown> = {};
	for (const field of def.fields) {
		if (!columns.includes(field.column)) continue;
		const value = canonical[field.column];
		switch (field.kind) {
			case 'decimal':
				// Exact digits, never through a binary float (see ExactDecimal).
				body[field.st] = value === null ? null : new ExactDecimal(value as string);
				break;
			case 'materialList':
				body[field.st] = (value as MaterialLine[]).map((l) => ({ skuId: l.materialId, quantity: new ExactDecimal(l.quantity) }));
				break;
			default:
				body[field.st] = value;
		}
	}
	return body;
}

function sameValue(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
	if (a === b) return true;
	if (Array.isArray(a) && Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
	return false;
}

/** Columns whose canonical values differ between two records, in definition order. */
export function differingFields(def: EntityDefinition, a: CanonicalRecord, b: CanonicalRecord): string[] {
	return def.fields.filter((f) => !sameValue(a[f.column], b[f.column])).map((f) => f.column);
}

export function sameContent(def: EntityDefinition, a: CanonicalRecord, b: CanonicalRecord): boolean {
	return differingFields(def, a, b).length === 0;
}

export function pick(record: CanonicalRecord, columns: readonly string[]): CanonicalRecord {
	const out: CanonicalRecord = {};
	for (const c of columns) out[c] = record[c];
	return out;
}

/** The ST fields that are not synced columns, kept as they came in `st_data` (read-only on our side). */
export function stExtraData(def: EntityDefinition, record: Record<string, unknown>): Record<string, unknown> {
	const synced = syncedStKeys(def);
	const out: Record<string, unknown> = {};
	for (const key in record) if (!synced.has(key) && Object.prototype.hasOwnProperty.call(record, key)) out[key] = record[key];
	return out;
}

/** Per definition, once: stExtraData runs for every record of every page. */
const syncedKeysByDef = new WeakMap<EntityDefinition, ReadonlySet<string>>();

function syncedStKeys(def: EntityDefinition): ReadonlySet<string> {
	let keys = syncedKeysByDef.get(def);
	if (!keys) {
		keys = new Set([...def.fields.map((f) => f.st), 'id', ...(def.dropFromStData ?? [])]);
		syncedKeysByDef.set(def, keys);
	}
	return keys;
}

/**
 * Values a person supplies (e.g. a merged resolution), keyed by column name or by ServiceTitan field name.
 * Only synced fields are accepted; each value must fit its field. Errors name the field.
 */
export function parseUserValues(def: EntityDefinition, input: unknown): CanonicalRecord {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		throw new FieldValueError('mergedData', 'expected an object of field values');
	}
	const out: CanonicalRecord = {};
	// The key each field was named by: one field under both its names (member_price and memberPrice) is refused,
	// even with equal values, since which one the person meant cannot be told and the last would silently win.
	const namedAs = new Map<string, string>();
	for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
		const field = def.fields.find((f) => f.column === key || f.st === key);
		if (!field) throw new FieldValueError(key, `not a synced field of ${def.type} (allowed: ${def.fields.map((f) => f.column).join(', ')})`);
		const earlier = namedAs.get(field.column);
		if (earlier !== undefined) {
			throw new FieldValueError(field.column, `named twice, as "${earlier}" and as "${key}"; give each field once`);
		}
		namedAs.set(field.column, key);
		if (field.kind === 'decimal' && value !== null && typeof value !== 'number' && typeof value !== 'string') {
			throw new FieldValueError(field.column, 'expected a decimal number');
		}
		const canonical = canonicalValue(field, value, 'materialId');
		if (field.required && (canonical === null || canonical === '')) throw new FieldValueError(field.column, 'must not be empty');
		out[field.column] = canonical;
	}
	return out;
}

/**
 * The fields of a push whose local value ServiceTitan cannot take: empty (null) where its update request has no
 * null (every pushed field but a category's parent). Such a push is refused before it is sent.
 */
export function unpushableFields(def: EntityDefinition, current: CanonicalRecord, fields: readonly string[]): FieldDef[] {
	return def.fields.filter((f) => fields.includes(f.column) && !f.nullableInSt && (current[f.column] === null || current[f.column] === undefined));
}
