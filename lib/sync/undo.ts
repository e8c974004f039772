import { inRunLane } from './lanes';
import { canonicalFromRow } from '../entities/canonical';
import { entityDefinition } from '../entities/definitions';
import type { EntityDefinition, EntityType } from '../entities/types';
import type { Db } from '../db/connection';
import { DEFAULT_RETENTION_DAYS } from '../retention';
import { readRun, startRun, type RunRow } from '../db/ledger';
import { withEntityLock } from './entity-lock';
import { readSyncRowsByIds, type Task } from '../db/pricebook-store';
import { runChanges, standingUndoOf, type LoggedChange } from '../db/undo-store';
import { errorMessage, failureKindOf } from '../failures';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from './errors';
import type { StApi, SyncLog } from './ports';
import { prepareStItems, type StItem } from './prepare';
import { DEFAULT_SETTINGS } from './run-types';
import type { RunScope } from './scope';
import { Tally } from './tally';
import { undoResolution } from './undo-resolution';
import { fieldChanges, planItem, type ItemPlan } from './undo-plan';
import { refuseIfLeased, stageAndPush } from './restore-push';
import { counts, describe, finish, type UndoResult } from './undo-result';

export type { UndoResult } from './undo-result';

/** Undo reaches as far back as the change log is kept (CHANGE_LOG_RETENTION_DAYS, see lib/retention.ts). */
export const DEFAULT_UNDO_RETENTION_DAYS = DEFAULT_RETENTION_DAYS;

export interface UndoDeps {
	db: Db;
	st: StApi;
	now?: () => Date;
	log?: SyncLog;
	/** Runs older than this many days are not undone (their change log is kept for undo this long). */
	retentionDays?: number;
	/** How long to wait for a running sync of the same entity type to finish. */
	lockWaitMs?: number;
	pushConcurrency?: number;
}

export interface UndoRequest {
	runId: number;
	/** Who asked for the undo (recorded with the undo run). */
	by: string;
	dryRun?: boolean;
	trigger?: string;
}

/** The kinds of run whose change log undo reverses. */
const UNDOABLE = new Set(['full', 'incremental', 'entity', 'undo', 'resolution', 'restore']);

/**
 * Undoes a sync run (DESIGN.md section 6b) as a new run of kind `undo`: every field the run changed goes back to
 * its value before the run on both sides, while both sides still hold what the run left; a field changed since on
 * either side is skipped and listed, never overwritten. Restored values are written to the local rows as a pending
 * edit and pushed by the sync's own decide-and-push path for those items (three-way checks, verified pushes), so an
 * undo is recorded like any run, writes its own change log and can itself be undone. Refusals are thrown before
 * anything is written.
 */
export function undoRun(deps: UndoDeps, request: UndoRequest): Promise<UndoResult> {
	// A person is waiting: its ServiceTitan requests go ahead of incremental and full runs in the shared budget.
	return inRunLane('undo', () => undoRunAsAsked(deps, request));
}

async function undoRunAsAsked(deps: UndoDeps, request: UndoRequest): Promise<UndoResult> {
	const now = deps.now ?? (() => new Date());
	if (typeof request.by !== 'string' || request.by.trim() === '')
		throw new SyncValidationError('by', 'say who undoes the run (the name is recorded with the undo run)');
	return deps.db.task('undo-run', async (t) => {
		const target = await undoableRun(deps, t, request.runId, now());
		const def = entityDefinition(target.entity_type as EntityType);
		return withEntityLock(t, def.type, deps.lockWaitMs, async () => {
			// Checked again under the lock: another undo of the same run may have finished meanwhile.
			await refuseIfUndone(t, request.runId);
			await refuseIfLeased(t, def.type, now());
			return undoLocked(deps, t, def, target, request, now);
		});
	});
}

async function undoableRun(deps: UndoDeps, t: Task, runId: number, at: Date): Promise<RunRow> {
	const run = await readRun(t, runId);
	if (!run) throw new SyncNotFoundError(`run ${runId} does not exist; \`pricebook-sync logs\` lists the runs`);
	if (run.status === 'running') throw new SyncStateError('busy', `run ${runId} is still running; undo it when it has finished`);
	if (run.status === 'busy') throw new SyncValidationError('runId', `run ${runId} never started (its entity type was busy), so it changed nothing to undo`);
	if (run.dry_run) throw new SyncValidationError('runId', `run ${runId} was a dry run and changed nothing to undo`);
	if (!UNDOABLE.has(run.kind) || !run.entity_type) {
		throw new SyncValidationError(
			'runId',
			run.kind === 'vendor_import'
				? `run ${runId} is a vendor price import: undo it with \`pricebook-sync undo-vendor-import ${runId} --by <user>\``
				: `run ${runId} is a ${run.kind} run; undo covers sync runs (full, incremental, entity), resolutions, restores and undo runs`,
		);
	}
	const days = deps.retentionDays ?? DEFAULT_UNDO_RETENTION_DAYS;
	if (at.getTime() - run.started_at.getTime() > days * 86_400_000) {
		throw new SyncValidationError(
			'runId',
			`run ${runId} started ${run.started_at.toISOString()}, longer ago than the undo window of ${days} days; change its items by hand in Retool instead`,
		);
	}
	await refuseIfUndone(t, runId);
	return run;
}

async function refuseIfUndone(t: Task, runId: number): Promise<void> {
	const undo = await standingUndoOf(t, runId);
	if (undo !== null) throw new SyncStateError('stale', `run ${runId} was already undone by run ${undo}; undo run ${undo} to bring its changes back`);
}

async function undoLocked(deps: UndoDeps, t: Task, def: EntityDefinition, target: RunRow, request: UndoRequest, now: () => Date): Promise<UndoResult> {
	const dryRun = request.dryRun ?? false;
	const log = deps.log ?? (() => undefined);
	const tally = new Tally(false);
	const scope: RunScope = {
		def,
		t,
		st: deps.st,
		runId: null,
		dryRun: true,
		now,
		tally,
		log,
		pushConcurrency: deps.pushConcurrency ?? DEFAULT_SETTINGS.pushConcurrency,
	};
	if (target.kind === 'resolution') return undoResolution(scope, target, { by: request.by, dryRun, trigger: request.trigger });
	const { plans, rows, st } = await planUndo(scope, await runChanges(t, target.id));
	const base = { undoes: target.id, entityType: def.type, dryRun, items: plans, ...counts(plans), itemsPushed: 0, conflictsDetected: 0, errors: 0 };
	if (dryRun) return { ...base, runId: null, success: true, status: 'planned', message: describe(target, base, true) };

	const runId = await t.tx((tx) =>
		startRun(
			tx,
			{ kind: 'undo', entityType: def.type, trigger: request.trigger ?? 'cli', dryRun: false, details: { undoes: target.id, by: request.by } },
			now(),
		),
	);
	const run: RunScope = { ...scope, runId, dryRun: false };
	try {
		await stageAndPush(run, 'undo', plans, rows, st);
		const result = { ...base, ...counts(plans), runId, success: true, status: 'succeeded' as const };
		const done = { ...result, itemsPushed: tally.itemsPushed, conflictsDetected: tally.conflictsDetected, errors: tally.errors };
		await finish(t, runId, 'succeeded', null, done, tally, now());
		return { ...done, message: describe(target, done, false) };
	} catch (error) {
		const message = `the undo of run ${target.id} failed: ${errorMessage(error)}; restored values not yet pushed stay pending and the next sync pushes them`;
		const failed = {
			...base,
			...counts(plans),
			runId,
			success: false,
			status: 'failed' as const,
			itemsPushed: tally.itemsPushed,
			conflictsDetected: tally.conflictsDetected,
			errors: tally.errors + 1,
		};
		await finish(t, runId, 'failed', message, failed, tally, now());
		return { ...failed, message, failureKind: failureKindOf(error) };
	}
}

/** Both sides of every item the run changed, read now, and the plan for each. */
async function planUndo(scope: RunScope, changes: readonly LoggedChange[]) {
	const { def } = scope;
	const byItem = new Map<number, LoggedChange[]>();
	for (const c of changes) byItem.set(c.entity_id, [...(byItem.get(c.entity_id) ?? []), c]);
	const ids = [...byItem.keys()];
	const rows = new Map((await readSyncRowsByIds(scope.t, def, ids)).map((r) => [Number(r.id), r]));
	const st = new Map<number, StItem>();
	for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
		const records = await scope.st.getByIds(def.type, ids.slice(i, i + MAX_IDS_PER_REQUEST));
		for (const item of await prepareStItems(scope, records)) st.set(item.id, item);
	}
	const plans: ItemPlan[] = [];
	for (const [id, entries] of byItem) {
		const row = rows.get(id);
		let local = null;
		try {
			local = row
				? { current: canonicalFromRow(def, row), deleted: row.deleted_at !== null, inConflict: row.has_conflict || row.sync_status === 'conflict' }
				: null;
		} catch (error) {
			plans.push({
				entityId: id,
				restore: [],
				skipped: [{ reason: `its local row holds a value the sync cannot read (${errorMessage(error)}); correct it in Retool first` }],
			});
			continue;
		}
		plans.push(planItem(def, id, fieldChanges(def, entries), { local, st: st.get(id)?.canonical ?? null }));
	}
	return { plans, rows, st };
}
