import type { EntityType } from '../entities/types';
import { ENTITY_TYPES, isEntityType } from '../servicetitan/types';
import { SyncValidationError } from '../sync/errors';
import { RESOLUTIONS, type Resolution } from '../sync/resolve';

/**
 * The checks of single input values, shared by every entry point: the webhooks (requests.ts), the CLI and the
 * n8n nodes refuse a bad value with the same rule and the same words. Each throws a SyncValidationError whose
 * `field` is the request field and whose message names the input as the caller knows it (`label`: "entityType"
 * in a webhook body, "--entity" on the command line).
 */

/** "a, b or c": how the messages list the allowed values. */
function orList(values: readonly string[]): string {
	return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

function refuse(field: string, message: string): never {
	throw new SyncValidationError(field, message);
}

/** Plain decimal digits only (no sign, exponent, spaces or other scripts' digits), as text or a JSON number. */
function digits(value: unknown, maxDigits: number): number | undefined {
	const text = typeof value === 'number' ? String(value) : value;
	if (typeof text !== 'string' || !new RegExp(`^\\d{1,${maxDigits}}$`).test(text)) return undefined;
	return Number(text);
}

/** One entity type. */
export function entityTypeOf(value: unknown, field: string, label = field): EntityType {
	return choiceOf(value, field, ENTITY_TYPES, label);
}

/** One entity type or `all` (also when absent): the types to run, in the library's order. */
export function entityTypesOf(value: unknown, field: string, label = field): EntityType[] {
	if (value === undefined || value === 'all') return [...ENTITY_TYPES];
	if (!isEntityType(value)) refuse(field, `${label} must be ${orList([...ENTITY_TYPES, 'all'])}`);
	return [value];
}

/** A database id: 1 to 15 digits (safe as a JavaScript number), not 0. */
export function positiveIdOf(value: unknown, field: string, label = field): number {
	const id = digits(value, 15);
	if (id === undefined || id <= 0) refuse(field, `${label} must be a positive whole number`);
	return id;
}

/**
 * An item's id: ServiceTitan's (positive), or the temporary negative id of a row inserted in Retool and not yet
 * created in ServiceTitan (so Retool's "after save" call can ask for the create at once). Not 0.
 */
export function entityIdOf(value: unknown, field: string, label = field): number {
	const text = typeof value === 'number' ? String(value) : value;
	const negative = typeof text === 'string' && text.startsWith('-');
	const id = digits(negative ? (text as string).slice(1) : text, 15);
	if (id === undefined || id === 0) refuse(field, `${label} must be a whole number other than 0 (ServiceTitan's id, or a new row's temporary negative id)`);
	return negative ? -id : id;
}

/** A whole number within [min, max]; `unit` names what it counts ("seconds"). The message states the range only when `showRange`. */
export function wholeNumberOf(
	value: unknown,
	field: string,
	options: { label?: string; min: number; max: number; unit?: string; showRange?: boolean },
): number {
	const n = digits(value, String(options.max).length);
	if (n === undefined || n < options.min || n > options.max) {
		const unit = options.unit ? ` of ${options.unit}` : '';
		const range = options.showRange ? ` from ${options.min} to ${options.max}` : '';
		refuse(field, `${options.label ?? field} must be a whole number${unit}${range}`);
	}
	return n;
}

/** One of a fixed set of words, exactly (no case folding, no trimming). */
export function choiceOf<T extends string>(value: unknown, field: string, choices: readonly T[], label = field, listing = orList(choices)): T {
	if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) refuse(field, `${label} must be ${listing}`);
	return value as T;
}

export function resolutionOf(value: unknown, field: string, label = field): Resolution {
	return choiceOf(value, field, RESOLUTIONS, label, `one of ${RESOLUTIONS.join(', ')}`);
}

/** Who decided a conflict: recorded in the audit trail, so not blank, not huge, no NUL. */
export function resolvedByOf(value: unknown, field: string, label = field): string {
	if (typeof value !== 'string' || value.trim() === '' || value.length > 200 || value.includes('\u0000')) {
		refuse(field, `${label} is required: the name or e-mail of the person who decided (at most 200 characters, no NUL characters)`);
	}
	return value;
}

/** An ISO-8601 date-time (a date at least, e.g. 2024-12-10T10:00:00Z): not whatever Date.parse happens to accept ("1", "Dec 10"). */
export function isIsoTime(value: unknown): value is string {
	return (
		typeof value === 'string' &&
		/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) &&
		!Number.isNaN(Date.parse(value))
	);
}

/** An ISO-8601 time, returned in UTC (toISOString form). */
export function isoTimeOf(value: unknown, field: string, label = field): string {
	if (!isIsoTime(value)) refuse(field, `${label} must be an ISO-8601 time such as 2024-12-10T10:00:00Z`);
	return new Date(value).toISOString();
}

/** JSON given as text (a webhook's mergedData string, --merged-data); other values are already parsed. */
export function jsonOf(value: unknown, field: string, label = field): unknown {
	if (typeof value !== 'string') return value;
	try {
		return JSON.parse(value);
	} catch {
		// The parser's message quotes the input back; the caller already has it.
		return refuse(field, `${label} is not valid JSON`);
	}
}
