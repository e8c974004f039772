import { differingFields, sameContent } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';

/** The seed spec's six categories; the contract with Retool and the run summaries. */
export const CATEGORIES = ['newInST', 'deletedInST', 'modifiedInSTOnly', 'modifiedLocalOnly', 'conflicts', 'noChange'] as const;
export type Category = (typeof CATEGORIES)[number];

export type SyncStatus = 'synced' | 'pending_push' | 'pending_pull' | 'conflict';

/** What the sync knows of the local row. */
export interface LocalSide {
	id: number;
	current: CanonicalRecord;
	/** Synced fields at the last successful sync; null for rows that never had one (legacy or seeded rows). */
	base: CanonicalRecord | null;
	syncStatus: SyncStatus;
	localModifiedAt: Date | null;
	lastSyncedAt: Date | null;
	/** Normalized (7 fractional digits). */
	stModifiedOn: string | null;
	deletedAt: Date | null;
	/** The sync soft-deleted the row because ServiceTitan no longer had the item; false for a person's delete. */
	deletedInSt?: boolean;
	hasConflict: boolean;
	rowVersion: number;
	/** Why the last push was refused, if it was (so the same refusal is not logged again every run). */
	pushError?: string | null;
	/** Values ServiceTitan did not apply when last pushed: not sent again while the row still holds them. */
	pushRefused?: CanonicalRecord | null;
}

export interface StSide {
	canonical: CanonicalRecord;
	/** Normalized (7 fractional digits); null for a record of a type ServiceTitan sends without it (categories). */
	modifiedOn: string | null;
}

export interface OpenConflict {
	id: number;
	/** The ST version the conflict was recorded (or last refreshed) against; null if ST had deleted the item. */
	stCanonical: CanonicalRecord | null;
	stModifiedOn: string | null;
	/** The local version the conflict shows; a Retool edit since then makes it stale. */
	localCanonical?: CanonicalRecord | null;
}

export type Action =
	| 'insert'
	| 'undelete'
	| 'update_from_st'
	| 'push'
	| 'soft_delete'
	| 'conflict'
	| 'refresh_conflict'
	| 'keep_conflict'
	| 'settle_conflict'
	| 'rebase'
	| 'rebase_held'
	| 'refresh_meta'
	| 'none';

export type ConflictKind = 'modified' | 'deleted_in_st' | 'unknown_base';

export interface Decision {
	id: number;
	category: Category;
	action: Action;
	/** For conflicts. */
	conflictKind?: ConflictKind;
	/** push: fields to send; update_from_st / conflict: fields that differ between ST and local. */
	fields?: string[];
	reason: string;
}

export interface ItemSides {
	id: number;
	/** null: ServiceTitan no longer has the item (absent from a complete listing, or 404). */
	st: StSide | null;
	local: LocalSide | null;
	conflict: OpenConflict | null;
}

/**
 * Whether the local row carries a person's edit that ST has not seen. Without a base, an edit after the last
 * sync counts as a change: unknown means conflict, never a silent overwrite.
 */
export function localChanged(def: EntityDefinition, local: LocalSide): boolean {
	const editedSinceSync =
		local.syncStatus === 'pending_push' ||
		local.syncStatus === 'conflict' ||
		(local.localModifiedAt !== null && (local.lastSyncedAt === null || local.localModifiedAt > local.lastSyncedAt));
	if (!editedSinceSync) return false;
	return local.base === null ? true : !sameContent(def, local.current, local.base);
}

/** The edit still holds exactly the values ServiceTitan did not apply last time: sending them again would change nothing. */
function heldAsRefused(def: EntityDefinition, local: LocalSide, fields: readonly string[]): boolean {
	const refused = local.pushRefused;
	if (!refused) return false;
	return fields.every((f) => f in refused && differingFields(def, { [f]: local.current[f] }, { [f]: refused[f] }).length === 0);
}

/** Whether ST's content moved away from what we last synced. A newer modifiedOn alone (our own PATCH's echo) is not. */
export function stChanged(def: EntityDefinition, st: StSide, local: LocalSide): boolean {
	return !sameContent(def, st.canonical, local.base ?? local.current);
}

const SETTLED_AGREE = 'conflict settled by hand: both sides now hold the same values';
const SETTLED_DELETED = 'conflict settled by hand: deleted in ServiceTitan and soft-deleted locally';

export function categorize(def: EntityDefinition, item: ItemSides): Decision {
	const { id, st, local, conflict } = item;
	if (!local) {
		if (!st) return { id, category: 'noChange', action: 'none', reason: 'unknown on both sides' };
		return { id, category: 'newInST', action: 'insert', reason: 'new in ServiceTitan' };
	}

	// Edited in Retool after the conflict was recorded: the conflict is refreshed, so what a person is shown (and
	// the suggested merge) is the local version as it is now.
	const localMoved = !!conflict?.localCanonical && !sameContent(def, local.current, conflict.localCanonical);
	if (!st) {
		if (local.deletedAt) {
			// Only a person soft-deletes a row in conflict (the engine closes the conflict when it deletes): with the item
			// gone in ServiceTitan too, both sides agree it is gone, which is what use_st would have decided.
			if (conflict || local.hasConflict) return { id, category: 'noChange', action: 'settle_conflict', reason: SETTLED_DELETED };
			return { id, category: 'noChange', action: 'none', reason: 'already soft-deleted' };
		}
		if (conflict && conflict.stCanonical === null && conflict.stModifiedOn === null && !localMoved)
			return { id, category: 'conflicts', action: 'keep_conflict', reason: 'open conflict (deleted in ServiceTitan) awaits a decision' };
		if (conflict || local.hasConflict) {
			return {
				id,
				category: 'conflicts',
				action: 'refresh_conflict',
				conflictKind: 'deleted_in_st',
				reason: 'deleted in ServiceTitan while in conflict',
			};
		}
		if (localChanged(def, local)) {
			return { id, category: 'conflicts', action: 'conflict', conflictKind: 'deleted_in_st', reason: 'deleted in ServiceTitan but edited locally' };
		}
		return { id, category: 'deletedInST', action: 'soft_delete', reason: 'deleted in ServiceTitan' };
	}

	const isLocalChanged = localChanged(def, local);
	const stVsLocal = differingFields(def, st.canonical, local.current);

	if (conflict || local.hasConflict) {
		// Someone made the two sides agree by hand (typed ServiceTitan's values in Retool, or ours in ServiceTitan): no
		// choice is left for a person, and kept open the conflict would show an empty diff forever. Nothing is pushed.
		if (stVsLocal.length === 0) return { id, category: 'noChange', action: 'settle_conflict', reason: SETTLED_AGREE };
		const moved = !conflict || conflict.stCanonical === null || !sameContent(def, st.canonical, conflict.stCanonical);
		return moved || localMoved
			? {
					id,
					category: 'conflicts',
					action: 'refresh_conflict',
					conflictKind: 'modified',
					fields: stVsLocal,
					reason: moved ? 'ServiceTitan changed again while in conflict' : 'edited in Retool again while in conflict',
				}
			: { id, category: 'conflicts', action: 'keep_conflict', reason: 'open conflict awaits a decision' };
	}

	// Soft-deleted by the sync (ServiceTitan had lost the item) and listed again: it came back. A person's soft delete
	// is different: the trigger made it a deactivation (active false) that is pushed like any edit, so it takes the
	// ordinary path below and a full run cannot undo it.
	if (local.deletedAt && local.deletedInSt !== false) {
		if (isLocalChanged && stVsLocal.length > 0) {
			return {
				id,
				category: 'conflicts',
				action: 'conflict',
				conflictKind: 'modified',
				fields: stVsLocal,
				reason: 'reappeared in ServiceTitan, edited locally',
			};
		}
		return { id, category: 'newInST', action: 'undelete', reason: 'reappeared in ServiceTitan' };
	}

	// A person's soft delete made since the row's last sync meets a reactivation in ServiceTitan. The item was already
	// inactive, so the delete changed no synced value (the row equals its base); the trigger marked it pending all the
	// same, and a run that sees the delete without a reactivation rebases it to 'synced'. Both sides changed the item's
	// lifecycle since the last sync, and which came last cannot be told (ServiceTitan's clock is not ours): a conflict
	// for a person, the row staying soft-deleted meanwhile. Followed, ServiceTitan's version would clear deleted_at
	// and undo the delete silently (INV-22; model seed 20261125 path 785). A delete a run already saw is 'synced'
	// and a later reactivation follows ServiceTitan, below.
	if (local.deletedAt && local.syncStatus === 'pending_push' && !isLocalChanged && st.canonical.active === true && stVsLocal.includes('active')) {
		return {
			id,
			category: 'conflicts',
			action: 'conflict',
			conflictKind: 'modified',
			fields: stVsLocal,
			reason: 'soft-deleted in Retool and reactivated in ServiceTitan since the last sync',
		};
	}

	const isStChanged = stChanged(def, st, local);
	if (isStChanged && isLocalChanged) {
		if (stVsLocal.length === 0) return { id, category: 'noChange', action: 'rebase', reason: 'same change on both sides' };
		return {
			id,
			category: 'conflicts',
			action: 'conflict',
			conflictKind: local.base === null ? 'unknown_base' : 'modified',
			fields: stVsLocal,
			reason: local.base === null ? 'edited locally and no sync base to compare ServiceTitan with' : 'changed on both sides',
		};
	}
	if (isLocalChanged) {
		if (stVsLocal.length === 0) return { id, category: 'noChange', action: 'rebase', reason: 'local edit already in ServiceTitan' };
		if (heldAsRefused(def, local, stVsLocal)) {
			// ServiceTitan's version moved without a change of its own (its content is the base): most often a push of
			// ours whose answer was lost landed, the held fields ignored again. Its version becomes the base, the held
			// values stay on the row. Left on the old base, the landed values would stay ours only while ServiceTitan
			// held them: a ServiceTitan user putting one back to the old value would read as no change there, and the
			// next push would send ours over their edit.
			return {
				id,
				category: 'modifiedLocalOnly',
				action: local.stModifiedOn !== st.modifiedOn ? 'rebase_held' : 'none',
				fields: stVsLocal,
				reason: 'ServiceTitan did not apply this edit; held until the row is edited again',
			};
		}
		return { id, category: 'modifiedLocalOnly', action: 'push', fields: stVsLocal, reason: 'edited locally' };
	}
	if (isStChanged || stVsLocal.length > 0) {
		// The second case heals a row that drifted from ST without being marked as edited: ST is the record.
		return { id, category: 'modifiedInSTOnly', action: 'update_from_st', fields: stVsLocal, reason: 'changed in ServiceTitan' };
	}
	if (local.syncStatus !== 'synced') return { id, category: 'noChange', action: 'rebase', reason: 'edit reverted to the synced value' };
	if (local.stModifiedOn !== st.modifiedOn)
		return { id, category: 'noChange', action: 'refresh_meta', reason: 'ServiceTitan timestamp moved, content unchanged' };
	return { id, category: 'noChange', action: 'none', reason: 'identical' };
}
