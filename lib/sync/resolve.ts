import { entityDefinition } from '../entities/definitions';
import type { EntityDefinition } from '../entities/types';
import type { Db } from '../db/connection';
import { closeConflict, readConflict, refreshConflict, type ConflictRecord, type ConflictRefresh } from '../db/conflict-store';
import { markEngineWrites } from '../db/engine-session';
import { finishRun, logChanges, startRun } from '../db/ledger';
import { acquireLockWithin, LockIds, releaseLock } from '../db/locks';
import { markConflictResolved, readRow, rebaseOnly, setConflictData, updateFromSt, type Task } from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import type { StRecord } from '../servicetitan/types';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from './errors';
import type { StApi } from './ports';
import {
	acceptPatchAnswer,
	alreadyResolved,
	decideResolution,
	mergedDataRefusal,
	validateRequest,
	type ResolveRequest,
	type ResolveResult,
} from './resolve-decision';
import { resolutionWrites, type ResolutionWrites } from './resolve-writes';

// What is decided lives in resolve-decision.ts and resolve-writes.ts; this module reads, locks and writes.
export { RESOLUTIONS, type Resolution, type ResolveRequest, type ResolveResult } from './resolve-decision';

export interface ResolveDeps {
	db: Db;
	st: StApi;
	now?: () => Date;
	/** How long to wait for a running sync of the same entity type to finish. */
	lockWaitMs?: number;
}

/**
 * Applies a person's decision on a conflict (DESIGN.md section 6). Serialized with syncs of the same entity type
 * (advisory lock), so neither can undo the other; resolving twice answers `already_resolved` and changes
 * nothing. Validation and "not possible" answers are thrown before anything is written.
 */
export async function resolveConflict(deps: ResolveDeps, request: ResolveRequest): Promise<ResolveResult> {
	validateRequest(request);
	const now = deps.now ?? (() => new Date());
	const first = await readConflict(deps.db, request.conflictId);
	if (!first) throw new SyncNotFoundError(`conflict ${request.conflictId} does not exist`);
	const def = entityDefinition(first.entity_type);
	return deps.db.task('resolve-conflict', async (t) => {
		const lockId = LockIds.entity[def.type];
		if (!(await acquireLockWithin(t, lockId, deps.lockWaitMs ?? 30_000))) {
			throw new SyncStateError('busy', `a ${def.type} sync is running; try again in a minute`);
		}
		try {
			// Read again under the lock: another resolution or a sync may have changed it meanwhile.
			const conflict = await readConflict(t, request.conflictId);
			if (!conflict) throw new SyncNotFoundError(`conflict ${request.conflictId} does not exist`);
			if (conflict.status !== 'open') return alreadyResolved(conflict);
			if (request.resolution === 'merged') {
				// Refuse a bad merge before any call to ServiceTitan.
				const refusal = mergedDataRefusal(def, conflict, await readRow(t, def.table, conflict.entity_id), request.mergedData);
				if (refusal) throw refusal;
			}
			return await resolveLocked(deps, t, def, conflict, request, now);
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

async function resolveLocked(
	deps: ResolveDeps,
	t: Task,
	def: EntityDefinition,
	conflict: ConflictRecord,
	request: ResolveRequest,
	now: () => Date,
): Promise<ResolveResult> {
	const row = await readRow(t, def.table, conflict.entity_id);
	if (!row) throw new SyncNotFoundError(`${def.singular} ${conflict.entity_id} of conflict ${conflict.id} no longer exists locally`);
	const st = await deps.st.get(def.type, conflict.entity_id);
	const decidedAt = now();
	const decision = decideResolution({ def, conflict, st, row, resolution: request.resolution, mergedData: request.mergedData, now: decidedAt });
	switch (decision.kind) {
		case 'refuse':
			if (decision.refresh) await storeRefresh(t, def, conflict, decision.refresh, decidedAt);
			if (decision.reason === 'stale') return decision.result;
			throw decision.error;
		case 'write':
			return writeResolution(t, def, resolutionWrites(def, conflict, request, row, decision.before, decision.st, now()));
		case 'push': {
			const answer = acceptPatchAnswer(def, await patchSt(deps.st, def, conflict.entity_id, decision.body));
			return writeResolution(t, def, resolutionWrites(def, conflict, request, row, decision.before, answer, now()));
		}
	}
}

/** Sends the PATCH; ServiceTitan refusing the values is the person's to fix, so it answers as a validation error. */
async function patchSt(st: StApi, def: EntityDefinition, id: number, body: Record<string, unknown>): Promise<StRecord> {
	try {
		return await st.patch(def.type, id, body);
	} catch (error) {
		if (isStApiError(error) && error.kind === 'validation') {
			const field = Object.keys(error.errors ?? {})[0] ?? 'mergedData';
			throw new SyncValidationError(field, `ServiceTitan refused the values: ${error.message}${error.errors ? ` ${JSON.stringify(error.errors)}` : ''}`);
		}
		throw error;
	}
}

/** The refreshed conflict goes on the conflict and on its row together. */
async function storeRefresh(t: Task, def: EntityDefinition, conflict: ConflictRecord, refresh: ConflictRefresh, at: Date): Promise<void> {
	await t.tx(async (tx) => {
		await markEngineWrites(tx);
		await refreshConflict(tx, conflict.id, refresh, at);
		await setConflictData(tx, def.table, conflict.entity_id, refresh.conflictData);
	});
}

/** Writes the outcome: local row (compare-and-set), conflict row, change log and a run-ledger row, in one transaction. */
async function writeResolution(t: Task, def: EntityDefinition, w: ResolutionWrites): Promise<ResolveResult> {
	const { at } = w;
	await t.tx('resolve-finish', async (tx) => {
		await markEngineWrites(tx);
		const runId = await startRun(tx, w.run, at);
		const { conflictId, entityId } = w.result;
		if (w.row) {
			const written = await updateFromSt(
				tx,
				def.table,
				def.fields.map((f) => f.column),
				[w.row],
				at,
			);
			// Edited again in Retool while this was being resolved: that edit stays, pending, on top of the new base.
			if (written.length === 0) await rebaseOnly(tx, def.table, [w.row], at);
			await markConflictResolved(
				tx,
				def.table,
				entityId,
				w.decided,
				{ deleted: false, syncStatus: written.length === 0 ? 'pending_push' : 'synced', syncDirection: w.syncDirection },
				at,
			);
		} else {
			await markConflictResolved(tx, def.table, entityId, w.decided, { deleted: true }, at);
		}
		await closeConflict(tx, conflictId, w.closing, at);
		await logChanges(tx, runId, def.type, [w.change], at);
		await finishRun(tx, runId, { status: 'succeeded', details: w.finishDetails }, w.progress, at);
	});
	return w.result;
}
