import { inRunLane } from './lanes';
import { entityDefinition } from '../entities/definitions';
import { pick, rowValuesFromCanonical } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import type { Db } from '../db/connection';
import { closeConflict, readConflict, refreshConflict, type ConflictRecord, type ConflictRefresh } from '../db/conflict-store';
import { markEngineWrites } from '../db/engine-session';
import { finishRun, logChanges, logErrors, startRun } from '../db/ledger';
import { withEntityLock } from './entity-lock';
import { holdRefusedValues, markConflictResolved, readRow, rebaseOnly, setConflictData, updateFromSt, type Task } from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import type { StRecord } from '../servicetitan/types';
import { SyncNotFoundError, SyncValidationError } from './errors';
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
import { noPushes } from './tally';
import { pushOutcome, pushReceipt, verifyPush } from './verify-push';

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
export function resolveConflict(deps: ResolveDeps, request: ResolveRequest): Promise<ResolveResult> {
	// A person is waiting: its ServiceTitan requests go ahead of incremental and full runs in the shared budget.
	return inRunLane('resolution', () => resolveConflictAsAsked(deps, request));
}

async function resolveConflictAsAsked(deps: ResolveDeps, request: ResolveRequest): Promise<ResolveResult> {
	validateRequest(request);
	const now = deps.now ?? (() => new Date());
	const first = await readConflict(deps.db, request.conflictId);
	if (!first) throw new SyncNotFoundError(`conflict ${request.conflictId} does not exist`);
	const def = entityDefinition(first.entity_type);
	return deps.db.task('resolve-conflict', async (t) => {
		return withEntityLock(t, def.type, deps.lockWaitMs, async () => {
			// Read again under the lock: another resolution or a sync may have changed it meanwhile.
			const conflict = await readConflict(t, request.conflictId);
			if (!conflict) throw new SyncNotFoundError(`conflict ${request.conflictId} does not exist`);
			if (conflict.status !== 'open') return alreadyResolved(conflict);
			if (request.resolution === 'merged') {
				// Refuse a bad merge before any call to ServiceTitan.
				const refusal = mergedDataRefusal(def, conflict, await readRow(t, def.table, conflict.entity_id), request.mergedData);
				if (refusal) throw refusal;
			}
			return resolveLocked(deps, t, def, conflict, request, now);
		});
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
			return (await writeResolution(t, def, resolutionWrites(def, conflict, request, row, decision.before, decision.st, now()))).result;
		case 'push': {
			const answer = acceptPatchAnswer(def, await patchSt(deps.st, def, conflict.entity_id, decision.body));
			// Verified like every push: what ServiceTitan stored, read back, not its answer.
			const stored = (await deps.st.get(def.type, conflict.entity_id)) ?? answer.record;
			const st = acceptPatchAnswer(def, stored);
			const verdict = verifyPush(def, decision.fields, decision.target, decision.current, st.canonical);
			const refusedFields = [...verdict.ignored, ...verdict.elsewhere.filter((f) => decision.fields.includes(f))];
			const w = resolutionWrites(def, conflict, request, row, decision.before, st, now());
			const outcome = refusedFields.length > 0 ? 'ignored' : pushOutcome(verdict);
			// The row takes what ServiceTitan stored except the chosen values it did not take, as a run's held push does
			// (push.ts heldWrite), before holdRefused marks them held. Written from ServiceTitan's version alone, an active
			// it kept true would end a person's soft delete (an active item clears deleted_at), and putting active false
			// back afterwards would not restore it.
			const held = rowValuesFromCanonical(def, pick(decision.target, refusedFields));
			const heldRow = w.row && refusedFields.length > 0 ? { ...w.row, values: { ...w.row.values, ...held } } : w.row;
			const { result, rowWritten } = await writeResolution(t, def, {
				...w,
				row: heldRow,
				change: { ...w.change, receipt: pushReceipt(decision.fields, decision.target, st.canonical, verdict) },
				progress: { ...w.progress, itemsPushed: outcome === 'ignored' ? 0 : 1, pushes: { ...noPushes(), [outcome]: 1 } },
			});
			if (refusedFields.length === 0) return result;
			// What the row held for those fields before holdRefused: the held values just written, or, when the row was
			// edited in Retool meanwhile (only its base moved), what it held when read. A field changed since keeps the
			// person's newer value, which the next run pushes.
			const readBefore = rowWritten ? held : Object.fromEntries(refusedFields.map((f) => [f, row[f]]));
			return holdRefused(t, def, conflict.entity_id, pick(decision.target, refusedFields), result, now(), readBefore);
		}
	}
}

/**
 * ServiceTitan answered but did not store some chosen fields: the conflict is resolved as far as ServiceTitan took
 * it, and the chosen values of the rest stay on the local row as a held edit (pending, with the reason), never
 * silently replaced by ServiceTitan's.
 */
async function holdRefused(
	t: Task,
	def: EntityDefinition,
	id: number,
	refused: CanonicalRecord,
	result: ResolveResult,
	at: Date,
	readBefore: Record<string, unknown>,
): Promise<ResolveResult> {
	const fields = Object.keys(refused);
	const message = `ServiceTitan did not apply ${fields.join(', ')} (it kept its own value); the chosen value is held locally until the row is edited again`;
	const values = rowValuesFromCanonical(def, refused);
	await t.tx(async (tx) => {
		await markEngineWrites(tx);
		await holdRefusedValues(tx, def.table, id, Object.fromEntries(fields.map((f) => [f, values[f]])), refused, message, readBefore);
		await logErrors(
			tx,
			null,
			def.type,
			[{ entityId: id, kind: 'resolution_not_applied', message, details: { fields, conflictId: result.conflictId } }],
			at,
		);
	});
	return { ...result, refusedFields: fields, message: `${result.message}; ${message}` };
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

/**
 * Writes the outcome: local row (compare-and-set), conflict row, change log and a run-ledger row, in one transaction.
 * `rowWritten` is false when the row was edited in Retool meanwhile (only its base moved) or there is no row to write.
 */
async function writeResolution(t: Task, def: EntityDefinition, w: ResolutionWrites): Promise<{ result: ResolveResult; rowWritten: boolean }> {
	const { at } = w;
	let rowWritten = false;
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
			rowWritten = written.length > 0;
			// Edited again in Retool while this was being resolved: that edit stays, pending, on top of the new base.
			if (!rowWritten) await rebaseOnly(tx, def.table, [w.row], at);
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
	return { result: w.result, rowWritten };
}
