import { canonicalFromRow, sameContent } from '../entities/canonical';
import { checkStRecord } from '../entities/validate';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import { openConflictsFor, type OpenConflictRow, type OpenConflictSides } from '../db/conflict-store';
import { readSyncRowsByIds, type StoredRow } from '../db/pricebook-store';
import { normalizeStTimestamp } from '../servicetitan/timestamps';
import { categorize, type Decision, type LocalSide, type OpenConflict, type SyncStatus } from './categorize';
import type { StItem } from './prepare';
import type { RunScope } from './scope';
import { syncBase } from './sync-base';
import { unreadableRow, type UnreadableRow } from './unreadable';

/** One item decided: the decision with both sides it was made on. */
export interface Pending {
	decision: Decision;
	st: StItem | null;
	local: LocalSide | null;
}

/** A decision as a plan keeps it: with the row version it was made on, so carrying it out later can tell whether the row moved since. */
export interface PlannedDecision extends Decision {
	rowVersion: number | null;
}

/** The local side of a row, or the row as unreadable when a value in it is not in its field's shape (unreadable.ts). */
function localSide(def: EntityDefinition, row: StoredRow, st: StItem | null): LocalSide | UnreadableRow {
	let current: CanonicalRecord;
	let base: CanonicalRecord | null;
	try {
		current = canonicalFromRow(def, row);
	} catch (error) {
		return unreadableRow(def, row, error, 'row');
	}
	try {
		base = syncBase(def, row, st?.canonical ?? null);
	} catch (error) {
		return unreadableRow(def, row, error, 'sync_base');
	}
	return {
		id: row.id,
		current,
		base,
		syncStatus: row.sync_status as SyncStatus,
		localModifiedAt: row.local_modified_at,
		lastSyncedAt: row.last_synced_at,
		stModifiedOn: row.st_modified_on_raw ? normalizeStTimestamp(row.st_modified_on_raw) : null,
		deletedAt: row.deleted_at,
		deletedInSt: row.deleted_in_st,
		hasConflict: row.has_conflict,
		rowVersion: Number(row.row_version),
		pushError: row.push_error,
		// Canonical values by column, as push_in_flight holds them.
		pushRefused: row.push_refused as CanonicalRecord | null,
	};
}

function openConflict(def: EntityDefinition, row: OpenConflictRow): OpenConflict {
	const stData = (row.conflict_data as { stVersion?: { data?: Record<string, unknown> | null } }).stVersion?.data;
	let stCanonical: CanonicalRecord | null = null;
	if (stData) {
		const check = checkStRecord(def, stData);
		stCanonical = check.ok ? check.canonical : null;
	}
	const localData = (row.conflict_data as { localVersion?: { data?: CanonicalRecord } }).localVersion?.data;
	return { id: row.id, stCanonical, stModifiedOn: row.st_modified_on_raw, localCanonical: localData ?? null };
}

function isUnreadable(side: LocalSide | UnreadableRow): side is UnreadableRow {
	return 'message' in side;
}

/** The items of a batch decided, and the rows among them the sync cannot read (skipped; see unreadable.ts). */
export interface Decided {
	pending: Pending[];
	unreadable: UnreadableRow[];
}

/**
 * Reads the local rows and open conflicts of `items` (two statements) and decides each item: the three-way
 * comparison of categorize.ts. A planned decision is taken as it is when its row has not moved since it was
 * planned; an item whose row moved (a person edited it in between) is decided again. An item whose row holds a
 * value the sync cannot read is not decided at all: it comes back in `unreadable`, and the others are decided as
 * usual, so one malformed row never stops its page.
 */
export async function decideItems(
	scope: RunScope,
	items: readonly { id: number; st: StItem | null }[],
	plan?: ReadonlyMap<number, PlannedDecision>,
): Promise<Decided> {
	const { def, t } = scope;
	const ids = items.map((i) => i.id);
	const rows = await readSyncRowsByIds(t, def, ids);
	const conflicts = await openConflictsFor(t, def.type, ids);
	const rowById = new Map(rows.map((r) => [r.id, r]));
	const conflictById = new Map(conflicts.map((c) => [c.entity_id, c]));
	const decided: Decided = { pending: [], unreadable: [] };
	for (const { id, st } of items) {
		const row = rowById.get(id);
		const side = row ? localSide(def, row, st) : null;
		if (side && isUnreadable(side)) {
			decided.unreadable.push(side);
			continue;
		}
		const local = side;
		const planned = plan?.get(id);
		if (planned && planned.rowVersion === (local?.rowVersion ?? null)) {
			const { rowVersion: _made, ...decision } = planned;
			decided.pending.push({ decision, st, local });
			continue;
		}
		const conflictRow = conflictById.get(id);
		decided.pending.push({ decision: categorize(def, { id, st, local, conflict: conflictRow ? openConflict(def, conflictRow) : null }), st, local });
	}
	return decided;
}

export function toPlanned(p: Pending): PlannedDecision {
	return { ...p.decision, rowVersion: p.local?.rowVersion ?? null };
}

/**
 * Whether an open conflict's row now agrees with ServiceTitan's side as the conflict shows it: the same synced
 * values, or, ServiceTitan having deleted the item, soft-deleted too. Such an item may have been settled by hand
 * and is worth reading again from ServiceTitan (where it may have moved since: categorize decides on what it holds
 * now). Cheap and without ServiceTitan, so a run can ask it of every open conflict it did not read.
 */
export function mayBeSettled(def: EntityDefinition, conflict: OpenConflictSides): boolean {
	const data = conflict.st_version?.data;
	if (!data) return conflict.deleted_at !== null;
	const check = checkStRecord(def, data);
	if (!check.ok) return false;
	try {
		return sameContent(def, canonicalFromRow(def, conflict), check.canonical);
	} catch {
		// A local value that does not fit its field (a person's SQL) agrees with nothing ServiceTitan could hold.
		return false;
	}
}
