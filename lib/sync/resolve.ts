import { canonicalFromRow, differingFields, parseUserValues, FieldValueError, patchBodyFromCanonical, rowValuesFromCanonical, stExtraData } from '../entities/canonical';
import { entityDefinition } from '../entities/definitions';
import { checkStRecord } from '../entities/validate';
import type { CanonicalRecord, EntityDefinition, EntityType } from '../entities/types';
import type { Db } from '../db/connection';
import { markEngineWrites } from '../db/engine-session';
import { finishRun, logChanges, startRun } from '../db/ledger';
import { acquireLockWithin, LockIds, releaseLock } from '../db/locks';
import { readRow, rebaseOnly, updateFromSt, type StoredRow, type Task } from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import { stTimestampToPg } from '../servicetitan/timestamps';
import type { StRecord } from '../servicetitan/types';
import { buildConflictData } from './conflict-data';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from './errors';
import { suggestMerge, type SuggestedMerge } from './merge';
import { syncBase } from './sync-base';
import type { StApi } from './ports';

export const RESOLUTIONS = ['use_st', 'use_local', 'merged'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface ResolveRequest {
	conflictId: number;
	resolution: Resolution;
	mergedData?: unknown;
	resolvedBy: string;
	trigger?: string;
}

export interface ResolveResult {
	conflictId: number;
	entityType: EntityType;
	entityId: number;
	/** `resolved`: done now; `already_resolved`: an earlier call did it, nothing changed; `stale`: ST changed again, review the refreshed conflict. */
	status: 'resolved' | 'already_resolved' | 'stale';
	resolution: Resolution | null;
	resolvedBy: string | null;
	resolvedAt: string | null;
	message: string;
	before?: { st: CanonicalRecord | null; local: CanonicalRecord };
	after?: CanonicalRecord | null;
}

export interface ResolveDeps {
	db: Db;
	st: StApi;
	now?: () => Date;
	/** How long to wait for a running sync of the same entity type to finish. */
	lockWaitMs?: number;
}

interface ConflictRow {
	id: number;
	entity_type: EntityType;
	entity_id: number;
	kind: string;
	status: string;
	conflict_data: { stVersion?: { data?: Record<string, unknown> | null; deleted?: boolean } };
	resolution: Resolution | null;
	resolved_by: string | null;
	resolved_at: Date | null;
}

function validateRequest(request: ResolveRequest): void {
	if (!Number.isSafeInteger(request.conflictId) || request.conflictId <= 0) throw new SyncValidationError('conflictId', 'conflictId must be a positive whole number');
	if (!RESOLUTIONS.includes(request.resolution)) {
		throw new SyncValidationError('resolution', `resolution must be one of ${RESOLUTIONS.join(', ')} (got ${JSON.stringify(request.resolution)})`);
	}
	if (typeof request.resolvedBy !== 'string' || request.resolvedBy.trim() === '' || request.resolvedBy.length > 200 || request.resolvedBy.includes('\u0000')) {
		throw new SyncValidationError('resolvedBy', 'resolvedBy is required: the name or e-mail of the person who decided (at most 200 characters, no NUL characters)');
	}
	if (request.resolution === 'merged' && request.mergedData === undefined) throw new SyncValidationError('mergedData', 'mergedData is required when resolution is merged');
	if (request.resolution !== 'merged' && request.mergedData !== undefined) throw new SyncValidationError('mergedData', 'mergedData is only allowed when resolution is merged');
}

function alreadyResolved(c: ConflictRow): ResolveResult {
	return {
		conflictId: c.id,
		entityType: c.entity_type,
		entityId: c.entity_id,
		status: 'already_resolved',
		resolution: c.resolution,
		resolvedBy: c.resolved_by,
		resolvedAt: c.resolved_at?.toISOString() ?? null,
		message: `conflict ${c.id} was already resolved (${c.resolution} by ${c.resolved_by}); nothing changed`,
	};
}

/** The ST version the conflict was last shown with, canonical (null when ST had deleted the item). */
function recordedSt(def: EntityDefinition, c: ConflictRow): CanonicalRecord | null {
	const data = c.conflict_data.stVersion?.data;
	if (!data) return null;
	const check = checkStRecord(def, data);
	return check.ok ? check.canonical : null;
}

/** The values a merged resolution writes: the three-way suggestion, overridden by what the person chose. */
function mergedValues(def: EntityDefinition, base: CanonicalRecord | null, st: CanonicalRecord, local: CanonicalRecord, input: unknown): CanonicalRecord {
	let chosen: CanonicalRecord;
	try {
		chosen = parseUserValues(def, input);
	} catch (error) {
		if (error instanceof FieldValueError) {
			const field = error.field === 'mergedData' ? 'mergedData' : `mergedData.${error.field}`;
			throw new SyncValidationError(field, field === 'mergedData' ? error.message : `mergedData.${error.message}`);
		}
		throw error;
	}
	const suggestion: SuggestedMerge = suggestMerge(def, base, st, local);
	const missing = suggestion.unresolvedFields.filter((f) => !(f in chosen));
	if (missing.length > 0) {
		throw new SyncValidationError(`mergedData.${missing[0]}`, `mergedData must choose a value for ${missing.join(', ')}: both sides changed ${missing.length > 1 ? 'them' : 'it'}`);
	}
	return { ...suggestion.values, ...chosen };
}

/**
 * Applies a person's decision on a conflict (DESIGN.md section 6). Serialized with syncs of the same entity type
 * (advisory lock), so neither can undo the other; resolving twice answers `already_resolved` and changes
 * nothing. Validation and "not possible" answers are thrown before anything is written.
 */
export async function resolveConflict(deps: ResolveDeps, request: ResolveRequest): Promise<ResolveResult> {
	validateRequest(request);
	const now = deps.now ?? (() => new Date());
	const first = await deps.db.oneOrNone<ConflictRow>('SELECT * FROM sync_conflicts WHERE id = $1', [request.conflictId]);
	if (!first) throw new SyncNotFoundError(`conflict ${request.conflictId} does not exist`);
	const def = entityDefinition(first.entity_type);
	return deps.db.task('resolve-conflict', async (t) => {
		const lockId = LockIds.entity[def.type];
		if (!(await acquireLockWithin(t, lockId, deps.lockWaitMs ?? 30_000))) {
			throw new SyncStateError('busy', `a ${def.type} sync is running; try again in a minute`);
		}
		try {
			const conflict = await t.one<ConflictRow>('SELECT * FROM sync_conflicts WHERE id = $1', [request.conflictId]);
			if (conflict.status !== 'open') return alreadyResolved(conflict);
			if (request.resolution === 'merged') {
				// Validate before any call to ServiceTitan, against the values as they are now.
				const row = await readRow(t, def.table, conflict.entity_id);
				if (row) {
					const st = recordedSt(def, conflict) ?? canonicalFromRow(def, row);
					mergedValues(def, syncBase(def, row, st), st, canonicalFromRow(def, row), request.mergedData);
				}
			}
			return await resolveLocked(deps, t, def, conflict, request, now);
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

async function resolveLocked(deps: ResolveDeps, t: Task, def: EntityDefinition, conflict: ConflictRow, request: ResolveRequest, now: () => Date): Promise<ResolveResult> {
	const row = await readRow(t, def.table, conflict.entity_id);
	if (!row) throw new SyncNotFoundError(`${def.singular} ${conflict.entity_id} of conflict ${conflict.id} no longer exists locally`);
	const local = canonicalFromRow(def, row);
	const stRecord = await deps.st.get(def.type, conflict.entity_id);
	let stCanonical: CanonicalRecord | null = null;
	if (stRecord) {
		const check = checkStRecord(def, stRecord);
		if (!check.ok) throw new SyncStateError('stale', `ServiceTitan's current record is invalid (${check.problems.join('; ')}); fix it in ServiceTitan first`);
		stCanonical = check.canonical;
	}
	const base = syncBase(def, row, stCanonical);
	const before = { st: stCanonical, local };

	if (request.resolution === 'use_st') {
		return finish(t, def, conflict, request, row, before, stRecord ? { record: stRecord, canonical: stCanonical! } : null, now);
	}

	// use_local and merged push to ServiceTitan: only over the ST version the person saw.
	const seen = recordedSt(def, conflict);
	const stMoved = stCanonical === null ? seen !== null : seen === null || differingFields(def, stCanonical, seen).length > 0;
	if (stCanonical === null) {
		if (stMoved) await refreshConflict(t, def, conflict, row, base, null, now());
		throw new SyncStateError(
			'gone_in_st',
			`ServiceTitan no longer has ${def.singular} ${conflict.entity_id}, and its API cannot restore a deleted item. ` +
				'Re-create it in ServiceTitan (it will arrive as a new item), or resolve with use_st to accept the delete.',
		);
	}
	if (stMoved) {
		await refreshConflict(t, def, conflict, row, base, { record: stRecord!, canonical: stCanonical }, now());
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
	const target = request.resolution === 'merged' ? mergedValues(def, base, stCanonical, local, request.mergedData) : local;
	const fields = differingFields(def, target, stCanonical);
	let answer: StRecord = stRecord!;
	if (fields.length > 0) {
		try {
			answer = await deps.st.patch(def.type, conflict.entity_id, patchBodyFromCanonical(def, target, fields));
		} catch (error) {
			if (isStApiError(error) && error.kind === 'validation') {
				const field = Object.keys(error.errors ?? {})[0] ?? 'mergedData';
				throw new SyncValidationError(field, `ServiceTitan refused the values: ${error.message}${error.errors ? ` ${JSON.stringify(error.errors)}` : ''}`);
			}
			throw error;
		}
	}
	const check = checkStRecord(def, answer);
	if (!check.ok) throw new Error(`ServiceTitan answered with an invalid record: ${check.problems.join('; ')}`);
	return finish(t, def, conflict, request, row, before, { record: answer, canonical: check.canonical }, now);
}

async function refreshConflict(t: Task, def: EntityDefinition, conflict: ConflictRow, row: StoredRow, base: CanonicalRecord | null, st: { record: StRecord; canonical: CanonicalRecord } | null, at: Date): Promise<void> {
	const local = canonicalFromRow(def, row);
	const data = buildConflictData(def, {
		kind: st ? 'modified' : 'deleted_in_st',
		entityId: conflict.entity_id,
		detectedAt: at,
		st: st ? { ...st, modifiedOn: String(st.record.modifiedOn) } : null,
		local: { current: local, localModifiedAt: row.local_modified_at },
		base,
		fields: st ? differingFields(def, st.canonical, local) : [],
	});
	await t.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none(
			`UPDATE sync_conflicts SET kind = $2, conflict_data = $3, st_modified_on_raw = $4, suggested_merge = $5, updated_at = $6 WHERE id = $1`,
			[conflict.id, data.kind, { ...data, conflictId: conflict.id }, st ? String(st.record.modifiedOn) : null, st ? suggestMerge(def, base, st.canonical, local) : null, at],
		);
		await tx.none('UPDATE $1:name SET conflict_data = $2 WHERE id = $3', [def.table, { ...data, conflictId: conflict.id }, conflict.entity_id]);
	});
}

/** Writes the outcome: local row (compare-and-set), conflict row, change log and a run-ledger row, in one transaction. */
async function finish(
	t: Task,
	def: EntityDefinition,
	conflict: ConflictRow,
	request: ResolveRequest,
	row: StoredRow,
	before: { st: CanonicalRecord | null; local: CanonicalRecord },
	st: { record: StRecord; canonical: CanonicalRecord } | null,
	now: () => Date,
): Promise<ResolveResult> {
	const at = now();
	const resolvedBy = request.resolvedBy.trim();
	const after = st ? st.canonical : null;
	await t.tx('resolve-finish', async (tx) => {
		await markEngineWrites(tx);
		const runId = await startRun(tx, { kind: 'resolution', entityType: def.type, trigger: request.trigger ?? 'cli', dryRun: false, details: { conflictId: conflict.id, resolution: request.resolution, resolvedBy } }, at);
		const common = `has_conflict = FALSE, conflict_data = NULL, conflict_resolved_at = $3, conflict_resolution = $4, resolved_by = $5`;
		if (st) {
			const write = {
				id: conflict.entity_id,
				values: rowValuesFromCanonical(def, st.canonical),
				base: st.canonical,
				stData: stExtraData(def, st.record),
				stModifiedOnRaw: String(st.record.modifiedOn),
				stModifiedOnPg: stTimestampToPg(String(st.record.modifiedOn)),
				rowVersion: Number(row.row_version),
			};
			const written = await updateFromSt(tx, def.table, def.fields.map((f) => f.column), [write], at);
			// Edited again in Retool while this was being resolved: that edit stays, pending, on top of the new base.
			if (written.length === 0) await rebaseOnly(tx, def.table, [write], at);
			await tx.none(`UPDATE $1:name SET ${common}, sync_status = $6, sync_direction = $7 WHERE id = $2`, [
				def.table,
				conflict.entity_id,
				at,
				request.resolution,
				resolvedBy,
				written.length === 0 ? 'pending_push' : 'synced',
				request.resolution === 'use_st' ? 'from_st' : 'to_st',
			]);
		} else {
			await tx.none(
				`UPDATE $1:name SET ${common}, sync_status = 'synced', deleted_at = $3, deleted_in_st = TRUE, last_synced_at = $3 WHERE id = $2`,
				[def.table, conflict.entity_id, at, request.resolution, resolvedBy],
			);
		}
		await tx.none(
			`UPDATE sync_conflicts SET status = 'resolved', resolution = $2, resolved_by = $3, resolved_at = $4, resolution_before = $5, resolution_after = $6, updated_at = $4 WHERE id = $1`,
			[conflict.id, request.resolution, resolvedBy, at, before, after === null ? { deleted: true } : after],
		);
		await logChanges(tx, runId, def.type, [{ entityId: conflict.entity_id, action: `resolved_${request.resolution}`, before, after: after ?? { deleted: true } }], at);
		await finishRun(tx, runId, { status: 'succeeded', details: { conflictId: conflict.id } }, { pagesRead: 0, itemsSeen: 1, counts: {}, itemsSynced: request.resolution === 'use_st' ? 1 : 0, itemsPushed: request.resolution === 'use_st' ? 0 : 1, conflictsDetected: 0, errors: 0 }, at);
	});
	return {
		conflictId: conflict.id,
		entityType: def.type,
		entityId: conflict.entity_id,
		status: 'resolved',
		resolution: request.resolution,
		resolvedBy,
		resolvedAt: at.toISOString(),
		message: st ? `resolved with ${request.resolution}` : `resolved with ${request.resolution}: the item stays deleted (soft-deleted locally)`,
		before,
		after,
	};
}
