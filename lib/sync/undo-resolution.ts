import { canonicalFromRow, differingFields, pick, rowValuesFromCanonical } from '../entities/canonical';
import type { CanonicalRecord } from '../entities/types';
import { conflictBase, readConflict, reopenConflict } from '../db/conflict-store';
import { markEngineWrites } from '../db/engine-session';
import { logChanges, startRun, type RunRow } from '../db/ledger';
import { readSyncRowsByIds, type Task } from '../db/pricebook-store';
import { restoreConflictRow, runChanges, stageRestores } from '../db/undo-store';
import { errorMessage, failureKindOf } from '../failures';
import { processBatch } from './apply';
import { SyncStateError, SyncValidationError } from './errors';
import { prepareStItems } from './prepare';
import type { RunScope } from './scope';
import { syncBase } from './sync-base';
import { show, type ItemPlan } from './undo-plan';
import { counts, describe, finish, type UndoResult } from './undo-result';

/** A resolution's change-log entry: both sides before it, and what both held after (or its accepted delete). */
interface Resolved {
	entityId: number;
	conflictId: number;
	before: { st: CanonicalRecord | null; local: CanonicalRecord };
	after: CanonicalRecord;
}

/**
 * Undoes a resolution (DESIGN.md section 6b): the conflict opens again with both versions as they were before the
 * decision, when nothing changed since on either side. ServiceTitan goes back first, through the sync's own push of
 * a staged local edit (as a sync run's undo does), then the row takes its local version and base from before the
 * decision and the conflict row is reopened. Anything changed since the decision is a later edit: the undo refuses
 * (the dry run lists why) rather than reopen a conflict over it. `scope` is the caller's, with the entity lock held.
 */
export async function undoResolution(scope: RunScope, target: RunRow, request: { by: string; dryRun: boolean; trigger?: string }): Promise<UndoResult> {
	const { def, t } = scope;
	const resolved = await resolvedEntry(t, target);
	const [row] = await readSyncRowsByIds(t, def, [resolved.entityId]);
	const [st] = await prepareStItems(scope, await scope.st.getByIds(def.type, [resolved.entityId]));
	const plan: ItemPlan = { entityId: resolved.entityId, restore: [], skipped: [] };
	const conflict = await readConflict(t, resolved.conflictId);
	if (!row || row.deleted_at !== null) plan.skipped.push({ reason: 'deleted locally since the resolution' });
	else if (!st) plan.skipped.push({ reason: 'no longer exists in ServiceTitan' });
	else if (row.has_conflict || row.sync_status === 'conflict')
		plan.skipped.push({ reason: 'in conflict again since the resolution: resolve that one instead' });
	else if (!conflict || conflict.status !== 'resolved') plan.skipped.push({ reason: `conflict ${resolved.conflictId} is not resolved any more` });
	else {
		const local = canonicalFromRow(def, row);
		for (const field of differingFields(def, resolved.after, local))
			plan.skipped.push({ field, reason: `changed locally since the resolution (now ${show(local[field])})` });
		for (const field of differingFields(def, resolved.after, st.canonical)) {
			if (!plan.skipped.some((s) => s.field === field))
				plan.skipped.push({ field, reason: `changed in ServiceTitan since the resolution (now ${show(st.canonical[field])})` });
		}
		if (plan.skipped.length === 0) {
			for (const field of differingFields(def, resolved.after, resolved.before.local))
				plan.restore.push({ field, side: 'local', now: resolved.after[field], afterUndo: resolved.before.local[field] });
			for (const field of differingFields(def, resolved.after, resolved.before.st!))
				plan.restore.push({ field, side: 'servicetitan', now: resolved.after[field], afterUndo: resolved.before.st![field] });
		}
	}
	const base = {
		undoes: target.id,
		entityType: def.type,
		dryRun: request.dryRun,
		items: [plan],
		...counts([plan]),
		itemsPushed: 0,
		conflictsDetected: 0,
		errors: 0,
	};
	const reopens = `; conflict ${resolved.conflictId} ${request.dryRun ? 'would open' : 'is open'} again with both versions`;
	if (request.dryRun) {
		const message = describe(target, base, true) + (plan.skipped.length === 0 ? reopens : '; nothing would change: a later edit would be lost');
		return { ...base, runId: null, success: true, status: 'planned', message };
	}
	if (plan.skipped.length > 0) {
		const why = plan.skipped.map((s) => (s.field ? `${s.field} ${s.reason}` : s.reason)).join('; ');
		throw new SyncStateError(
			'stale',
			`the item changed since resolution run ${target.id} (${why}); undoing it would lose that edit, so nothing was changed`,
		);
	}

	const runId = await t.tx((tx) =>
		startRun(
			tx,
			{ kind: 'undo', entityType: def.type, trigger: request.trigger ?? 'cli', dryRun: false, details: { undoes: target.id, by: request.by } },
			scope.now(),
		),
	);
	const run: RunScope = { ...scope, runId, dryRun: false };
	try {
		const stFields = plan.restore.filter((r) => r.side === 'servicetitan').map((r) => r.field);
		if (stFields.length > 0) await restoreServiceTitan(run, resolved, Number(row!.row_version), stFields, st!);
		await reopen(run, resolved);
		const done = {
			...base,
			runId,
			success: true,
			status: 'succeeded' as const,
			itemsPushed: run.tally.itemsPushed,
			conflictsDetected: 1,
			errors: run.tally.errors,
		};
		await finish(t, runId, 'succeeded', null, done, run.tally, scope.now());
		return { ...done, message: describe(target, done, false) + reopens };
	} catch (error) {
		const message = `the undo of resolution run ${target.id} failed: ${errorMessage(error)}`;
		const failed = {
			...base,
			runId,
			success: false,
			status: 'failed' as const,
			itemsPushed: run.tally.itemsPushed,
			conflictsDetected: 0,
			errors: run.tally.errors + 1,
		};
		await finish(t, runId, 'failed', message, failed, run.tally, scope.now());
		return { ...failed, message, failureKind: failureKindOf(error) };
	}
}

async function resolvedEntry(t: Task, target: RunRow): Promise<Resolved> {
	const entry = (await runChanges(t, target.id)).find((c) => c.action.startsWith('resolved_'));
	const conflictId = Number((target.details as { conflictId?: unknown }).conflictId);
	if (!entry || !Number.isSafeInteger(conflictId)) throw new SyncValidationError('runId', `resolution run ${target.id} has no change-log entry to undo`);
	const after = entry.after as Record<string, unknown>;
	const before = entry.before as Resolved['before'];
	if (after.deleted === true || !before.st) {
		throw new SyncValidationError(
			'runId',
			`resolution run ${target.id} accepted ServiceTitan's delete; ServiceTitan cannot bring a deleted item back, so it cannot be undone (re-create the item there if it is needed)`,
		);
	}
	return { entityId: entry.entity_id, conflictId, before, after: after as CanonicalRecord };
}

/** ServiceTitan back to its version from before the decision: a staged edit, pushed and verified by the sync. */
async function restoreServiceTitan(
	run: RunScope,
	resolved: Resolved,
	rowVersion: number,
	fields: readonly string[],
	st: NonNullable<Awaited<ReturnType<typeof prepareStItems>>[number]>,
): Promise<void> {
	const { def } = run;
	const values = { ...resolved.after, ...Object.fromEntries(fields.map((f) => [f, resolved.before.st![f]])) };
	const written = await run.t.tx(async (tx) => {
		await markEngineWrites(tx);
		return stageRestores(
			tx,
			def.table,
			def.fields.map((f) => f.column),
			[{ id: resolved.entityId, rowVersion, values: rowValuesFromCanonical(def, values), base: null }],
			run.now(),
		);
	});
	if (written.length === 0)
		throw new SyncStateError('stale', `${def.singular} ${resolved.entityId} was edited while the undo ran; look again and undo again`);
	await processBatch(run, [{ id: resolved.entityId, st }]);
	const [now] = await readSyncRowsByIds(run.t, def, [resolved.entityId]);
	const landed =
		now && now.sync_status === 'synced' && differingFields(def, pick(canonicalFromRow(def, now), fields), pick(resolved.before.st!, fields)).length === 0;
	if (!landed) {
		throw new SyncStateError(
			'stale',
			`ServiceTitan did not take back ${fields.join(', ')} of ${def.singular} ${resolved.entityId} (${now?.push_error ?? 'see the sync error log'}); the conflict was not reopened`,
		);
	}
}

/** The row back in conflict with its local version and base from before the decision, and the conflict open again. */
async function reopen(run: RunScope, resolved: Resolved): Promise<void> {
	const { def } = run;
	await run.t.tx(async (tx) => {
		await markEngineWrites(tx);
		const [row] = await readSyncRowsByIds(tx, def, [resolved.entityId]);
		const conflict = await readConflict(tx, resolved.conflictId);
		const base = await conflictBase(tx, resolved.conflictId);
		const restored =
			row &&
			conflict &&
			(await restoreConflictRow(
				tx,
				def.table,
				def.fields.map((f) => f.column),
				{
					id: resolved.entityId,
					rowVersion: Number(row.row_version),
					values: rowValuesFromCanonical(def, resolved.before.local),
					base: base ?? syncBase(def, row, null),
					conflictData: { ...conflict.conflict_data, conflictId: resolved.conflictId },
				},
			));
		if (!restored || !(await reopenConflict(tx, resolved.conflictId, run.now()))) {
			throw new SyncStateError('stale', `${def.singular} ${resolved.entityId} changed while the undo ran, or has another open conflict; look again`);
		}
		await logChanges(
			tx,
			run.runId,
			def.type,
			[
				{
					entityId: resolved.entityId,
					action: 'undo_reopened_conflict',
					before: resolved.after,
					after: { conflictId: resolved.conflictId, ...resolved.before },
				},
			],
			run.now(),
		);
	});
}
