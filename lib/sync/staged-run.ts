import { inRunLane } from './lanes';
import { entityDefinition } from '../entities/definitions';
import type { EntityType } from '../entities/types';
import { LockIds, releaseLock, tryAcquireLock } from '../db/locks';
import { conflictsStoredByRun, type StoredConflictRow } from '../db/conflict-store';
import type { Task } from '../db/pricebook-store';
import { markPhaseDone, readPlan, readStageMeta, readStageMetas, readStagedItems, savePlan, stagePage, type StageMeta } from '../db/staged-pages';
import { SyncFailure } from '../failures';
import { isConflictDecision, type BatchPhase } from './apply';
import { decideItems, toPlanned, type PlannedDecision } from './decide';
import type { StItem } from './prepare';
import { forgetStagedItems, rememberStagedItems, stagedItemsInMemory } from './stage-cache';
import {
	applyItems,
	beginRun,
	completeListing,
	finishedRun,
	finishRun,
	exportPage,
	listingParams,
	openListing,
	readListingPage,
	recordBusy,
	recordStep,
	resumeRun,
	stepScope,
	type ActiveRun,
	type ListingPage,
	type RunEnd,
} from './run-lifecycle';
import type { RunDeps, RunResult } from './run-types';
import { Tally, type PushCounts, type Summary } from './tally';

/**
 * The n8n driver of the run lifecycle (run-lifecycle.ts): the run split into steps that n8n runs as separate
 * nodes, possibly on different queue-mode workers: Start Sync Run → ST Fetch Page → Categorize Changes → Apply
 * Changes → Store Conflicts → Sync Next Page … → Finish Sync Run. Between steps only a small reference travels
 * (run id, entity type, page number); the page, its plan and every counter live in PostgreSQL, so an n8n
 * execution keeps no pricebook rows and any step can run again without doing its work twice. The lease in
 * sync_state keeps runs of one entity type apart.
 */
export interface StagedRunRef {
	runId: number;
	entityType: EntityType;
	kind: 'full' | 'incremental';
	page: number;
}

export type StagedStart = { status: 'started'; ref: StagedRunRef; ranAsFullBecause?: string } | { status: 'busy'; result: RunResult };

export interface StagedRequest {
	entityTypes: readonly EntityType[];
	kind: 'full' | 'incremental';
	trigger?: string;
	confirmMassDelete?: boolean;
	since?: string;
	pageSize?: number;
	/** The n8n execution starting the runs (see BeginRequest.execution). */
	execution?: string;
}

export interface PhaseCounts {
	summary: Summary;
	itemsSynced: number;
	itemsPushed: number;
	pushes: PushCounts;
	conflictsDetected: number;
}

function phaseCounts(tally: Tally): PhaseCounts {
	return {
		summary: { ...tally.summary },
		itemsSynced: tally.itemsSynced,
		itemsPushed: tally.itemsPushed,
		pushes: { ...tally.pushes },
		conflictsDetected: tally.conflictsDetected,
	};
}

/** Start Sync Run: begins one run per entity type (the advisory lock only for the moment of starting). */
export async function startStagedRuns(deps: RunDeps, request: StagedRequest): Promise<StagedStart[]> {
	const starts: StagedStart[] = [];
	for (const entityType of request.entityTypes) starts.push(await inRunLane(request.kind, () => startOne(deps, entityType, request)));
	return starts;
}

async function startOne(deps: RunDeps, entityType: EntityType, request: StagedRequest): Promise<StagedStart> {
	const lockId = LockIds.entity[entityDefinition(entityType).type];
	const runRequest = { ...request, entityType, trigger: request.trigger ?? 'n8n' };
	return deps.db.task('staged-start', async (t) => {
		// A library run holds the lock for its whole run: then this one is busy.
		if (!(await tryAcquireLock(t, lockId))) return { status: 'busy', result: await recordBusy(deps, t, runRequest) };
		try {
			const begun = await beginRun(deps, t, runRequest, 'staged');
			if (begun.status === 'busy') return begun;
			const { run } = begun;
			const ref: StagedRunRef = { runId: run.runId!, entityType, kind: run.kind as 'full' | 'incremental', page: 1 };
			return { status: 'started', ref, ...(run.ranAsFullBecause ? { ranAsFullBecause: run.ranAsFullBecause } : {}) };
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

export interface FetchedPage {
	ref: StagedRunRef;
	/** Items read (categories: every category of the page, nested ones included). */
	fetched: number;
	hasMore: boolean;
	/** ServiceTitan's total of top-level entries (category roots when it nests them); null when it named none. */
	totalCount: number | null;
	/** Top-level entries on this page (category roots when ServiceTitan nests them); null when unknown. */
	listed: number | null;
	/** The paged listing, or (incremental runs) the export feed of changes. */
	source: 'listing' | 'export';
	/** The page was fetched by an earlier run of this step: nothing was asked of ServiceTitan again. */
	readBefore: boolean;
}

/** ST Fetch Page: reads one page from ServiceTitan into the run (validated once) and stages it. Running it again for the same page reuses what was staged. */
export async function fetchStagedPage(deps: RunDeps, ref: StagedRunRef): Promise<FetchedPage> {
	return inRunLane(ref.kind, () =>
		deps.db.task('staged-fetch', async (t) => {
			const run = await resumeRun(deps, t, ref);
			const done = await readStageMeta(t, ref.runId, ref.page);
			const source = run.listing === 'pages' ? 'listing' : 'export';
			if (done) return { ref, fetched: done.item_count, hasMore: done.has_more, totalCount: null, listed: null, source, readBefore: true };
			if (ref.page === 1) await openListing(deps, t, run);
			const page = await fetchListingPage(deps, t, run, ref);
			const staged = await t.tx(async (tx) => {
				const { items, maxModifiedOn } = await readListingPage(deps, tx, run, page);
				const token = await stagePage(tx, {
					runId: ref.runId,
					page: ref.page,
					items,
					itemCount: page.data.length,
					hasMore: page.hasMore,
					maxModifiedOn,
					continueFrom: page.continueFrom ?? null,
				});
				return token ? { token, items } : null;
			});
			if (staged) rememberStagedItems(ref.runId, ref.page, staged.token, staged.items);
			deps.onProgress?.({
				entityType: run.def.type,
				kind: run.kind,
				pagesRead: ref.page,
				itemsSeen: page.data.length,
				totalCount: page.totalCount ?? null,
			});
			return {
				ref,
				fetched: page.data.length,
				hasMore: page.hasMore,
				totalCount: page.totalCount ?? null,
				listed: page.listed ?? null,
				source,
				readBefore: false,
			};
		}),
	);
}

/** Page `ref.page` of the run's listing: by number, or (export feed) from where the page before it stopped. */
async function fetchListingPage(deps: RunDeps, t: Task, run: ActiveRun, ref: StagedRunRef): Promise<ListingPage> {
	if (run.listing === 'pages') return deps.st.listPage(run.def.type, { ...listingParams(run), page: ref.page });
	if (ref.page === 1) return exportPage(deps, run, run.windowFrom!);
	const previous = await readStageMeta(t, ref.runId, ref.page - 1);
	if (!previous?.continue_from)
		throw new SyncFailure('validation', `page ${ref.page - 1} of run ${ref.runId} was not fetched: fetch the pages in order`, 'page');
	return exportPage(deps, run, previous.continue_from);
}

async function requireStage(t: Task, ref: StagedRunRef): Promise<StageMeta> {
	const stage = await readStageMeta(t, ref.runId, ref.page);
	if (!stage) throw new SyncFailure('validation', `page ${ref.page} of run ${ref.runId} was not fetched: run ST Fetch Page first`, 'page');
	return stage;
}

/** A staged page's items (or those of `onlyIds`): from this process's memory when it staged them, else from PostgreSQL. */
async function stagedItems(t: Task, ref: StagedRunRef, stage: StageMeta, onlyIds?: readonly number[]): Promise<readonly StItem[]> {
	const inMemory = stagedItemsInMemory(ref.runId, ref.page, stage.token);
	if (!inMemory) return readStagedItems<StItem>(t, ref.runId, ref.page, onlyIds);
	if (onlyIds === undefined) return inMemory;
	const wanted = new Set(onlyIds);
	return inMemory.filter((i) => wanted.has(i.id));
}

/** The page's plan: the one Categorize Changes saved, or made now (a flow without that step) and saved. */
async function pagePlan(deps: RunDeps, t: Task, run: ActiveRun, ref: StagedRunRef, items: readonly StItem[]): Promise<PlannedDecision[]> {
	const saved = await readPlan<PlannedDecision>(t, ref.runId, ref.page);
	if (saved) return saved;
	// Unreadable rows get no plan: Apply Changes decides them again, and marks and logs them there (unreadable.ts).
	const { pending } = await decideItems(
		stepScope(deps, t, run),
		items.map((i) => ({ id: i.id, st: i })),
	);
	const plan = pending.map(toPlanned);
	await savePlan(t, ref.runId, ref.page, plan);
	return (await readPlan<PlannedDecision>(t, ref.runId, ref.page)) ?? plan;
}

/** Categorize Changes: decides every item of a staged page once and keeps the plan; writes nothing else. */
export async function categorizeStagedPage(
	deps: RunDeps,
	ref: StagedRunRef,
): Promise<{ ref: StagedRunRef; summary: Summary; items: number; hasMore: boolean }> {
	return inRunLane(ref.kind, () =>
		deps.db.task('staged-categorize', async (t) => {
			const run = await resumeRun(deps, t, ref);
			const stage = await requireStage(t, ref);
			const items = await stagedItems(t, ref, stage);
			const plan = await pagePlan(deps, t, run, ref, items);
			const tally = new Tally(false);
			for (const decision of plan) tally.count(decision);
			return { ref, summary: tally.summary, items: items.length, hasMore: stage.has_more };
		}),
	);
}

/** How many stored conflicts a Store Conflicts step lists (the count is always complete). */
export const STORED_CONFLICTS_LISTED = 50;

export interface StagedPhaseResult {
	ref: StagedRunRef;
	counts: PhaseCounts;
	alreadyDone: boolean;
	hasMore: boolean;
	/** Conflicts phase: the conflicts this run stored for the page's items (the first STORED_CONFLICTS_LISTED). */
	stored?: { total: number; rows: StoredConflictRow[] };
}

/**
 * Apply Changes ('changes': create, update, soft-delete, push) and Store Conflicts ('conflicts'): carry out their
 * part of the page's plan, once; an item whose row a person edited since the plan is decided again. The changes
 * phase notes the items it left to the conflicts phase. Running a phase again returns what it did the first time;
 * the conflicts phase also returns the conflicts it stored, read back from the run's change log.
 */
export async function applyStagedPage(deps: RunDeps, ref: StagedRunRef, phase: Exclude<BatchPhase, 'all'>): Promise<StagedPhaseResult> {
	const column = phase === 'changes' ? 'applied' : 'conflicts_stored';
	return inRunLane(ref.kind, () =>
		deps.db.task('staged-apply', async (t) => {
			const run = await resumeRun(deps, t, ref);
			const stage = await requireStage(t, ref);
			// The conflicts phase needs only what the changes phase left; without that note (changes not run yet), all.
			const onlyIds = phase === 'conflicts' && stage.conflict_ids ? stage.conflict_ids.map(Number) : undefined;
			const storedFor = async (ids: readonly number[]) =>
				phase === 'conflicts' ? { stored: await conflictsStoredByRun(t, ref.runId, run.def.type, ids, STORED_CONFLICTS_LISTED) } : {};
			const done = stage[column];
			if (done) {
				const ids = onlyIds ?? (await stagedItems(t, ref, stage)).map((i) => i.id);
				return { ref, counts: done as unknown as PhaseCounts, alreadyDone: true, hasMore: stage.has_more, ...(await storedFor(ids)) };
			}
			const items = await stagedItems(t, ref, stage, onlyIds);
			const plan = new Map((await pagePlan(deps, t, run, ref, items)).map((d) => [d.id, d]));
			const tally = new Tally(false);
			const outOfPhase: number[] = [];
			// Items the plan already leaves to the other phase are not even read again.
			const mine = phase === 'changes' ? items.filter((i) => !isPlannedConflict(plan.get(i.id), outOfPhase)) : items;
			await applyItems(deps, t, run, mine, tally, { phase, plan, outOfPhase });
			const counts = phaseCounts(tally);
			await t.tx(async (tx) => {
				if (await markPhaseDone(tx, ref.runId, ref.page, column, counts as unknown as Record<string, unknown>, phase === 'changes' ? outOfPhase : null))
					await recordStep(tx, run, tally);
			});
			return { ref, counts, alreadyDone: false, hasMore: stage.has_more, ...(await storedFor(items.map((i) => i.id))) };
		}),
	);
}

function isPlannedConflict(decision: PlannedDecision | undefined, outOfPhase: number[]): boolean {
	if (!decision || !isConflictDecision(decision)) return false;
	outOfPhase.push(decision.id);
	return true;
}

/**
 * Finish Sync Run: checks every page was fetched and applied, then, like the library driver after its last page,
 * (full) soft-deletes what ServiceTitan no longer lists, or (incremental) pushes local edits ServiceTitan did not
 * list; records the outcome, moves the cursor on success, drops the staged pages and releases the lease.
 * Finishing a finished run returns its result.
 */
export async function finishStagedRun(deps: RunDeps, ref: StagedRunRef): Promise<RunResult> {
	return inRunLane(ref.kind, () =>
		deps.db.task('staged-finish', async (t) => {
			const finished = await finishedRun(t, ref.runId);
			if (finished) return finished;
			const run = await resumeRun(deps, t, ref);
			forgetStagedItems(ref.runId);
			return finishRun(deps, t, run, await completeStaged(deps, t, run));
		}),
	);
}

async function completeStaged(deps: RunDeps, t: Task, run: ActiveRun): Promise<RunEnd> {
	try {
		const stages = await readStageMetas(t, run.runId!);
		const complete =
			stages.length > 0 && stages.every((s, i) => s.page === i + 1 && s.applied && s.conflicts_stored) && !stages[stages.length - 1].has_more;
		if (!complete)
			throw new SyncFailure('internal', 'the run ended before every page was fetched and applied; nothing was deleted and the cursor did not move');
		return { massDeleteBlocked: await completeListing(deps, t, run) };
	} catch (error) {
		return { error };
	}
}
