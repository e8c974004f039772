import { canonicalFromRow, differingFields, patchBodyFromCanonical, pick, rowValuesFromCanonical, stExtraData } from '../entities/canonical';
import { checkStRecord, withoutNul } from '../entities/validate';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import { openConflictsFor, upsertConflicts, type ConflictWrite, type OpenConflictRow } from '../db/conflict-store';
import { markEngineWrites } from '../db/engine-session';
import { logChanges, logErrors, type ChangeLogEntry, type ErrorLogEntry } from '../db/ledger';
import {
	inChunks,
	insertFromSt,
	markConflicts,
	markPushInFlight,
	readSyncRowsByIds,
	rebaseOnly,
	recordPushErrors,
	refreshStMeta,
	softDelete,
	updateFromSt,
	WRITE_CHUNK,
	type StoredRow,
	type StWrite,
	type Task,
} from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import { normalizeStTimestamp, stTimestampToPg } from '../servicetitan/timestamps';
import type { StRecord } from '../servicetitan/types';
import { categorize, type Decision, type LocalSide, type OpenConflict, type StSide, type SyncStatus } from './categorize';
import { buildConflictData } from './conflict-data';
import { suggestMerge } from './merge';
import { syncBase } from './sync-base';
import type { StApi, SyncLog } from './ports';
import type { Tally } from './tally';

/** A ServiceTitan record that passed validation. */
export interface StItem extends StSide {
	id: number;
	record: StRecord;
}

export interface RunScope {
	def: EntityDefinition;
	t: Task;
	st: StApi;
	runId: number | null;
	dryRun: boolean;
	now: () => Date;
	tally: Tally;
	log: SyncLog;
	/** Parallel PATCH calls (the client's rate limiter still applies). */
	pushConcurrency: number;
}

/** Validates a page of ServiceTitan records; invalid ones are logged and skipped, duplicates keep the newest. */
export async function prepareStItems(scope: RunScope, records: readonly unknown[]): Promise<StItem[]> {
	const byId = new Map<number, StItem>();
	const errors: ErrorLogEntry[] = [];
	for (const record of records) {
		const check = checkStRecord(scope.def, record);
		if (!check.ok) {
			errors.push({ entityId: check.id, kind: 'invalid_st_record', message: check.problems.join('; '), details: { record: withoutNul(record) } });
			continue;
		}
		const item: StItem = { id: check.id, record: record as StRecord, canonical: check.canonical, modifiedOn: check.modifiedOn };
		const seen = byId.get(item.id);
		if (!seen || seen.modifiedOn < item.modifiedOn) byId.set(item.id, item);
	}
	if (errors.length > 0) {
		scope.tally.errors += errors.length;
		scope.log('warn', `skipped ${errors.length} invalid ${scope.def.type} record(s) from ServiceTitan`, { ids: errors.map((e) => e.entityId) });
		if (!scope.dryRun) await logErrors(scope.t, scope.runId, scope.def.type, errors, scope.now());
	}
	return [...byId.values()];
}

function localSide(def: EntityDefinition, row: StoredRow, st: StItem | null): LocalSide {
	return {
		id: row.id,
		current: canonicalFromRow(def, row),
		base: syncBase(def, row, st?.canonical ?? null),
		syncStatus: row.sync_status as SyncStatus,
		localModifiedAt: row.local_modified_at,
		lastSyncedAt: row.last_synced_at,
		stModifiedOn: row.st_modified_on_raw ? normalizeStTimestamp(row.st_modified_on_raw) : null,
		deletedAt: row.deleted_at,
		hasConflict: row.has_conflict,
		rowVersion: Number(row.row_version),
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

function stWrite(def: EntityDefinition, item: StItem, rowVersion?: number): StWrite {
	return {
		id: item.id,
		values: rowValuesFromCanonical(def, item.canonical),
		base: item.canonical,
		stData: stExtraData(def, item.record),
		// ST's own string (all its fractional digits); comparisons normalize it.
		stModifiedOnRaw: typeof item.record.modifiedOn === 'string' ? item.record.modifiedOn : item.modifiedOn,
		stModifiedOnPg: stTimestampToPg(item.modifiedOn),
		rowVersion,
	};
}

interface Pending {
	decision: Decision;
	st: StItem | null;
	local: LocalSide | null;
}

/**
 * Decides and applies one batch of items (a page of a listing, the re-read of pending rows, one entity, or the
 * ids a full listing no longer returned). `st: null` means ServiceTitan no longer has the item. A constant number
 * of statements per batch; rows a person edited between read and write are decided again (up to three times;
 * after that they simply stay pending for the next run).
 */
export type BatchPhase = 'all' | 'changes' | 'conflicts';

const CONFLICT_ACTIONS: ReadonlySet<Decision['action']> = new Set(['conflict', 'refresh_conflict', 'keep_conflict']);

/** n8n runs changes and conflicts as two nodes; each handles (and counts) only its own decisions. */
function inPhase(decision: Decision, phase: BatchPhase): boolean {
	if (phase === 'all') return true;
	return CONFLICT_ACTIONS.has(decision.action) === (phase === 'conflicts');
}

export async function processBatch(
	scope: RunScope,
	items: readonly { id: number; st: StItem | null }[],
	options: { phase?: BatchPhase; outOfPhase?: number[] } = {},
): Promise<void> {
	const phase = options.phase ?? 'all';
	const { def, t } = scope;
	if (items.length === 0) return;
	const stById = new Map(items.map((i) => [i.id, i.st]));
	let ids = items.map((i) => i.id);
	const pushes: Pending[] = [];
	for (let attempt = 0; attempt < 3 && ids.length > 0; attempt++) {
		const rows = await readSyncRowsByIds(t, def, ids);
		const conflicts = await openConflictsFor(t, def.type, ids);
		const rowById = new Map(rows.map((r) => [r.id, r]));
		const conflictById = new Map(conflicts.map((c) => [c.entity_id, c]));
		const pending: Pending[] = ids
			.map((id) => {
				const row = rowById.get(id);
				const conflictRow = conflictById.get(id);
				const st = stById.get(id) ?? null;
				const local = row ? localSide(def, row, st) : null;
				const decision = categorize(def, { id, st, local, conflict: conflictRow ? openConflict(def, conflictRow) : null });
				return { decision, st, local };
			})
			.filter((p) => {
				if (inPhase(p.decision, phase)) return true;
				options.outOfPhase?.push(p.decision.id);
				return false;
			});
		if (scope.dryRun) {
			for (const p of pending) scope.tally.count(p.decision);
			return;
		}
		const retry = await t.tx('apply-batch', async (tx) => {
			await markEngineWrites(tx);
			return applyDecisions(scope, tx, pending);
		});
		const retrySet = new Set(retry);
		for (const p of pending) {
			if (retrySet.has(p.decision.id)) continue;
			scope.tally.count(p.decision);
			if (p.decision.action === 'push') pushes.push(p);
		}
		ids = retry;
	}
	if (ids.length > 0) scope.log('info', `${ids.length} ${def.type} row(s) kept changing during the run; the next run picks them up`, { ids });
	await pushAll(scope, pushes);
}

/** Applies decisions in the caller's transaction; returns the ids whose compare-and-set lost to a local edit. */
async function applyDecisions(scope: RunScope, tx: Task, pending: readonly Pending[]): Promise<number[]> {
	const { def } = scope;
	const now = scope.now();
	const columns = def.fields.map((f) => f.column);
	const by = (action: Decision['action']) => pending.filter((p) => p.decision.action === action);
	const changes: ChangeLogEntry[] = [];
	const missed: number[] = [];

	// Each chunk's write payloads are built only when that chunk is written (see WRITE_CHUNK).
	const inserts = by('insert');
	const inserted = new Set(await inChunks(inserts, WRITE_CHUNK, (chunk) => insertFromSt(tx, def.table, columns, chunk.map((p) => stWrite(def, p.st!)), now)));
	for (const p of inserts) {
		if (inserted.has(p.decision.id)) changes.push({ entityId: p.decision.id, action: 'created', before: null, after: p.st!.canonical });
		else missed.push(p.decision.id);
	}

	const updates = pending.filter((p) => ['update_from_st', 'undelete', 'rebase'].includes(p.decision.action));
	const updated = new Set(
		await inChunks(updates, WRITE_CHUNK, (chunk) => updateFromSt(tx, def.table, columns, chunk.map((p) => stWrite(def, p.st!, p.local!.rowVersion)), now)),
	);
	for (const p of updates) {
		if (!updated.has(p.decision.id)) {
			missed.push(p.decision.id);
			continue;
		}
		if (p.decision.action === 'rebase') continue;
		changes.push({
			entityId: p.decision.id,
			action: p.decision.action === 'undelete' ? 'undeleted' : 'updated_from_st',
			before: p.local!.current,
			after: p.st!.canonical,
		});
	}

	await inChunks(by('refresh_meta'), WRITE_CHUNK, (chunk) => refreshStMeta(tx, def.table, chunk.map((p) => stWrite(def, p.st!))));

	const deletes = by('soft_delete');
	const deleted = new Set(await softDelete(tx, def.table, deletes.map((p) => ({ id: p.decision.id, rowVersion: p.local!.rowVersion })), now));
	for (const p of deletes) {
		if (deleted.has(p.decision.id)) changes.push({ entityId: p.decision.id, action: 'soft_deleted', before: p.local!.current, after: null });
		else missed.push(p.decision.id);
	}

	const conflicts = pending.filter((p) => p.decision.action === 'conflict' || p.decision.action === 'refresh_conflict');
	if (conflicts.length > 0) {
		const writes: ConflictWrite[] = conflicts.map((p) => {
			const local = p.local!;
			const data = buildConflictData(def, {
				kind: p.decision.conflictKind ?? 'modified',
				entityId: p.decision.id,
				detectedAt: now,
				st: p.st,
				local,
				base: local.base,
				fields: p.decision.fields ?? differingFields(def, p.st?.canonical ?? {}, local.current),
			});
			return {
				entityId: p.decision.id,
				kind: data.kind,
				conflictData: data as unknown as Record<string, unknown>,
				baseVersion: local.base,
				stModifiedOnRaw: p.st?.modifiedOn ?? null,
				suggestedMerge: p.st ? (suggestMerge(def, local.base, p.st.canonical, local.current) as unknown as Record<string, unknown>) : null,
			};
		});
		const ids = await upsertConflicts(tx, def.type, scope.runId, writes);
		await markConflicts(
			tx,
			def.table,
			writes.map((w) => ({ id: w.entityId, conflictData: { ...w.conflictData, conflictId: ids.get(w.entityId) } })),
		);
		for (const w of writes) {
			changes.push({ entityId: w.entityId, action: 'conflict', before: null, after: { conflictId: ids.get(w.entityId), kind: w.kind } });
		}
	}

	await logChanges(tx, scope.runId, def.type, changes, now);
	return missed;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) await fn(items[next++]);
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Sends local edits to ServiceTitan (only the fields that differ), then rebases each row from ServiceTitan's
 * answer. A rejected push (400) or an item gone meanwhile (404) is logged and the row stays pending with the
 * reason; anything else (ST down, auth) fails the run: the edit is still pending, nothing is lost.
 */
async function pushAll(scope: RunScope, candidates: readonly Pending[]): Promise<void> {
	if (candidates.length === 0) return;
	const { def } = scope;
	const versions = await scope.t.tx('push-in-flight', async (tx) => {
		await markEngineWrites(tx);
		return markPushInFlight(tx, def.table, candidates.map((p) => ({ id: p.decision.id, rowVersion: p.local!.rowVersion, values: pick(p.local!.current, p.decision.fields ?? []) })));
	});
	// Edited again since the batch read it: left pending for the next run, which decides on the new edit.
	const pushes = candidates.filter((p) => versions.has(p.decision.id)).map((p) => ({ ...p, local: { ...p.local!, rowVersion: versions.get(p.decision.id)! } }));
	const answered: { p: Pending; answer: StItem }[] = [];
	const rejected: { id: number; message: string }[] = [];
	const errors: ErrorLogEntry[] = [];
	let systemic: unknown;
	await mapLimit(pushes, scope.pushConcurrency, async (p) => {
		if (systemic) return;
		const local = p.local!;
		const fields = p.decision.fields ?? [];
		const body = patchBodyFromCanonical(def, local.current, fields);
		try {
			const response = await scope.st.patch(def.type, p.decision.id, body);
			const check = checkStRecord(def, response);
			if (!check.ok) throw new Error(`ServiceTitan answered the push of ${def.singular} ${p.decision.id} with an invalid record: ${check.problems.join('; ')}`);
			answered.push({ p, answer: { id: check.id, record: response, canonical: check.canonical, modifiedOn: check.modifiedOn } });
		} catch (error) {
			if (isStApiError(error) && (error.kind === 'validation' || error.kind === 'not_found')) {
				const detail = error.errors ? ` ${JSON.stringify(error.errors)}` : '';
				const message = error.kind === 'validation' ? `ServiceTitan rejected the push: ${error.message}${detail}` : 'ServiceTitan no longer has this item';
				rejected.push({ id: p.decision.id, message });
				errors.push({ entityId: p.decision.id, kind: error.kind === 'validation' ? 'push_rejected' : 'push_target_missing', message, details: { fields, errors: error.errors } });
			} else {
				systemic ??= error;
			}
		}
	});

	const now = scope.now();
	const columns = def.fields.map((f) => f.column);
	const notApplied: { id: number; message: string }[] = [];
	const changes: ChangeLogEntry[] = [];
	await scope.t.tx('push-results', async (tx) => {
		await markEngineWrites(tx);
		const clean = answered.filter(({ p, answer }) => {
			const ignored = (p.decision.fields ?? []).filter((f) => differingFields(def, { [f]: answer.canonical[f] }, { [f]: p.local!.current[f] }).length > 0);
			if (ignored.length === 0) return true;
			const message = `ServiceTitan did not apply ${ignored.join(', ')} (answered with other values)`;
			notApplied.push({ id: p.decision.id, message });
			errors.push({ entityId: p.decision.id, kind: 'push_not_applied', message, details: { fields: ignored } });
			return false;
		});
		const written = new Set(await updateFromSt(tx, def.table, columns, clean.map(({ p, answer }) => stWrite(def, answer, p.local!.rowVersion)), now));
		// Edited again while the push was in flight, or partly ignored by ST: move the base only, keep the edit pending.
		const rebaseOnlyItems = answered.filter(({ answer }) => !written.has(answer.id)).map(({ answer }) => stWrite(def, answer));
		await rebaseOnly(tx, def.table, rebaseOnlyItems, now);
		await recordPushErrors(tx, def.table, [...rejected, ...notApplied]);
		for (const { p, answer } of clean) {
			const fields = p.decision.fields ?? [];
			changes.push({
				entityId: answer.id,
				action: 'pushed',
				before: Object.fromEntries(fields.map((f) => [f, p.st?.canonical[f] ?? null])),
				after: Object.fromEntries(fields.map((f) => [f, answer.canonical[f]])),
			});
		}
		await logChanges(tx, scope.runId, def.type, changes, now);
		await logErrors(tx, scope.runId, def.type, errors, now);
	});
	scope.tally.itemsPushed += changes.length;
	scope.tally.errors += errors.length;
	if (systemic) throw systemic;
}
