import type { FieldDef } from './types';

/**
 * The shape a stored value of a field must have, in words a person can act on: Retool shows it (push_error) on a row
 * whose value the sync cannot read. The JSONB shapes are the ones migration 0012 enforces on new writes.
 */
export function expectedShape(field: FieldDef): string {
	switch (field.kind) {
		case 'idList':
			return 'a JSON array of category ids (whole numbers), e.g. [12, 40], or [] for none';
		case 'materialList':
			return 'a JSON array of {"materialId": <material id, a whole number>, "quantity": <number>} objects, or [] for none';
		case 'decimal':
			return 'a decimal number (not NaN or infinite), or empty';
		case 'idRef':
			return 'a positive whole-number id, or empty';
		case 'integer':
			return 'a whole number, or empty';
		case 'boolean':
			return 'true or false';
		case 'enum':
			return `one of ${(field.enumValues ?? []).join(', ')}, or empty`;
		case 'text':
			return 'text';
	}
}

/**
 * A stored value as a person would recognize it in Retool, shortened: JSON as JSON, with a JSON string called text
 * (the usual mistake: an array saved as the text '"[1,2]"'); a NUMERIC column's value as PostgreSQL shows it.
 */
export function describeStoredValue(field: FieldDef, value: unknown): string {
	if (value === null || value === undefined) return 'nothing (null)';
	if (field.kind === 'decimal') return String(value).slice(0, 80);
	const json = JSON.stringify(value);
	const shown = json.length > 80 ? `${json.slice(0, 77)}...` : json;
	return typeof value === 'string' ? `the text ${shown}` : shown;
}
