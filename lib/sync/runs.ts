import { entityDefinition } from '../entities/definitions';
import type { EntityType } from '../entities/types';
import type { Db } from '../db/connection';
import {
	finishRun,
	readSyncState,
	recordBusyRun,
	recordRunFailure,
	recordRunSuccess,
	saveRunProgress,
	startRun,
	type RunKind,
} from '../db/ledger';
import { LockIds, releaseLock, tryAcquireLock } from '../db/locks';
import { countUnseen, forgetSeen, pendingPushIds, unseenIds, type Task } from '../db/pricebook-store';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import { subtractSeconds } from '../servicetitan/timestamps';
import { prepareStItems, processBatch, type RunScope, type StItem } from './apply';
import type { Category } from './categorize';
import type { StApi, SyncLog } from './ports';
import { Tally, type PlannedItem, type Summary } from './tally';

export type SyncKind = 'full' | 'incremental' | 'entity';

export interface SyncSettings {
	/** ServiceTitan page size (max 5000). */
	pageSize: number;
	/** Incremental runs re-read this many seconds before the cursor (clock skew, late commits in ST). */
	overlapSeconds: number;
	/** A full-sync sweep that would soft-delete more than this share of live rows stops unless confirmed. */
	massDeleteMaxShare: number;
	/** ...and more than this many rows (small tables are not blocked by one delete). */
	massDeleteMinCount: number;
	/** An incremental run whose last success is older than this runs as a full sync. */
	staleAfterHours: number;
	/** An incremental run after this many failed runs in a row runs as a full sync. */
	fullAfterFailures: number;
	pushConcurrency: number;
}

export const DEFAULT_SETTINGS: SyncSettings = {
	pageSize: 5000,
	overlapSeconds: 300,
	massDeleteMaxShare: 0.1,
	massDeleteMinCount: 5,
	staleAfterHours: 24,
	fullAfterFailures: 3,
	pushConcurrency: 4,
};

export interface RunRequest {
	entityType: EntityType;
	kind: SyncKind;
	trigger?: string;
	dryRun?: boolean;
	confirmMassDelete?: boolean;
	/** Incremental: read from here instead of the stored cursor (ISO-8601). */
	since?: string;
	/** Single entity. */
	entityId?: number;
}

export interface RunProgressEvent {
	entityType: EntityType;
	kind: SyncKind;
	pagesRead: number;
	itemsSeen: number;
	totalCount: number | null;
}

/** The CLI's and webhooks' result contract (see README). */
export interface RunResult {
	entityType: EntityType;
	runId: number | null;
	kind: SyncKind;
	/** Set when an incremental run was promoted to a full sync, with the reason. */
	ranAsFullBecause?: string;
	dryRun: boolean;
	success: boolean;
	status: 'succeeded' | 'failed' | 'busy';
	summary: Summary;
	itemsSynced: number;
	itemsPushed: number;
	conflictsDetected: number;
	errors: number;
	syncedAt: string;
	message?: string;
	/** Full runs: the sweep was withheld by the mass-delete guard. */
	massDeleteBlocked?: { wouldDelete: number; live: number };
	/** Dry runs: what would happen, per category (at most 1000 items each; counts are complete). */
	plan?: Record<Category, PlannedItem[]>;
}

export interface RunDeps {
	db: Db;
	st: StApi;
	now: () => Date;
	log: SyncLog;
	settings: SyncSettings;
	onProgress?: (event: RunProgressEvent) => void;
}

class RunFailure extends Error {}

/**
 * Runs one sync of one entity type. Runs of the same type never overlap (an advisory lock held on the run's own
 * connection); a second one reports busy at once. Each page is applied in its own transaction and is complete in
 * itself, so a run that fails or dies leaves nothing half-applied; the cursor moves only when the run succeeded.
 */
export async function runSync(deps: RunDeps, request: RunRequest): Promise<RunResult> {
	const def = entityDefinition(request.entityType);
	const dryRun = request.dryRun ?? false;
	return deps.db.task('sync-run', async (t) => {
		const lockId = LockIds.entity[def.type];
		const startedAt = deps.now();
		if (!(await tryAcquireLock(t, lockId))) {
			const runId = dryRun ? null : await recordBusyRun(t, { kind: request.kind, entityType: def.type, trigger: request.trigger ?? 'cli', dryRun }, startedAt);
			return busyResult(request, runId, startedAt);
		}
		try {
			return await runLocked(deps, t, request, dryRun);
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

function busyResult(request: RunRequest, runId: number | null, at: Date): RunResult {
	const tally = new Tally(false);
	return {
		entityType: request.entityType,
		runId,
		kind: request.kind,
		dryRun: request.dryRun ?? false,
		success: false,
		status: 'busy',
		summary: tally.summary,
		itemsSynced: 0,
		itemsPushed: 0,
		conflictsDetected: 0,
		errors: 0,
		syncedAt: at.toISOString(),
		message: `another ${request.entityType} sync is running; try again when it has finished`,
	};
}

async function promotion(deps: RunDeps, t: Task, request: RunRequest): Promise<string | undefined> {
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

async function runLocked(deps: RunDeps, t: Task, request: RunRequest, dryRun: boolean): Promise<RunResult> {
	const def = entityDefinition(request.entityType);
	const ranAsFullBecause = await promotion(deps, t, request);
	const kind: SyncKind = ranAsFullBecause ? 'full' : request.kind;
	const state = await readSyncState(t, def.type);
	const windowFrom =
		kind === 'incremental' ? (request.since ?? subtractSeconds(state.cursor_raw!, deps.settings.overlapSeconds)) : null;
	const trigger = request.trigger ?? 'cli';
	const runId = dryRun
		? null
		: await startRun(t, { kind: kind as RunKind, entityType: def.type, trigger, dryRun, windowFrom, details: ranAsFullBecause ? { ranAsFullBecause } : {} }, deps.now());
	const tally = new Tally(dryRun);
	const scope: RunScope = { def, t, st: deps.st, runId, dryRun, now: deps.now, tally, log: deps.log, pushConcurrency: deps.settings.pushConcurrency };
	if (ranAsFullBecause) deps.log('info', `${def.type}: running a full sync: ${ranAsFullBecause}`);

	let cursor: string | null = null;
	let massDeleteBlocked: RunResult['massDeleteBlocked'];
	let failure: string | undefined;
	try {
		if (kind === 'entity') {
			if (request.entityId === undefined) throw new RunFailure('an entity run needs an id');
			await entityRun(scope, request.entityId);
		} else {
			const seenIds = new Set<number>();
			const listed = await listAndApply(deps, scope, kind, windowFrom, seenIds);
			cursor = listed.cursor;
			if (kind === 'full') massDeleteBlocked = await sweep(deps, scope, request, seenIds);
			else await pushPending(scope, seenIds);
		}
		if (massDeleteBlocked) {
			failure =
				`mass-delete guard: ServiceTitan no longer lists ${massDeleteBlocked.wouldDelete} of ${massDeleteBlocked.live} ${def.type} ` +
				`(more than ${Math.round(deps.settings.massDeleteMaxShare * 100)}%); nothing was deleted. If ServiceTitan really deleted them, run the full sync again with --confirm-mass-delete`;
		}
	} catch (error) {
		failure = error instanceof Error ? error.message : String(error);
		deps.log('error', `${def.type} ${kind} sync failed: ${failure}`);
	}

	const finishedAt = deps.now();
	if (!dryRun && runId !== null) {
		await finishRun(t, runId, { status: failure ? 'failed' : 'succeeded', error: failure ?? null, windowTo: cursor, details: massDeleteBlocked ? { massDeleteBlocked } : {} }, tally.progress(), finishedAt);
		if (kind === 'full') await forgetSeen(t, runId);
		if (failure) await recordRunFailure(t, def.type, finishedAt);
		else await recordRunSuccess(t, def.type, kind, kind === 'entity' ? null : cursor, finishedAt);
	}
	return {
		entityType: def.type,
		runId,
		kind,
		...(ranAsFullBecause ? { ranAsFullBecause } : {}),
		dryRun,
		success: !failure,
		status: failure ? 'failed' : 'succeeded',
		summary: tally.summary,
		itemsSynced: tally.itemsSynced,
		itemsPushed: tally.itemsPushed,
		conflictsDetected: tally.conflictsDetected,
		errors: tally.errors,
		syncedAt: finishedAt.toISOString(),
		...(failure ? { message: failure } : {}),
		...(massDeleteBlocked ? { massDeleteBlocked } : {}),
		...(tally.plan ? { plan: tally.plan } : {}),
	};
}

/** Parents before children, so a category's parent exists locally before the child that points at it. */
function parentsFirst(items: StItem[]): StItem[] {
	const byId = new Map(items.map((i) => [i.id, i]));
	const depth = (item: StItem, seen = new Set<number>()): number => {
		const parent = item.canonical.parent_id as number | null;
		if (parent === null || !byId.has(parent) || seen.has(item.id)) return 0;
		seen.add(item.id);
		return 1 + depth(byId.get(parent)!, seen);
	};
	return items.map((i) => ({ i, d: depth(i) })).sort((a, b) => a.d - b.d).map((x) => x.i);
}

async function listAndApply(deps: RunDeps, scope: RunScope, kind: 'full' | 'incremental', windowFrom: string | null, seenIds: Set<number>): Promise<{ cursor: string | null }> {
	const { def } = scope;
	let cursor: string | null = null;
	const params = { pageSize: deps.settings.pageSize, active: 'Any' as const, includeTotal: true, ...(windowFrom ? { modifiedOnOrAfter: windowFrom } : {}) };
	for await (const page of deps.st.iteratePages(def.type, params)) {
		let items = await prepareStItems(scope, page.data);
		if (def.type === 'categories') items = parentsFirst(items);
		// A listing over a changing set can repeat an item on two pages: applying twice is harmless, counting twice is not.
		const fresh = items.filter((i) => !seenIds.has(i.id));
		for (const i of items) {
			seenIds.add(i.id);
			if (!cursor || i.modifiedOn > cursor) cursor = i.modifiedOn;
		}
		// Invalid records are still "seen": ST has them, so the sweep must not delete them.
		for (const r of page.data) if (typeof (r as { id?: unknown }).id === 'number') seenIds.add((r as { id: number }).id);
		await processBatch(scope, fresh.map((i) => ({ id: i.id, st: i })), { recordSeen: kind === 'full' });
		if (kind === 'full' && scope.runId !== null) {
			const invalidIds = page.data.map((r) => (r as { id?: unknown }).id).filter((id): id is number => typeof id === 'number' && !items.some((i) => i.id === id));
			if (invalidIds.length > 0) await scope.t.none('INSERT INTO sync_run_seen (run_id, entity_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [scope.runId, invalidIds]);
		}
		scope.tally.pagesRead++;
		scope.tally.itemsSeen += page.data.length;
		if (scope.runId !== null) await saveRunProgress(scope.t, scope.runId, scope.tally.progress());
		deps.onProgress?.({ entityType: def.type, kind, pagesRead: scope.tally.pagesRead, itemsSeen: scope.tally.itemsSeen, totalCount: page.totalCount ?? null });
	}
	return { cursor };
}

/**
 * After a complete listing: rows ServiceTitan no longer returned are deleted there (soft-deleted here). Page
 * drift can leave a live item out of even a complete listing, so each candidate is looked up by id first; only
 * what ServiceTitan does not return then is treated as deleted.
 */
async function sweep(deps: RunDeps, scope: RunScope, request: RunRequest, seenIds: Set<number>): Promise<RunResult['massDeleteBlocked']> {
	const { def, t } = scope;
	let live: number;
	let wouldDelete: number;
	let nextBatch: (after: number) => Promise<number[]>;
	if (scope.runId === null) {
		// Dry run: nothing was recorded, so compare with the ids read in memory.
		const rows = await t.any<{ id: number }>('SELECT id FROM $1:name WHERE deleted_at IS NULL ORDER BY id', [def.table]);
		const candidates = rows.map((r) => r.id).filter((id) => !seenIds.has(id));
		live = rows.length;
		wouldDelete = candidates.length;
		nextBatch = async (after) => candidates.filter((id) => id > after).slice(0, 1000);
	} else {
		const runId = scope.runId;
		({ unseen: wouldDelete, live } = await countUnseen(t, def.table, runId));
		nextBatch = (after) => unseenIds(t, def.table, runId, after, 1000);
	}
	if (wouldDelete === 0) return undefined;
	const tooMany = wouldDelete > deps.settings.massDeleteMinCount && wouldDelete / Math.max(live, 1) > deps.settings.massDeleteMaxShare;
	if (tooMany && !request.confirmMassDelete) return { wouldDelete, live };
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
async function processByIdLookup(scope: RunScope, ids: readonly number[]): Promise<void> {
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
async function pushPending(scope: RunScope, alreadyDone: Set<number>): Promise<void> {
	let after = 0;
	for (;;) {
		const page = await pendingPushIds(scope.t, scope.def.table, after, 500);
		if (page.length === 0) break;
		after = page[page.length - 1];
		await processByIdLookup(scope, page.filter((id) => !alreadyDone.has(id)));
	}
}

async function entityRun(scope: RunScope, id: number): Promise<void> {
	const record = await scope.st.get(scope.def.type, id);
	scope.tally.pagesRead = 1;
	if (record) {
		scope.tally.itemsSeen = 1;
		const items = await prepareStItems(scope, [record]);
		if (items.length === 0) throw new RunFailure(`ServiceTitan's record of ${scope.def.singular} ${id} is invalid (see the error log)`);
		await processBatch(scope, [{ id, st: items[0] }]);
		return;
	}
	const exists = await scope.t.oneOrNone('SELECT 1 FROM $1:name WHERE id = $2', [scope.def.table, id]);
	if (!exists) throw new RunFailure(`${scope.def.singular} ${id} exists neither in ServiceTitan nor locally`);
	await processBatch(scope, [{ id, st: null }]);
}
