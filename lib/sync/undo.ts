import { canonicalFromRow, pick, rowValuesFromCanonical } from '../entities/canonical';
import { entityDefinition } from '../entities/definitions';
import type { EntityDefinition, EntityType } from '../entities/types';
import type { Db } from '../db/connection';
import { markEngineWrites } from '../db/engine-session';
import { DEFAULT_RETENTION_DAYS } from '../retention';
import { logChanges, readRun, startRun, type RunRow } from '../db/ledger';
import { LockIds, withLockOrBusy } from '../db/locks';
import { readLeaseForUpdate } from '../db/leases';
import { readSyncRowsByIds, type StoredRow, type Task } from '../db/pricebook-store';
import { runChanges, stageRestores, standingUndoOf, type LoggedChange } from '../db/undo-store';
import { errorMessage, failureKindOf } from '../failures';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import { processBatch } from './apply';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from './errors';
import type { StApi, SyncLog } from './ports';
import { prepareStItems, type StItem } from './prepare';
import { DEFAULT_SETTINGS } from './run-types';
import type { RunScope } from './scope';
import { Tally } from './tally';
import { syncBase } from './sync-base';
import { undoResolution } from './undo-resolution';
import { fieldChanges, planItem, stagedRow, type ItemPlan } from './undo-plan';
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
const UNDOABLE = new Set(['full', 'incremental', 'entity', 'undo', 'resolution']);

/**
 * Undoes a sync run (DESIGN.md section 6b) as a new run of kind `undo`: every field the run changed goes back to
 * its value before the run on both sides, while both sides still hold what the run left; a field changed since on
 * either side is skipped and listed, never overwritten. Restored values are written to the local rows as a pending
 * edit and pushed by the sync's own decide-and-push path for those items (three-way checks, verified pushes), so an
 * undo is recorded like any run, writes its own change log and can itself be undone. Refusals are thrown before
 * anything is written.
 */
export async function undoRun(deps: UndoDeps, request: UndoRequest): Promise<UndoResult> {
	const now = deps.now ?? (() => new Date());
	if (typeof request.by !== 'string' || request.by.trim() === '')
		throw new SyncValidationError('by', 'say who undoes the run (the name is recorded with the undo run)');
	return deps.db.task('undo-run', async (t) => {
		const target = await undoableRun(deps, t, request.runId, now());
		const def = entityDefinition(target.entity_type as EntityType);
		return withLockOrBusy(
			t,
			LockIds.entity[def.type],
			deps.lockWaitMs ?? 30_000,
			{ what: `a ${def.type} sync is running`, waitAdvice: 'try again in a minute' },
			async () => {
				// Checked again under the lock: another undo of the same run may have finished meanwhile.
				await refuseIfUndone(t, request.runId);
				await refuseIfLeased(t, def.type, now());
				return undoLocked(deps, t, def, target, request, now);
			},
		);
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
				: `run ${runId} is a ${run.kind} run; undo covers sync runs (full, incremental, entity), resolutions and undo runs`,
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

/**
 * An n8n run of the type works step by step under a lease, not the advisory lock: while it is alive, the undo
 * waits its turn like a second run would. (A run that starts after this check waits for the lock undo holds.)
 */
async function refuseIfLeased(t: Task, entityType: string, at: Date): Promise<void> {
	const lease = await t.tx((tx) => readLeaseForUpdate(tx, entityType));
	if (lease.lease_run_id !== null && lease.lease_mode === 'staged' && lease.lease_expires_at !== null && lease.lease_expires_at > at) {
		throw new SyncStateError('busy', `an n8n ${entityType} sync (run ${lease.lease_run_id}) is under way; try again when it has finished`);
	}
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
		const staged = await stage(run, plans, rows, st);
		// Edited between the check and the write: listed as skipped, like any later edit.
		for (const p of plans) {
			if (p.restore.length > 0 && !staged.has(p.entityId)) {
				p.skipped.push(...p.restore.map((r) => ({ field: r.field, reason: 'edited locally while the undo ran; kept' })));
				p.restore = [];
			}
		}
		// The sync's own decision and verified push for these items, against ServiceTitan as undo read it.
		await processBatch(
			run,
			[...staged].map((id) => ({ id, st: st.get(id) ?? null })),
		);
		await settleOutcomes(run, plans, staged);
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

/**
 * What the sync did with each staged item, read back from its row: a restore ServiceTitan did not take (held, or
 * refused) or one the sync turned into a conflict (ServiceTitan changed meanwhile) is not reported as restored,
 * but listed as skipped with what happened, so the answer never claims a value went back when it did not.
 */
async function settleOutcomes(scope: RunScope, plans: ItemPlan[], staged: ReadonlySet<number>): Promise<void> {
	const { def } = scope;
	const rows = new Map((await readSyncRowsByIds(scope.t, def, [...staged])).map((r) => [Number(r.id), r]));
	for (const p of plans) {
		if (!staged.has(p.entityId) || p.restore.length === 0) continue;
		const row = rows.get(p.entityId);
		if (row?.sync_status === 'synced') continue;
		// Held: ServiceTitan took the other fields, and kept its own value for those in push_refused.
		const refused = row?.sync_status === 'conflict' ? null : row?.push_refused;
		const missed = (field: string) => !refused || field in refused;
		const why =
			row?.sync_status === 'conflict'
				? 'ServiceTitan changed it while the undo ran: it is a conflict now, for a person to resolve'
				: `not in ServiceTitan yet (${row?.push_error ?? 'the push did not go through'}); the restored value waits locally as a pending edit`;
		p.skipped.push(...p.restore.filter((r) => missed(r.field)).map((r) => ({ field: r.field, reason: why })));
		p.restore = p.restore.filter((r) => !missed(r.field));
	}
}

/**
 * Writes the restored values to the local rows (a pending edit; see stagedRow), with change-log entries per item:
 * what undo restored, and what it took from ServiceTitan on the way (not undone by an undo of this undo: that was a
 * ServiceTitan user's edit). Returns the ids written.
 */
async function stage(scope: RunScope, plans: readonly ItemPlan[], rows: ReadonlyMap<number, StoredRow>, st: ReadonlyMap<number, StItem>): Promise<Set<number>> {
	const { def } = scope;
	const items = plans
		.filter((p) => p.restore.length > 0)
		.map((p) => {
			const row = rows.get(p.entityId)!;
			const current = canonicalFromRow(def, row);
			const staged = stagedRow(def, current, syncBase(def, row, st.get(p.entityId)!.canonical), st.get(p.entityId)!.canonical, p);
			return {
				plan: p,
				id: p.entityId,
				rowVersion: Number(row.row_version),
				values: rowValuesFromCanonical(def, staged.values),
				base: staged.base,
				current,
				staged,
			};
		});
	return scope.t.tx('undo-stage', async (tx) => {
		await markEngineWrites(tx);
		const written = new Set(
			await stageRestores(
				tx,
				def.table,
				def.fields.map((f) => f.column),
				items,
				scope.now(),
			),
		);
		const done = items.filter((i) => written.has(i.id));
		await logChanges(
			tx,
			scope.runId,
			def.type,
			[
				...done.map((i) => ({
					entityId: i.id,
					action: 'undo_restored_locally',
					before: Object.fromEntries(i.plan.restore.map((r) => [r.field, r.now])),
					after: Object.fromEntries(i.plan.restore.map((r) => [r.field, r.afterUndo])),
				})),
				...done
					.filter((i) => i.staged.tookFromSt.length > 0)
					.map((i) => ({
						entityId: i.id,
						action: 'undo_took_st_value',
						before: pick(i.current, i.staged.tookFromSt),
						after: pick(i.staged.values, i.staged.tookFromSt),
					})),
			],
			scope.now(),
		);
		return written;
	});
}
