import { inRunLane } from './lanes';
import { canonicalFromRow } from '../entities/canonical';
import { entityDefinition } from '../entities/definitions';
import type { EntityDefinition, EntityType } from '../entities/types';
import type { Db } from '../db/connection';
import { readChangeRef, readItemHistory } from '../db/item-history';
import { finishRun, startRun } from '../db/ledger';
import { withEntityLock } from './entity-lock';
import { readSyncRowsByIds, type Task } from '../db/pricebook-store';
import { errorMessage, failureKindOf } from '../failures';
import { DEFAULT_RETENTION_DAYS, isBeyondRetention, RETENTION_SETTING } from '../retention';
import { SyncNotFoundError, SyncValidationError } from './errors';
import type { StApi, SyncLog } from './ports';
import { prepareStItems, type StItem } from './prepare';
import { planRestore, valuesAt, type LaterChange } from './restore-plan';
import { refuseIfLeased, stageAndPush } from './restore-push';
import { DEFAULT_SETTINGS } from './run-types';
import type { RunScope } from './scope';
import { syncBase } from './sync-base';
import { Tally } from './tally';
import type { ItemPlan } from './undo-plan';
import { counts, type RestoreOutcome } from './undo-result';

export interface RestoreDeps {
	db: Db;
	st: StApi;
	now?: () => Date;
	log?: SyncLog;
	/** How far back the change log is kept (CHANGE_LOG_RETENTION_DAYS): restore does not reach beyond it. */
	retentionDays?: number;
	lockWaitMs?: number;
	pushConcurrency?: number;
}

export interface RestoreRequest {
	entityType: EntityType;
	entityId: number;
	/** The state at this moment (ISO time)... */
	at?: string;
	/** ...or the state just before this change (an id from `pricebook-sync history`); exactly one of the two. */
	changeId?: number;
	/** Who asked for the restore (recorded with the restore run). */
	by: string;
	dryRun?: boolean;
	trigger?: string;
}

/** What a restore answers: per field now -> after restore, and what was skipped and why. */
export interface RestoreResult extends RestoreOutcome {
	entityType: EntityType;
	entityId: number;
	at: string | null;
	changeId: number | null;
	/** `restore[].afterUndo` is the value after the restore (the shape undo answers with). */
	item: ItemPlan;
}

/**
 * Brings one item back to an earlier state (its values at a time, or just before a change) the way undo brings back
 * a run: the values are derived from the change log, written to the local row as a pending edit and pushed by the
 * sync's own decide-and-verified-push path, as a run of kind `restore` that `pricebook-sync undo` can take back.
 * Later synced edits are overwritten on purpose; edits not synced yet, a conflict or a deleted item are skipped with
 * what to do. Refusals are thrown before anything is written.
 */
export function restoreItem(deps: RestoreDeps, request: RestoreRequest): Promise<RestoreResult> {
	// A person is waiting: its ServiceTitan requests go ahead of incremental and full runs in the shared budget.
	return inRunLane('restore', () => restoreItemAsAsked(deps, request));
}

async function restoreItemAsAsked(deps: RestoreDeps, request: RestoreRequest): Promise<RestoreResult> {
	const now = deps.now ?? (() => new Date());
	if (typeof request.by !== 'string' || request.by.trim() === '')
		throw new SyncValidationError('by', 'say who restores the item (the name is recorded with the restore run)');
	if ((request.at === undefined) === (request.changeId === undefined))
		throw new SyncValidationError('at', 'give either a time (--at) or a change id (--change) to restore to, not both');
	const def = entityDefinition(request.entityType);
	return deps.db.task('restore-item', async (t) =>
		withEntityLock(t, def.type, deps.lockWaitMs, async () => {
			await refuseIfLeased(t, def.type, now());
			const later = await changesAfter(t, deps.retentionDays ?? DEFAULT_RETENTION_DAYS, request, now());
			return restoreLocked(deps, t, def, later, request, now);
		}),
	);
}

/** The item's changes after the point restored to, oldest first; refuses a point the change log cannot vouch for. */
async function changesAfter(t: Task, days: number, request: RestoreRequest, at: Date): Promise<LaterChange[]> {
	const { entityType, entityId } = request;
	const history = await readItemHistory(t, entityType, entityId);
	const tooOld = (what: string) =>
		new SyncValidationError(
			request.at !== undefined ? 'at' : 'changeId',
			`${what} is beyond the ${days}-day retention window (${RETENTION_SETTING}): the log no longer reaches back that far, so the item's state then is not known; restore to a later point or change the values by hand in Retool`,
		);
	if (request.at !== undefined) {
		const point = new Date(request.at);
		if (Number.isNaN(point.getTime())) throw new SyncValidationError('at', '--at must be an ISO-8601 time such as 2024-12-10T10:00:00Z');
		if (isBeyondRetention(point, days, at)) throw tooOld(`--at ${point.toISOString()}`);
		return history.filter((h) => h.changed_at.getTime() > point.getTime());
	}
	const changeId = request.changeId!;
	const change = await readChangeRef(t, changeId);
	const list = `\`pricebook-sync history ${entityType} ${entityId}\` lists this item's changes`;
	if (!change) throw new SyncNotFoundError(`change ${changeId} does not exist (or was pruned); ${list}`);
	if (change.entity_type !== entityType || change.entity_id !== entityId)
		throw new SyncValidationError('changeId', `change ${changeId} is of ${change.entity_type} ${change.entity_id}, not ${entityType} ${entityId}; ${list}`);
	if (isBeyondRetention(change.changed_at, days, at)) throw tooOld(`change ${changeId} (${change.changed_at.toISOString()})`);
	// The change itself and everything after it, in the order the history lists them.
	const index = history.findIndex((h) => Number(h.change_id) === changeId);
	return index < 0 ? [] : history.slice(index);
}

async function restoreLocked(
	deps: RestoreDeps,
	t: Task,
	def: EntityDefinition,
	later: readonly LaterChange[],
	request: RestoreRequest,
	now: () => Date,
): Promise<RestoreResult> {
	const dryRun = request.dryRun ?? false;
	const tally = new Tally(false);
	const scope: RunScope = {
		def,
		t,
		st: deps.st,
		runId: null,
		dryRun: true,
		now,
		tally,
		log: deps.log ?? (() => undefined),
		pushConcurrency: deps.pushConcurrency ?? DEFAULT_SETTINGS.pushConcurrency,
	};
	const target = valuesAt(def, later);
	const point = request.at !== undefined ? `its state at ${new Date(request.at).toISOString()}` : `its state before change ${request.changeId}`;
	if (!target)
		throw new SyncValidationError(
			request.at !== undefined ? 'at' : 'changeId',
			`${def.type} ${request.entityId} did not exist yet at that point; restore does not remove items (deactivate it in Retool or ServiceTitan if it should go)`,
		);
	const { plan, rows, st } = await planNow(scope, request.entityId, target);
	const base = {
		entityType: def.type,
		entityId: request.entityId,
		at: request.at !== undefined ? new Date(request.at).toISOString() : null,
		changeId: request.changeId ?? null,
		dryRun,
		item: plan,
		...counts([plan]),
		itemsPushed: 0,
		conflictsDetected: 0,
		errors: 0,
	};
	const summary = (verb: string, p: ItemPlan) => {
		const c = counts([p]);
		return `restore of ${def.type} ${request.entityId} to ${point}: ${verb} ${c.fieldsRestored} field(s); ${c.fieldsSkipped} skipped`;
	};
	if (dryRun) return { ...base, runId: null, success: true, status: 'planned', message: summary('would restore', plan) };

	const details = { by: request.by, entityId: request.entityId, at: base.at, changeId: base.changeId };
	const runId = await t.tx((tx) => startRun(tx, { kind: 'restore', entityType: def.type, trigger: request.trigger ?? 'cli', dryRun: false, details }, now()));
	const run: RunScope = { ...scope, runId, dryRun: false };
	const close = async (status: 'succeeded' | 'failed', error: string | null) => {
		const c = counts([plan]);
		const skipped = plan.skipped.map((s) => ({ entityId: plan.entityId, ...s }));
		await finishRun(t, runId, { status, error, details: { ...details, ...c, skipped } }, tally.progress(), now());
		return { ...base, ...c, runId, itemsPushed: tally.itemsPushed, conflictsDetected: tally.conflictsDetected };
	};
	try {
		await stageAndPush(run, 'restore', [plan], rows, st);
		const done = await close('succeeded', null);
		return { ...done, success: true, status: 'succeeded', errors: tally.errors, message: summary('restored', plan) };
	} catch (error) {
		const message = `the restore of ${def.type} ${request.entityId} failed: ${errorMessage(error)}; restored values not yet pushed stay pending and the next sync pushes them`;
		const failed = await close('failed', message);
		return { ...failed, success: false, status: 'failed', errors: tally.errors + 1, message, failureKind: failureKindOf(error) };
	}
}

/** Both sides of the item, read now, and the plan. */
async function planNow(scope: RunScope, id: number, target: Parameters<typeof planRestore>[2]) {
	const { def } = scope;
	const rows = new Map((await readSyncRowsByIds(scope.t, def, [id])).map((r) => [Number(r.id), r]));
	const st = new Map<number, StItem>();
	for (const item of await prepareStItems(scope, await scope.st.getByIds(def.type, [id]))) st.set(item.id, item);
	const row = rows.get(id);
	const stNow = st.get(id)?.canonical ?? null;
	try {
		const local = row
			? {
					current: canonicalFromRow(def, row),
					base: syncBase(def, row, stNow),
					deleted: row.deleted_at !== null,
					inConflict: row.has_conflict || row.sync_status === 'conflict',
				}
			: null;
		return { plan: planRestore(def, id, target, { local, st: stNow }), rows, st };
	} catch (error) {
		const reason = `its local row holds a value the sync cannot read (${errorMessage(error)}); correct it in Retool first`;
		return { plan: { entityId: id, restore: [], skipped: [{ reason }] }, rows, st };
	}
}
