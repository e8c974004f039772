import type { StRecord } from './types';

/** How deep a record may nest (the record itself is level 1). ST's deepest known records (categories) need about 13. */
export const DEFAULT_MAX_RECORD_DEPTH = 64;

/**
 * The key of a placeholder that stands for a record nested too deep to be read: it keeps the record's `id`
 * (and `modifiedOn`) and says why in this key. Validation (lib/entities/validate.ts) refuses it, so the sync
 * logs and skips that one record.
 */
export const TOO_DEEP_MARKER = '$nestedTooDeep';

/**
 * Whether `value` nests deeper than `limit` levels. Iterative, so a value nested a million levels deep costs
 * memory for the walk, never the call stack; the walk stops at the first level past the limit.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
	if (typeof value !== 'object' || value === null) return false;
	const stack: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
	for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
		if (item.depth > limit) return true;
		const children: unknown[] = Array.isArray(item.value) ? item.value : Object.values(item.value);
		for (const child of children) {
			if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: item.depth + 1 });
		}
	}
	return false;
}

/**
 * `value` itself, or, when it nests deeper than `limit`, a placeholder holding only its top-level `id` and
 * `modifiedOn` and the marker. Nothing of ours (validation, logging, JSON.stringify, redaction) ever recurses
 * into the deep value: only this iterative check looks at it.
 */
export function limitRecordDepth(value: unknown, limit: number): unknown {
	if (!nestsDeeperThan(value, limit)) return value;
	const record = value as Record<string, unknown>;
	const placeholder: Record<string, unknown> = { [TOO_DEEP_MARKER]: `nested deeper than ${limit} levels` };
	if (!Array.isArray(value) && (typeof record.id === 'number' || typeof record.id === 'string')) placeholder.id = record.id;
	if (!Array.isArray(value) && typeof record.modifiedOn === 'string') placeholder.modifiedOn = record.modifiedOn;
	return placeholder;
}

/** Whether `record` is a placeholder for a record nested too deep; its reason when it is. */
export function tooDeepReason(record: Record<string, unknown>): string | undefined {
	const reason = record[TOO_DEEP_MARKER];
	return typeof reason === 'string' ? reason : undefined;
}

export function isTooDeepPlaceholder(record: StRecord): boolean {
	return tooDeepReason(record) !== undefined;
}
