import { FieldValueError } from '../entities/canonical';
import { describeStoredValue, expectedShape } from '../entities/shapes';
import type { EntityDefinition } from '../entities/types';
import { logErrors, type ErrorLogEntry } from '../db/ledger';
import { clearPushErrorsStartingWith, markUnreadable, type StoredRow, type Task } from '../db/pricebook-store';
import type { RunScope } from './scope';

/**
 * A local row holding a value the sync cannot read in its canonical form: saved before migration 0012 refused such
 * values, or of a shape SQL does not check. It is contained to its row: the item is skipped (no push, nothing of
 * ServiceTitan's written over it, no conflict, no delete) until a person corrects the value, and the rest of the page
 * and the run go on. Skipping moves nothing: the row's base stays, so a ServiceTitan change made meanwhile is still
 * a change against it once the row is readable again, and the correction (a Retool edit) makes the row pending, so
 * the next incremental run reads the item again by id whether ServiceTitan lists it or not.
 */
export interface UnreadableRow {
	id: number;
	rowVersion: number;
	/** The column (or `sync_base.<column>`) whose value could not be read. */
	column: string;
	/** What push_error says (Retool shows it); the same text while the value is unchanged, so it is logged once. */
	message: string;
	details: { column: string; reason: string; expected: string; value: string };
	/** The row's push_error as read. */
	pushError: string | null;
}

/** How push_error starts on an unreadable row (status and the stale-mark cleanup recognize it by this). */
export const UNREADABLE_VALUE = 'unreadable value';

/**
 * The row as unreadable, for an error reading it. Anything but a FieldValueError is no malformed value and is thrown
 * on. `where`: the person's values on the row, or its sync_base (the sync's own copy, which no person should edit).
 */
export function unreadableRow(def: EntityDefinition, row: StoredRow, error: unknown, where: 'row' | 'sync_base'): UnreadableRow {
	if (!(error instanceof FieldValueError)) throw error;
	const field = def.fields.find((f) => f.column === error.field);
	if (!field) throw error;
	const stored = where === 'row' ? row[field.column] : row.sync_base?.[field.column];
	const column = where === 'row' ? field.column : `sync_base.${field.column}`;
	const expected = expectedShape(field);
	const value = describeStoredValue(field, stored);
	// A reference to a row inserted in Retool and not yet created in ServiceTitan is no mistake: it is re-pointed to
	// ServiceTitan's id when that row is created, and then this one goes out.
	const waits = where === 'row' && error.reason.includes('not yet created in ServiceTitan');
	const fix = waits
		? `Nothing to correct: it waits until that row is created in ServiceTitan (the next runs do it), then it is sent`
		: where === 'row'
			? `Correct it in Retool: until then the sync skips this ${def.singular} both ways`
			: `sync_base is the sync's copy of the values last synced (read-only since migration 0011; this one predates it): an operator sets it to null as the engine (SET LOCAL pricebook_sync.origin = 'engine'), and the next run compares the row with ServiceTitan directly (an edit pending on the row then becomes a conflict)`;
	return {
		id: row.id,
		rowVersion: Number(row.row_version),
		column,
		message: `${UNREADABLE_VALUE}: ${column} holds ${value}, which the sync cannot read (${error.reason}); it must be ${expected}. ${fix}`,
		details: { column, reason: error.reason, expected, value },
		pushError: row.push_error,
	};
}

/**
 * Marks unreadable rows and logs each once: a row already marked with the same message (unchanged since) is neither
 * written nor logged again. Call it in the batch's transaction. Returns the ids whose row moved since it was read
 * (decided again by the caller) and how many errors were logged.
 */
export async function recordUnreadable(scope: RunScope, tx: Task, rows: readonly UnreadableRow[]): Promise<{ moved: number[]; logged: number }> {
	const { def } = scope;
	const fresh = rows.filter((r) => r.pushError !== r.message);
	if (fresh.length === 0) return { moved: [], logged: 0 };
	const marked = new Set(
		await markUnreadable(
			tx,
			def.table,
			fresh.map((r) => ({ id: r.id, rowVersion: r.rowVersion, message: r.message })),
		),
	);
	const errors: ErrorLogEntry[] = fresh
		.filter((r) => marked.has(r.id))
		.map((r) => ({ entityId: r.id, kind: 'malformed_local_value', message: `${def.singular} ${r.id}: ${r.message}`, details: r.details }));
	await logErrors(tx, scope.runId, def.type, errors, scope.now());
	if (errors.length > 0) {
		scope.log('warn', `${errors.length} ${def.type} row(s) skipped: a value the sync cannot read (see push_error on the row)`, {
			ids: errors.map((e) => e.entityId),
			columns: fresh.filter((r) => marked.has(r.id)).map((r) => r.column),
		});
	}
	return { moved: fresh.filter((r) => !marked.has(r.id)).map((r) => r.id), logged: errors.length };
}

/** How many of `rows` a run would log (a dry run writes nothing, but counts what it found). */
export function unloggedCount(rows: readonly UnreadableRow[]): number {
	return rows.filter((r) => r.pushError !== r.message).length;
}

/**
 * Rows marked unreadable that read fine now (a person corrected the value) lose the mark, so Retool stops showing a
 * fixed problem. Rows a write of this batch settled lost it already; a push clears it when it lands.
 */
export async function clearStaleUnreadableMarks(tx: Task, table: string, ids: readonly number[]): Promise<void> {
	await clearPushErrorsStartingWith(tx, table, ids, UNREADABLE_VALUE);
}
