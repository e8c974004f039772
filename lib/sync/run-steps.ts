import type { EntityDefinition } from '../entities/types';
import { finishRun, readSyncState, recordRunFailure, recordRunSuccess, type RunProgress } from '../db/ledger';
import { countUnseen, forgetSeen, pendingPushIds, unseenIds, type Task } from '../db/pricebook-store';
import { SyncFailure, type FailureKind } from '../failures';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import { prepareStItems, processBatch, type RunScope, type StItem } from './apply';
import type { RunDeps, RunRequest, RunResult, SyncKind, SyncSettings } from './run-types';
import type { Tally } from './tally';

/** Why an incremental run should run as a full sync instead, if it should (spec: "after extended downtime", "when incremental sync fails repeatedly"). */
export async function promotionReason(deps: Pick<RunDeps, 'now' | 'settings'>, t: Task, request: RunRequest): Promise<string | undefined> {
	if (request.kind !== 'incremental' || request.since) return undefined;
	const state = await readSyncState(t, request.entityType);
	if (!state.cursor_raw) return 'no incremental cursor yet (first sync)';
	if (state.consecutive_failures >= deps.settings.fullAfterFailures) return `the last ${state.consecutive_failures} runs failed`;
	const last = state.last_success_at;
	if (!last || deps.now().getTime() - last.getTime() > deps.settings.staleAfterHours * 3600_000) {
		return `the last successful sync is older than ${deps.settings.staleAfterHours} h`;
	}
	return undefined;
}

/** Parents before children, so a category's parent exists locally before the child that points at it. */
export function parentsFirst(items: StItem[]): StItem[] {
	const byId = new Map(items.map((i) => [i.id, i]));
	const depth = (item: StItem, seen = new Set<number>()): number => {
		const parent = item.canonical.parent_id as number | null;
		if (parent === null || !byId.has(parent) || seen.has(item.id)) return 0;
		seen.add(item.id);
		return 1 + depth(byId.get(parent)!, seen);
	};
	return items
		.map((i) => ({ i, d: depth(i) }))
		.sort((a, b) => a.d - b.d)
		.map((x) => x.i);
}

/** Validated items of one listing page in apply order, and the newest modifiedOn on it. */
export async function pageItems(scope: RunScope, records: readonly unknown[]): Promise<{ items: StItem[]; maxModifiedOn: string | null; ids: number[] }> {
	let items = await prepareStItems(scope, records);
	if (scope.def.type === 'categories') items = parentsFirst(items);
	let maxModifiedOn: string | null = null;
	for (const i of items) if (!maxModifiedOn || i.modifiedOn > maxModifiedOn) maxModifiedOn = i.modifiedOn;
	// Invalid records still count as listed: ST has them, so the sweep must not delete them.
	const ids = records.map((r) => (r as { id?: unknown }).id).filter((id): id is number => typeof id === 'number' && Number.isSafeInteger(id));
	return { items, maxModifiedOn, ids };
}

function massDeleteBlocked(settings: SyncSettings, wouldDelete: number, live: number): boolean {
	return wouldDelete > settings.massDeleteMinCount && wouldDelete / Math.max(live, 1) > settings.massDeleteMaxShare;
}

export function massDeleteMessage(def: EntityDefinition, settings: SyncSettings, blocked: { wouldDelete: number; live: number }): string {
	return (
		`mass-delete guard: ServiceTitan no longer lists ${blocked.wouldDelete} of ${blocked.live} ${def.type} ` +
		`(more than ${Math.round(settings.massDeleteMaxShare * 100)}%); nothing was deleted. If ServiceTitan really deleted them, run the full sync again with --confirm-mass-delete`
	);
}

/**
 * After a complete listing: rows ServiceTitan no longer returned are deleted there (soft-deleted here). Page
 * drift can leave a live item out of even a complete listing, so each candidate is looked up by id first; only
 * what ServiceTitan does not return then is treated as deleted. `seenInMemory` serves dry runs, which record
 * nothing in sync_run_seen.
 */
export async function sweep(settings: SyncSettings, scope: RunScope, confirmMassDelete: boolean, seenInMemory?: Set<number>): Promise<RunResult['massDeleteBlocked']> {
	const { def, t } = scope;
	let live: number;
	let wouldDelete: number;
	let nextBatch: (after: number) => Promise<number[]>;
	if (scope.runId === null) {
		const rows = await t.any<{ id: number }>('SELECT id FROM $1:name WHERE deleted_at IS NULL ORDER BY id', [def.table]);
		const candidates = rows.map((r) => r.id).filter((id) => !seenInMemory?.has(id));
		live = rows.length;
		wouldDelete = candidates.length;
		nextBatch = async (after) => candidates.filter((id) => id > after).slice(0, 1000);
	} else {
		const runId = scope.runId;
		({ unseen: wouldDelete, live } = await countUnseen(t, def.table, runId));
		nextBatch = (after) => unseenIds(t, def.table, runId, after, 1000);
	}
	if (wouldDelete === 0) return undefined;
	if (massDeleteBlocked(settings, wouldDelete, live) && !confirmMassDelete) return { wouldDelete, live };
	let after = 0;
	for (;;) {
		const batch = await nextBatch(after);
		if (batch.length === 0) break;
		after = batch[batch.length - 1];
		await processByIdLookup(scope, batch);
	}
	return undefined;
}

/** Re-reads items by id (50 per call) and applies them; an id ServiceTitan does not return is gone there. */
export async function processByIdLookup(scope: RunScope, ids: readonly number[]): Promise<void> {
	const { def } = scope;
	for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
		const chunk = ids.slice(i, i + MAX_IDS_PER_REQUEST);
		const records = await scope.st.getByIds(def.type, chunk);
		const items = await prepareStItems(scope, records);
		const byId = new Map(items.map((it) => [it.id, it]));
		const returned = new Set(records.map((r) => (r as { id?: unknown }).id));
		// Returned but invalid: skipped (and logged), never taken for a delete.
		await processBatch(scope, chunk.filter((id) => byId.has(id) || !returned.has(id)).map((id) => ({ id, st: byId.get(id) ?? null })));
	}
}

/** Incremental runs also push local edits whose ST side did not change: re-read them from ST first. */
export async function pushPending(scope: RunScope, alreadyDone: (id: number) => boolean): Promise<void> {
	let after = 0;
	for (;;) {
		const page = await pendingPushIds(scope.t, scope.def.table, after, 500);
		if (page.length === 0) break;
		after = page[page.length - 1];
		await processByIdLookup(scope, page.filter((id) => !alreadyDone(id)));
	}
}

export async function entityRun(scope: RunScope, id: number): Promise<void> {
	const record = await scope.st.get(scope.def.type, id);
	scope.tally.pagesRead = 1;
	if (record) {
		scope.tally.itemsSeen = 1;
		const items = await prepareStItems(scope, [record]);
		// ServiceTitan answered with a record we cannot use: its side misbehaves (as a malformed response would), not the caller's.
		if (items.length === 0) throw new SyncFailure('st_unavailable', `ServiceTitan's record of ${scope.def.singular} ${id} is invalid (see the error log)`);
		await processBatch(scope, [{ id, st: items[0] }]);
		return;
	}
	const exists = await scope.t.oneOrNone('SELECT 1 FROM $1:name WHERE id = $2', [scope.def.table, id]);
	if (!exists) throw new SyncFailure('not_found', `${scope.def.singular} ${id} exists neither in ServiceTitan nor locally`);
	await processBatch(scope, [{ id, st: null }]);
}

export interface RunOutcome {
	kind: SyncKind;
	ranAsFullBecause?: string;
	failure?: string;
	/** The kind of the error that failed the run (a withheld sweep is needs_confirmation whatever this says). */
	failureKind?: FailureKind;
	cursor: string | null;
	massDeleteBlocked?: RunResult['massDeleteBlocked'];
}

function outcomeFailureKind(outcome: RunOutcome): FailureKind | undefined {
	if (!outcome.failure) return undefined;
	return outcome.massDeleteBlocked ? 'needs_confirmation' : (outcome.failureKind ?? 'internal');
}

/** Ends a run in the ledger and the sync state: only a success moves the cursor and resets the failure streak. */
export async function recordOutcome(t: Task, def: EntityDefinition, runId: number, outcome: RunOutcome, progress: RunProgress, at: Date): Promise<void> {
	const failureKind = outcomeFailureKind(outcome);
	// The kind is kept with the run, so a finished staged run read back from the ledger still says why it failed.
	const details = { ...(outcome.massDeleteBlocked ? { massDeleteBlocked: outcome.massDeleteBlocked } : {}), ...(failureKind ? { failureKind } : {}) };
	await finishRun(t, runId, { status: outcome.failure ? 'failed' : 'succeeded', error: outcome.failure ?? null, windowTo: outcome.cursor, details }, progress, at);
	if (outcome.kind === 'full') await forgetSeen(t, runId);
	if (outcome.failure) await recordRunFailure(t, def.type, at);
	else await recordRunSuccess(t, def.type, outcome.kind, outcome.kind === 'entity' ? null : outcome.cursor, at);
}

export function runResult(def: EntityDefinition, runId: number | null, dryRun: boolean, outcome: RunOutcome, tally: Tally, at: Date): RunResult {
	return {
		entityType: def.type,
		runId,
		kind: outcome.kind,
		...(outcome.ranAsFullBecause ? { ranAsFullBecause: outcome.ranAsFullBecause } : {}),
		dryRun,
		success: !outcome.failure,
		status: outcome.failure ? 'failed' : 'succeeded',
		summary: { ...tally.summary },
		itemsSynced: tally.itemsSynced,
		itemsPushed: tally.itemsPushed,
		conflictsDetected: tally.conflictsDetected,
		errors: tally.errors,
		syncedAt: at.toISOString(),
		...(outcome.failure ? { message: outcome.failure, failureKind: outcomeFailureKind(outcome) } : {}),
		...(outcome.massDeleteBlocked ? { massDeleteBlocked: outcome.massDeleteBlocked } : {}),
		...(tally.plan ? { plan: tally.plan } : {}),
	};
}

export function busyResult(request: Pick<RunRequest, 'entityType' | 'kind' | 'dryRun'>, runId: number | null, at: Date, tally: Tally): RunResult {
	return {
		entityType: request.entityType,
		runId,
		kind: request.kind,
		dryRun: request.dryRun ?? false,
		success: false,
		status: 'busy',
		summary: { ...tally.summary },
		itemsSynced: 0,
		itemsPushed: 0,
		conflictsDetected: 0,
		errors: 0,
		syncedAt: at.toISOString(),
		message: `another ${request.entityType} sync is running; try again when it has finished`,
		failureKind: 'busy',
	};
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
