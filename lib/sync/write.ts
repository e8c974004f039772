import { differingFields, rowValuesFromCanonical, stExtraData } from '../entities/canonical';
import type { EntityDefinition } from '../entities/types';
import { closeSettledConflicts, upsertConflicts, type ConflictWrite } from '../db/conflict-store';
import { logChanges, type ChangeLogEntry } from '../db/ledger';
import {
	inChunks,
	insertFromSt,
	markConflicts,
	markConflictsSettled,
	rebaseHeld,
	refreshStMeta,
	SETTLED_BY,
	softDelete,
	updateFromSt,
	WRITE_CHUNK,
	type StWrite,
	type Task,
} from '../db/pricebook-store';
import { recordStamp, stampForPg } from '../servicetitan/timestamps';
import type { Decision } from './categorize';
import { buildConflictData } from './conflict-data';
import type { Pending } from './decide';
import { suggestMerge } from './merge';
import type { StItem } from './prepare';
import type { RunScope } from './scope';

/** The row values, base and ServiceTitan bookkeeping written for an item as ServiceTitan has it. */
export function stWrite(def: EntityDefinition, item: StItem, rowVersion?: number): StWrite {
	return {
		id: item.id,
		values: rowValuesFromCanonical(def, item.canonical),
		base: item.canonical,
		stData: stExtraData(def, item.record),
		// ST's own string (all its fractional digits); comparisons normalize it.
		stModifiedOnRaw: recordStamp(item.record) ?? item.modifiedOn,
		stModifiedOnPg: stampForPg(item.modifiedOn),
		rowVersion,
	};
}

/** Applies decisions in the caller's transaction; returns the ids whose compare-and-set lost to a local edit. */
export async function applyDecisions(scope: RunScope, tx: Task, pending: readonly Pending[]): Promise<number[]> {
	const { def } = scope;
	const now = scope.now();
	const columns = def.fields.map((f) => f.column);
	const by = (action: Decision['action']) => pending.filter((p) => p.decision.action === action);
	const changes: ChangeLogEntry[] = [];
	const missed: number[] = [];

	// Each chunk's write payloads are built only when that chunk is written (see WRITE_CHUNK).
	const inserts = by('insert');
	const inserted = new Set(
		await inChunks(inserts, WRITE_CHUNK, (chunk) =>
			insertFromSt(
				tx,
				def.table,
				columns,
				chunk.map((p) => stWrite(def, p.st!)),
				now,
			),
		),
	);
	for (const p of inserts) {
		if (inserted.has(p.decision.id)) changes.push({ entityId: p.decision.id, action: 'created', before: null, after: p.st!.canonical });
		else missed.push(p.decision.id);
	}

	const updates = pending.filter((p) => ['update_from_st', 'undelete', 'rebase'].includes(p.decision.action));
	const updated = new Set(
		await inChunks(updates, WRITE_CHUNK, (chunk) =>
			updateFromSt(
				tx,
				def.table,
				columns,
				chunk.map((p) => stWrite(def, p.st!, p.local!.rowVersion)),
				now,
			),
		),
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

	const held = by('rebase_held');
	const rebased = new Set(
		await rebaseHeld(
			tx,
			def.table,
			held.map((p) => stWrite(def, p.st!, p.local!.rowVersion)),
			now,
		),
	);
	for (const p of held) if (!rebased.has(p.decision.id)) missed.push(p.decision.id);

	await inChunks(by('refresh_meta'), WRITE_CHUNK, (chunk) =>
		refreshStMeta(
			tx,
			def.table,
			chunk.map((p) => stWrite(def, p.st!)),
		),
	);

	const deletes = by('soft_delete');
	const deleted = new Set(
		await softDelete(
			tx,
			def.table,
			deletes.map((p) => ({ id: p.decision.id, rowVersion: p.local!.rowVersion })),
			now,
		),
	);
	for (const p of deletes) {
		if (deleted.has(p.decision.id)) changes.push({ entityId: p.decision.id, action: 'soft_deleted', before: p.local!.current, after: null });
		else missed.push(p.decision.id);
	}

	changes.push(...(await settleConflicts(scope, tx, by('settle_conflict'), missed)));

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

/**
 * Closes the conflicts whose two sides came to agree by hand (categorize's settle_conflict): the row takes
 * ServiceTitan's version as its values and base (compare-and-set: a row edited again since it was read is decided
 * again), or, deleted on both sides, keeps its delete; then the row leaves conflict and the conflict is closed as
 * settled by hand, with both sides before and the outcome after, as a resolution records them. Nothing is pushed.
 * Ids that lost the compare-and-set go to `missed`; returns the change-log entries.
 */
async function settleConflicts(scope: RunScope, tx: Task, settles: readonly Pending[], missed: number[]): Promise<ChangeLogEntry[]> {
	if (settles.length === 0) return [];
	const { def } = scope;
	const now = scope.now();
	const agreed = settles.filter((p) => p.st);
	const rewritten = new Set(
		await updateFromSt(
			tx,
			def.table,
			def.fields.map((f) => f.column),
			agreed.map((p) => stWrite(def, p.st!, p.local!.rowVersion)),
			now,
		),
	);
	const rows = settles
		.filter((p) => (p.st ? rewritten.has(p.decision.id) : true))
		.map((p) => ({ id: p.decision.id, rowVersion: p.st ? null : p.local!.rowVersion }));
	const settled = new Set(await markConflictsSettled(tx, def.table, rows, now));
	const done = settles.filter((p) => settled.has(p.decision.id));
	missed.push(...settles.filter((p) => !settled.has(p.decision.id)).map((p) => p.decision.id));
	const outcome = (p: Pending) => ({
		entityId: p.decision.id,
		before: { st: p.st?.canonical ?? null, local: p.local!.current },
		after: p.st ? p.st.canonical : { deleted: true },
	});
	const ids = await closeSettledConflicts(tx, def.type, done.map(outcome), SETTLED_BY, now);
	return done.map((p) => {
		const o = outcome(p);
		return { entityId: o.entityId, action: 'conflict_settled', before: { conflictId: ids.get(o.entityId) ?? null, ...o.before }, after: o.after };
	});
}
