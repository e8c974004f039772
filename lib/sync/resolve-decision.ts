import { canonicalFromRow, differingFields, FieldValueError, parseUserValues, patchBodyFromCanonical } from '../entities/canonical';
import { checkStRecord } from '../entities/validate';
import type { CanonicalRecord, EntityDefinition, EntityType } from '../entities/types';
import type { ConflictRecord, ConflictRefresh } from '../db/conflict-store';
import type { StoredRow } from '../db/pricebook-store';
import { recordStamp } from '../servicetitan/timestamps';
import type { StRecord } from '../servicetitan/types';
import { buildConflictData } from './conflict-data';
import { SyncStateError, SyncValidationError } from './errors';
import { suggestMerge } from './merge';
import { syncBase } from './sync-base';

/**
 * What a person's decision on a conflict comes to, given both sides as they are now (DESIGN.md section 6): take
 * ServiceTitan's version, push ours (or a merge) first, or refuse. Pure: no database, no ServiceTitan, no clock;
 * lib/sync/resolve.ts reads the inputs, carries the decision out and writes the ledger.
 */

export const RESOLUTIONS = ['use_st', 'use_local', 'merged'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface ResolveRequest {
	conflictId: number;
	resolution: Resolution;
	mergedData?: unknown;
	resolvedBy: string;
	trigger?: string;
}

/** Both sides as the person decided on them: ServiceTitan's (null when deleted there) and the local row's. */
export interface Sides {
	st: CanonicalRecord | null;
	local: CanonicalRecord;
}

export interface ResolveResult {
	conflictId: number;
	entityType: EntityType;
	entityId: number;
	/** `resolved`: done now; `already_resolved`: an earlier call did it, nothing changed; `stale`: ST changed again, review the refreshed conflict. */
	status: 'resolved' | 'already_resolved' | 'stale';
	/** `settled_by_hand` (already_resolved only): a run found both sides agreeing and closed the conflict. */
	resolution: Resolution | 'settled_by_hand' | null;
	resolvedBy: string | null;
	resolvedAt: string | null;
	message: string;
	before?: Sides;
	after?: CanonicalRecord | null;
	/** use_local / merged: chosen fields ServiceTitan did not apply. Their chosen values are kept locally, pending. */
	refusedFields?: string[];
}

/** A ServiceTitan record with its canonical values. */
export interface StVersion {
	record: StRecord;
	canonical: CanonicalRecord;
}

export interface DecisionInput {
	def: EntityDefinition;
	conflict: ConflictRecord;
	/** ServiceTitan's record as re-read just now; null when ServiceTitan no longer has the item. */
	st: StRecord | null;
	row: StoredRow;
	resolution: Resolution;
	mergedData?: unknown;
	/** When a refreshed conflict is detected. */
	now: Date;
}

export type Decision =
	/** Write `st` locally (null: accept ServiceTitan's delete). use_st, or a push with nothing to send. */
	| { kind: 'write'; before: Sides; st: StVersion | null }
	/** PATCH `body` to ServiceTitan, then write its answer locally (see acceptPatchAnswer). */
	| { kind: 'push'; before: Sides; fields: string[]; body: Record<string, unknown>; target: CanonicalRecord; current: CanonicalRecord }
	/** ServiceTitan moved since the conflict was shown: store `refresh`, answer `result`, push nothing. */
	| { kind: 'refuse'; reason: 'stale'; refresh: ConflictRefresh; result: ResolveResult }
	/** Not possible as asked: store `refresh` when there is one, then throw `error`. */
	| { kind: 'refuse'; reason: 'validation' | 'invalid_st' | 'gone_in_st'; refresh: ConflictRefresh | null; error: SyncValidationError | SyncStateError };

/** Checks the request's own fields, before anything is read. */
export function validateRequest(request: ResolveRequest): void {
	if (!Number.isSafeInteger(request.conflictId) || request.conflictId <= 0)
		throw new SyncValidationError('conflictId', 'conflictId must be a positive whole number');
	if (!RESOLUTIONS.includes(request.resolution)) {
		throw new SyncValidationError('resolution', `resolution must be one of ${RESOLUTIONS.join(', ')} (got ${JSON.stringify(request.resolution)})`);
	}
	if (
		typeof request.resolvedBy !== 'string' ||
		request.resolvedBy.trim() === '' ||
		request.resolvedBy.length > 200 ||
		request.resolvedBy.includes('\u0000')
	) {
		throw new SyncValidationError(
			'resolvedBy',
			'resolvedBy is required: the name or e-mail of the person who decided (at most 200 characters, no NUL characters)',
		);
	}
	if (request.resolution === 'merged' && request.mergedData === undefined)
		throw new SyncValidationError('mergedData', 'mergedData is required when resolution is merged');
	if (request.resolution !== 'merged' && request.mergedData !== undefined)
		throw new SyncValidationError('mergedData', 'mergedData is only allowed when resolution is merged');
}

export function alreadyResolved(c: ConflictRecord): ResolveResult {
	return {
		conflictId: c.id,
		entityType: c.entity_type,
		entityId: c.entity_id,
		status: 'already_resolved',
		resolution: c.resolution,
		resolvedBy: c.resolved_by,
		resolvedAt: c.resolved_at?.toISOString() ?? null,
		message:
			c.resolution === 'settled_by_hand'
				? `conflict ${c.id} was already resolved (settled by hand: both sides came to agree, and a sync closed it); nothing changed`
				: `conflict ${c.id} was already resolved (${c.resolution} by ${c.resolved_by}); nothing changed`,
	};
}

/** The ST version the conflict was last shown with, canonical (null when ST had deleted the item). */
function recordedSt(def: EntityDefinition, c: ConflictRecord): CanonicalRecord | null {
	const data = c.conflict_data.stVersion?.data;
	if (!data) return null;
	const check = checkStRecord(def, data);
	return check.ok ? check.canonical : null;
}

/** The values a merged resolution writes: the three-way suggestion, overridden by what the person chose. */
function mergedValues(
	def: EntityDefinition,
	base: CanonicalRecord | null,
	st: CanonicalRecord,
	local: CanonicalRecord,
	input: unknown,
): CanonicalRecord | SyncValidationError {
	let chosen: CanonicalRecord;
	try {
		chosen = parseUserValues(def, input);
	} catch (error) {
		if (!(error instanceof FieldValueError)) throw error;
		const field = error.field === 'mergedData' ? 'mergedData' : `mergedData.${error.field}`;
		return new SyncValidationError(field, field === 'mergedData' ? error.message : `mergedData.${error.message}`);
	}
	const suggestion = suggestMerge(def, base, st, local);
	const missing = suggestion.unresolvedFields.filter((f) => !(f in chosen));
	if (missing.length > 0) {
		return new SyncValidationError(
			`mergedData.${missing[0]}`,
			`mergedData must choose a value for ${missing.join(', ')}: both sides changed ${missing.length > 1 ? 'them' : 'it'}`,
		);
	}
	return { ...suggestion.values, ...chosen };
}

/**
 * Checks merged values against the conflict as it was shown, so a bad merge is refused before any call to
 * ServiceTitan. Null when they are acceptable (or there is no row left to merge into: the full decision says so).
 */
export function mergedDataRefusal(def: EntityDefinition, conflict: ConflictRecord, row: StoredRow | null, mergedData: unknown): SyncValidationError | null {
	if (!row) return null;
	const local = canonicalFromRow(def, row);
	const st = recordedSt(def, conflict) ?? local;
	const merged = mergedValues(def, syncBase(def, row, st), st, local, mergedData);
	return merged instanceof SyncValidationError ? merged : null;
}

/** The conflict as it stands now, for people to review again. */
function refreshOf(
	def: EntityDefinition,
	conflict: ConflictRecord,
	row: StoredRow,
	base: CanonicalRecord | null,
	st: StVersion | null,
	at: Date,
): ConflictRefresh {
	const local = canonicalFromRow(def, row);
	const kind = st ? 'modified' : 'deleted_in_st';
	const data = buildConflictData(def, {
		kind,
		entityId: conflict.entity_id,
		detectedAt: at,
		st: st ? { ...st, modifiedOn: recordStamp(st.record) } : null,
		local: { current: local, localModifiedAt: row.local_modified_at },
		base,
		fields: st ? differingFields(def, st.canonical, local) : [],
	});
	return {
		kind,
		conflictData: { ...data, conflictId: conflict.id },
		stModifiedOnRaw: st ? recordStamp(st.record) : null,
		suggestedMerge: st ? suggestMerge(def, base, st.canonical, local) : null,
	};
}

function staleResult(conflict: ConflictRecord, def: EntityDefinition): ResolveResult {
	return {
		conflictId: conflict.id,
		entityType: def.type,
		entityId: conflict.entity_id,
		status: 'stale',
		resolution: null,
		resolvedBy: null,
		resolvedAt: null,
		message: 'stale: ServiceTitan changed this item again since the conflict was shown; review the refreshed conflict and decide again',
	};
}

/**
 * Decides a resolution. use_st always takes ServiceTitan's current version (or its delete). use_local and merged
 * push only over the ServiceTitan version the person saw: if it moved, the conflict is refreshed and the answer
 * is `stale`; if ServiceTitan deleted the item, it cannot be restored through its API.
 */
export function decideResolution(input: DecisionInput): Decision {
	const { def, conflict, row } = input;
	const local = canonicalFromRow(def, row);
	let current: StVersion | null = null;
	if (input.st) {
		const check = checkStRecord(def, input.st);
		if (!check.ok) {
			const error = new SyncStateError('stale', `ServiceTitan's current record is invalid (${check.problems.join('; ')}); fix it in ServiceTitan first`);
			return { kind: 'refuse', reason: 'invalid_st', refresh: null, error };
		}
		current = { record: input.st, canonical: check.canonical };
	}
	const base = syncBase(def, row, current?.canonical ?? null);
	const before: Sides = { st: current?.canonical ?? null, local };
	if (input.resolution === 'use_st') return { kind: 'write', before, st: current };

	const seen = recordedSt(def, conflict);
	const stMoved = current === null ? seen !== null : seen === null || differingFields(def, current.canonical, seen).length > 0;
	if (current === null) {
		const error = new SyncStateError(
			'gone_in_st',
			`ServiceTitan no longer has ${def.singular} ${conflict.entity_id}, and its API cannot restore a deleted item. ` +
				'Re-create it in ServiceTitan (it will arrive as a new item), or resolve with use_st to accept the delete.',
		);
		return { kind: 'refuse', reason: 'gone_in_st', refresh: stMoved ? refreshOf(def, conflict, row, base, null, input.now) : null, error };
	}
	if (stMoved)
		return { kind: 'refuse', reason: 'stale', refresh: refreshOf(def, conflict, row, base, current, input.now), result: staleResult(conflict, def) };

	const target = input.resolution === 'merged' ? mergedValues(def, base, current.canonical, local, input.mergedData) : local;
	if (target instanceof SyncValidationError) return { kind: 'refuse', reason: 'validation', refresh: null, error: target };
	const fields = differingFields(def, target, current.canonical);
	if (fields.length === 0) return { kind: 'write', before, st: current };
	return { kind: 'push', before, fields, body: patchBodyFromCanonical(def, target, fields), target, current: current.canonical };
}

/** ServiceTitan's answer to the PATCH, checked: it is what gets written locally. */
export function acceptPatchAnswer(def: EntityDefinition, answer: StRecord): StVersion {
	const check = checkStRecord(def, answer);
	if (!check.ok) throw new Error(`ServiceTitan answered with an invalid record: ${check.problems.join('; ')}`);
	return { record: answer, canonical: check.canonical };
}
