import { createLocalItems, settleCreatesInFlight } from './create-local';
import { describeLockHolder, holderAdvice, lockHolder, LockIds } from '../db/locks';
import { entityDefinition } from '../entities/definitions';
import type { EntityDefinition, EntityType } from '../entities/types';
import {
	closeRun,
	markAbandoned,
	markBusy,
	readRun,
	readSyncState,
	recordBusyRun,
	recordRunFailure,
	recordRunSuccess,
	startRun,
	type RunRow,
} from '../db/ledger';
import type { LeaseMode } from '../db/leases';
import { countLive, forgetSeen, rowExists, type Task } from '../db/pricebook-store';
import { dropStagedPages } from '../db/staged-pages';
import { errorMessage, failureKindOf, SyncFailure, type FailureKind } from '../failures';
import { addSeconds, normalizeStTimestamp, subtractSeconds } from '../servicetitan/timestamps';
import type { StRecord } from '../servicetitan/types';
import { processBatch, processByIdLookup, type BatchOptions } from './apply';
import { CATEGORIES } from './categorize';
import { mayBeSettled } from './decide';
import { acquireLease, releaseLease, renewLease } from './lease';
import { inApplyOrder, listedIds, newestStamp, prepareStItems, type StItem } from './prepare';
import { ledgerRecord, MemoryRecord, type RunRecord } from './run-record';
import type { RunDeps, RunRequest, RunResult, SyncKind, SyncSettings } from './run-types';
import type { RunScope } from './scope';
import { noPushes, Tally, type Summary } from './tally';

/**
 * The one lifecycle of a sync run: begin (lease, ledger row, window), read a listing page, apply it, push the
 * pending local edits, sweep (full runs), finish (cursor, counts, ledger, result). Two drivers call it: the
 * library's loop in one process (runs.ts, used by the CLI, the n8n Pricebook Sync node and the webhooks) and the
 * n8n step nodes (staged-run.ts), which run one step per node and keep what lies between steps in PostgreSQL.
 * Every rule, count and status lives here, so the two cannot drift apart.
 */
export interface ActiveRun {
	def: EntityDefinition;
	/** Null for a dry run, which writes nothing. */
	runId: number | null;
	kind: SyncKind;
	dryRun: boolean;
	/** Incremental runs of a stamped type: read ServiceTitan's changes from this stamp on (unstamped types read their whole listing). */
	windowFrom: string | null;
	/** The window was given by the caller (`since`): taken as it is. */
	windowGiven: boolean;
	/**
	 * 'export': incremental runs of a stamped type read ServiceTitan's export feed (continued by token, deletes
	 * included); 'pages': every other listing run reads the paged listing.
	 */
	listing: 'pages' | 'export';
	/** ServiceTitan's clock when the listing began (normalized; null before, or when it sends no Date header). */
	stClockAtStart: string | null;
	ranAsFullBecause?: string;
	confirmMassDelete: boolean;
	pageSize: number;
	/** Where the run keeps what it read and counted: its ledger row, or memory for a dry run. */
	record: RunRecord;
}

export type Begun = { status: 'started'; run: ActiveRun } | { status: 'busy'; result: RunResult };

export interface BeginRequest extends RunRequest {
	pageSize?: number;
	/**
	 * The n8n execution that starts a staged run, kept in its ledger row: when a step of that execution fails, every
	 * run it still holds is closed with it (staged-failure.ts).
	 */
	execution?: string;
}

/** What closing or resuming a recorded run needs: no ServiceTitan, no database handle (the caller's task). */
export type LedgerDeps = Pick<RunDeps, 'now' | 'log' | 'settings'>;

function listingOf(kind: SyncKind, def: EntityDefinition): ActiveRun['listing'] {
	return kind === 'incremental' && def.stamped ? 'export' : 'pages';
}

/**
 * How far past ServiceTitan's clock as its Date header reads it a saved cursor may lie. None: the header has whole
 * seconds (it reads up to a second early), so the bound is already at or before ServiceTitan's true time, and any
 * change made after the run began (our own pushes included) carries a stamp after the cursor.
 */
export const CLOCK_TOLERANCE_SECONDS = 0;

/** Why an incremental run should run as a full sync instead, if it should (after downtime, after repeated failures, first run). */
async function promotionReason(deps: Pick<RunDeps, 'now' | 'settings'>, t: Task, request: RunRequest): Promise<string | undefined> {
	if (request.kind !== 'incremental' || request.since) return undefined;
	const state = await readSyncState(t, request.entityType);
	// A type without stamps needs no cursor: its incremental runs read the whole listing.
	if (!state.cursor_raw && entityDefinition(request.entityType).stamped) return 'no incremental cursor yet (first sync)';
	if (!state.last_success_at) return 'no successful sync yet (first sync)';
	if (state.consecutive_failures >= deps.settings.fullAfterFailures) return `the last ${state.consecutive_failures} runs failed`;
	const last = state.last_success_at;
	if (!last || deps.now().getTime() - last.getTime() > deps.settings.staleAfterHours * 3600_000) {
		return `the last successful sync is older than ${deps.settings.staleAfterHours} h`;
	}
	return undefined;
}

/**
 * A run that could not start because another session holds its entity type's advisory lock. The answer (and the
 * ledger row) names that session and how long it has been there, so a holder that never lets go is visible, and
 * says to end it when it has sat idle long past any real run's pause.
 */
export async function recordBusy(deps: RunDeps, t: Task, request: RunRequest): Promise<RunResult> {
	const now = deps.now();
	const dryRun = request.dryRun ?? false;
	const holder = await lockHolder(t, LockIds.entity[entityDefinition(request.entityType).type]);
	const result = busyResult(request, null, now);
	if (holder) {
		result.message = `another ${request.entityType} sync holds the lock: ${describeLockHolder(holder)}; ${holderAdvice(holder, 'try again when it has finished')}`;
	}
	if (!dryRun) {
		result.runId = await recordBusyRun(
			t,
			{ kind: request.kind, entityType: request.entityType, trigger: request.trigger ?? 'cli', dryRun },
			now,
			result.message,
		);
	}
	return result;
}

/**
 * Starts a run; call it with the entity type's advisory lock held. A 'library' run keeps that lock to its end, a
 * 'staged' one (n8n steps on several connections) holds the lease alone after this. A run whose holder died is
 * taken over and marked abandoned.
 */
export async function beginRun(deps: RunDeps, t: Task, request: BeginRequest, mode: LeaseMode): Promise<Begun> {
	const def = entityDefinition(request.entityType);
	const dryRun = request.dryRun ?? false;
	const ranAsFullBecause = await promotionReason(deps, t, request);
	const kind: SyncKind = ranAsFullBecause ? 'full' : request.kind;
	const state = await readSyncState(t, def.type);
	const windowFrom = kind === 'incremental' && def.stamped ? (request.since ?? subtractSeconds(state.cursor_raw!, deps.settings.overlapSeconds)) : null;
	const pageSize = request.pageSize ?? deps.settings.pageSize;
	const confirmMassDelete = request.confirmMassDelete ?? false;
	const windowGiven = request.since !== undefined;
	const common = {
		def,
		kind,
		dryRun,
		windowFrom,
		windowGiven,
		listing: listingOf(kind, def),
		stClockAtStart: null,
		confirmMassDelete,
		pageSize,
		...(ranAsFullBecause ? { ranAsFullBecause } : {}),
	};
	if (ranAsFullBecause) deps.log('info', `${def.type}: running a full sync: ${ranAsFullBecause}`);
	if (dryRun) return { status: 'started', run: { ...common, runId: null, record: new MemoryRecord(new Tally(true)) } };

	const now = deps.now();
	const details = {
		mode,
		confirmMassDelete,
		pageSize,
		windowGiven,
		...(ranAsFullBecause ? { ranAsFullBecause } : {}),
		...(request.execution ? { execution: request.execution } : {}),
	};
	const runId = await startRun(
		t,
		{ kind, entityType: def.type, trigger: request.trigger ?? (mode === 'staged' ? 'n8n' : 'cli'), dryRun, windowFrom, details },
		now,
	);
	const lease = await t.tx((tx) => acquireLease(tx, def.type, runId, mode, now, deps.settings.leaseTtlMs));
	if (!lease.granted) {
		await markBusy(t, runId, now);
		return { status: 'busy', result: busyResult({ ...request, kind }, runId, now) };
	}
	if (lease.abandonedRunId !== undefined) await abandon(t, def.type, lease.abandonedRunId, now);
	return { status: 'started', run: { ...common, runId, record: ledgerRecord(runId) } };
}

async function abandon(t: Task, entityType: EntityType, runId: number, now: Date): Promise<void> {
	await markAbandoned(t, entityType, runId, now);
	await dropStagedPages(t, runId);
	await forgetSeen(t, runId);
}

/** A recorded run as its ledger row holds it, for a step that runs apart from its start (an n8n node); renews its lease. */
export async function resumeRun(deps: LedgerDeps, t: Task, ref: { runId: number; entityType: EntityType }): Promise<ActiveRun> {
	const row = await readRun(t, ref.runId);
	if (!row || row.entity_type !== ref.entityType) throw new SyncFailure('not_found', `run ${ref.runId} of ${ref.entityType} does not exist`);
	if (row.status !== 'running') throw new SyncFailure('stale', `run ${ref.runId} is no longer running (status ${row.status})`);
	if (!(await renewLease(t, ref.entityType, row.id, deps.now(), deps.settings.leaseTtlMs))) {
		throw new SyncFailure(
			'busy',
			`run ${ref.runId} lost its lease (it stalled longer than ${Math.round(deps.settings.leaseTtlMs / 1000)} s and another run took over)`,
		);
	}
	const details = row.details as { confirmMassDelete?: boolean; ranAsFullBecause?: string; pageSize?: number; windowGiven?: boolean };
	const def = entityDefinition(ref.entityType);
	return {
		def,
		runId: row.id,
		kind: row.kind as SyncKind,
		dryRun: false,
		windowFrom: row.window_from,
		windowGiven: details.windowGiven ?? false,
		listing: listingOf(row.kind as SyncKind, def),
		stClockAtStart: row.st_clock_at_start,
		confirmMassDelete: details.confirmMassDelete ?? false,
		pageSize: details.pageSize ?? deps.settings.pageSize,
		...(details.ranAsFullBecause ? { ranAsFullBecause: details.ranAsFullBecause } : {}),
		record: ledgerRecord(row.id),
	};
}

/** Whether the run behind a reference has already finished (a finish step run again). */
export async function finishedRun(t: Task, runId: number): Promise<RunResult | null> {
	const row = await readRun(t, runId);
	return row && row.status !== 'running' ? resultFromLedger(row) : null;
}

/** The scope one step works in, with a fresh tally for what the step counts. */
export function stepScope(deps: RunDeps, t: Task, run: ActiveRun): RunScope {
	return {
		def: run.def,
		t,
		st: deps.st,
		runId: run.runId,
		dryRun: run.dryRun,
		now: deps.now,
		tally: new Tally(run.dryRun),
		log: deps.log,
		pushConcurrency: deps.settings.pushConcurrency,
	};
}

/**
 * Before the first listing page of a run of a stamped type: ServiceTitan's clock, read from its answer's Date
 * header. The cursor this run saves never passes it (plus CLOCK_TOLERANCE_SECONDS), so a record stamped in
 * ServiceTitan's future cannot pin the cursor there, and whatever changes while the run reads is read again by the
 * next run. An incremental window also reaches back to what ServiceTitan's clock read when the last successful run
 * ended: if that clock stepped back since, edits made after the step carry stamps before the cursor, and the
 * window still covers them. Kept in the ledger row, so every later step of an n8n run sees it.
 */
export async function openListing(deps: RunDeps, t: Task, run: ActiveRun): Promise<void> {
	if (run.kind === 'entity') return;
	// Creates whose answer was lost are found first, so the listing meets their items under their own rows.
	const scope = stepScope(deps, t, run);
	try {
		await settleCreatesInFlight(scope);
	} finally {
		await recordStep(t, run, scope.tally);
	}
	if (!run.def.stamped) return;
	const serverNow = await deps.st.serverNow(run.def.type);
	if (!serverNow) deps.log('warn', `${run.def.type}: ServiceTitan sent no Date header; the cursor is bounded by nothing but the stamps it lists`);
	run.stClockAtStart = serverNow ? normalizeStTimestamp(serverNow.toISOString()) : null;
	if (run.kind === 'incremental' && run.stClockAtStart && run.windowFrom && !run.windowGiven) {
		const state = await readSyncState(t, run.def.type);
		const sinceSuccessS = state.last_success_at ? Math.max(0, (deps.now().getTime() - state.last_success_at.getTime()) / 1000) : 0;
		const reach = subtractSeconds(run.stClockAtStart, sinceSuccessS + deps.settings.overlapSeconds);
		if (reach < run.windowFrom) {
			if (run.windowFrom > subtractSeconds(run.stClockAtStart, deps.settings.overlapSeconds))
				deps.log('warn', `${run.def.type}: the cursor lies after ServiceTitan's clock (${run.stClockAtStart}); reading from ${reach}`);
			run.windowFrom = reach;
		}
	}
	await run.record.saveListingStart(t, run.windowFrom, run.stClockAtStart);
}

/** One page of a run's listing, paged or from the export feed. */
export interface ListingPage {
	data: StRecord[];
	hasMore: boolean;
	totalCount?: number | null;
	/** Top-level entries ServiceTitan listed (category roots when it nests them); see StPage. */
	listed?: number;
	/** Export feed: where the next page goes on. */
	continueFrom?: string;
}

/** The export feed's page that follows `from` (the window's start, or the previous page's token). */
export async function exportPage(deps: RunDeps, run: ActiveRun, from: string): Promise<ListingPage> {
	const page = await deps.st.exportPage(run.def.type, { from, includeRecentChanges: true });
	if (page.hasMore && page.data.length === 0 && page.continueFrom === from)
		throw new SyncFailure('st_unavailable', `ServiceTitan's ${run.def.type} export feed claimed more but did not move on from its token`);
	return { data: page.data, hasMore: page.hasMore, continueFrom: page.continueFrom };
}

/** The run's whole listing, page by page (the library driver; the n8n steps fetch one page per node). */
export async function* listingPages(deps: RunDeps, run: ActiveRun): AsyncIterable<ListingPage> {
	if (run.listing === 'pages') {
		yield* deps.st.iteratePages(run.def.type, listingParams(run));
		return;
	}
	for (let from = run.windowFrom!; ;) {
		const page = await exportPage(deps, run, from);
		yield page;
		if (!page.hasMore) return;
		from = page.continueFrom!;
	}
}

/** Listing parameters of the run's window. */
export function listingParams(run: ActiveRun) {
	return { pageSize: run.pageSize, active: 'Any' as const, includeTotal: true, ...(run.windowFrom ? { modifiedOnOrAfter: run.windowFrom } : {}) };
}

export interface ReadPage {
	/** Valid items the run had not read on an earlier page, in apply order. */
	items: StItem[];
	/** The newest ServiceTitan stamp on the page. */
	maxModifiedOn: string | null;
}

/**
 * Takes one listing page into the run: validates each record once (invalid ones are logged and skipped), records
 * every listed id as read (invalid ones too: ServiceTitan has them, so the sweep must not delete them), drops an
 * item an earlier page already had (a listing over a changing set can repeat one: applying it twice is harmless,
 * counting it twice is not), and counts the page. Call it in the transaction that keeps what it returns.
 */
export async function readListingPage(deps: RunDeps, t: Task, run: ActiveRun, page: ListingPage): Promise<ReadPage> {
	const scope = stepScope(deps, t, run);
	const valid = await prepareStItems(scope, page.data);
	// The export feed lists a deleted record as inactive, like a deactivated one: such an id is looked up by id when
	// the listing is complete (completeListing), and only what ServiceTitan then does not return is a delete.
	const recheck = run.listing === 'export' ? listedIds(page.data.filter((r) => r.active === false)) : [];
	const fresh = await run.record.markSeen(t, listedIds(page.data), recheck);
	const later = new Set(recheck);
	const maxModifiedOn = newestStamp(valid);
	scope.tally.pagesRead = 1;
	scope.tally.itemsSeen = page.data.length;
	await run.record.addProgress(t, scope.tally, maxModifiedOn, page.totalCount ?? null);
	return {
		items: inApplyOrder(
			run.def,
			valid.filter((i) => fresh.has(i.id) && !later.has(i.id)),
		),
		maxModifiedOn,
	};
}

/**
 * Decides and applies items of the run (one phase or all). What it counted goes into `tally`, which the caller
 * adds to the run: at once (applyPage), or together with marking an n8n step done, so a step run again does not
 * count twice.
 */
export async function applyItems(deps: RunDeps, t: Task, run: ActiveRun, items: readonly StItem[], tally: Tally, options: BatchOptions = {}): Promise<void> {
	const scope = { ...stepScope(deps, t, run), tally };
	await processBatch(
		scope,
		items.map((i) => ({ id: i.id, st: i })),
		options,
	);
}

/** Applies a page's items and adds what was counted to the run, also when applying failed part way. */
export async function applyPage(deps: RunDeps, t: Task, run: ActiveRun, items: readonly StItem[]): Promise<void> {
	const tally = new Tally(run.dryRun);
	try {
		await applyItems(deps, t, run, items, tally);
	} finally {
		await recordStep(t, run, tally);
	}
}

/** Adds a step's counts to the run. */
export function recordStep(t: Task, run: ActiveRun, tally: Tally): Promise<void> {
	return run.record.addProgress(t, tally, null);
}

/**
 * After the last page. A whole listing (full runs; incremental runs of categories): rows ServiceTitan no longer
 * listed are looked up by id, and only what it does not return then is treated as deleted (page drift can leave a
 * live item out of a complete listing), unless the mass-delete guard stops it. Export-feed runs: the records it
 * listed inactive are looked up by id the same way (a deleted item reaches the local database within one
 * incremental run, with the same guard), then local edits whose item it did not list are re-read by id and pushed.
 * Then the listing must have been whole. Returns the guard's figures when it withheld the sweep.
 */
export async function completeListing(
	deps: RunDeps,
	t: Task,
	run: ActiveRun,
	onPushed?: (done: number, total: number) => void,
): Promise<RunResult['massDeleteBlocked']> {
	const scope = stepScope(deps, t, run);
	try {
		let found = 0;
		let blocked: RunResult['massDeleteBlocked'];
		// A whole listing (full runs, and incremental runs of a type without stamps, which read all of it) is swept,
		// pending local edits included. The export feed's inactive records are looked up by id the same way, and
		// local edits it did not list are pushed.
		if (run.listing === 'pages') ({ blocked, found } = await sweep(deps.settings, scope, run, unseenIds(run)));
		else {
			({ blocked } = await sweep(deps.settings, scope, run, recheckedIds(run)));
			await pushPendingEdits(scope, run, onPushed);
		}
		await settleAgreedConflicts(scope, run);
		// A withheld sweep fails the run already, for a reason a person must act on.
		if (!blocked) await requireWholeListing(t, run, found);
		// Rows people inserted become items in ServiceTitan, after the listing: a run that died after a create's POST
		// finds the item it made there (possibly already brought in by this listing) before it would send again.
		if (!blocked) await createLocalItems(scope);
		return blocked;
	} finally {
		await recordStep(t, run, scope.tally);
	}
}

/**
 * A listing read page by page while items change in ServiceTitan can skip one: an item edited meanwhile moves
 * towards the end, and the next one slides onto a page already read. Then the run has seen fewer distinct ids
 * than ServiceTitan counted. A skipped item held locally is found by the sweep's look-up by id (`foundById`); any
 * other (new in ServiceTitan, or changed within an incremental window) was not applied, so the run fails rather
 * than move the cursor past it (what it applied stays applied) and the next run reads the listing again.
 */
async function requireWholeListing(t: Task, run: ActiveRun, foundById: number): Promise<void> {
	const { seen, listedTotal } = await run.record.coverage(t);
	if (listedTotal === null || seen + foundById >= listedTotal) return;
	throw new SyncFailure(
		'stale',
		`ServiceTitan's ${run.def.type} listing changed while it was read: ${seen + foundById} of the ${listedTotal} items it counted were found ` +
			'(an item moved between pages). The cursor did not move; the next run reads the listing again.',
	);
}

/**
 * Local edits the listing did not bring, 500 at a time (memory stays flat however large a Retool backlog is): each
 * page is read back from ServiceTitan by id (50 per request), decided, pushed and verified before the next.
 */
async function pushPendingEdits(scope: RunScope, run: ActiveRun, onPushed?: (done: number, total: number) => void): Promise<void> {
	const total = onPushed ? await run.record.countPendingUnseen(scope.t, run.def.table) : 0;
	let done = 0;
	for (let after = 0; ;) {
		const page = await run.record.pendingUnseen(scope.t, run.def.table, after, 500);
		if (page.next === null) return;
		after = page.next;
		await processByIdLookup(scope, page.ids);
		done += page.ids.length;
		onPushed?.(done, Math.max(total, done));
	}
}

/**
 * A conflict a person settles by hand (typing ServiceTitan's values in Retool, soft-deleting a row ServiceTitan
 * deleted) leaves the row in conflict, not pending, and ServiceTitan unchanged: neither an incremental listing nor
 * the pending pushes would bring the item to this run, nor a full run's sweep a soft-deleted row. So the open
 * conflicts the run did not read are checked against the ServiceTitan side they show, and those that now agree are
 * read again by id and decided (categorize closes them as settled). The others are not read: nothing changed for them.
 */
async function settleAgreedConflicts(scope: RunScope, run: ActiveRun): Promise<void> {
	for (let after = 0; ;) {
		const page = await run.record.openConflictsUnseen(scope.t, run.def, after, 500);
		if (page.next === null) return;
		after = page.next;
		const agreed = page.rows.filter((c) => mayBeSettled(run.def, c)).map((c) => c.entity_id);
		if (agreed.length > 0) await processByIdLookup(scope, agreed);
	}
}

function massDeleteBlocked(settings: SyncSettings, wouldDelete: number, live: number): boolean {
	return wouldDelete > settings.massDeleteMinCount && wouldDelete / Math.max(live, 1) > settings.massDeleteMaxShare;
}

function massDeleteMessage(def: EntityDefinition, settings: SyncSettings, blocked: { wouldDelete: number; live: number }): string {
	return (
		`mass-delete guard: ServiceTitan no longer has ${blocked.wouldDelete} of ${blocked.live} ${def.type} (each looked up by id) ` +
		`(more than ${Math.round(settings.massDeleteMaxShare * 100)}%); nothing was deleted. If ServiceTitan really deleted them, run the full sync again with --confirm-mass-delete`
	);
}

/** Where a sweep's candidates come from: rows a whole listing did not return, or ids the export feed listed inactive. */
interface SweepSource {
	count(t: Task): Promise<{ candidates: number; live: number }>;
	after(t: Task, afterId: number, limit: number): Promise<number[]>;
}

function unseenIds(run: ActiveRun): SweepSource {
	return {
		count: async (t) => {
			const { unseen, live } = await run.record.countUnseen(t, run.def.table);
			return { candidates: unseen, live };
		},
		after: (t, afterId, limit) => run.record.unseenAfter(t, run.def.table, afterId, limit),
	};
}

function recheckedIds(run: ActiveRun): SweepSource {
	return {
		count: async (t) => ({ candidates: (await run.record.recheckAfter(t, 0, 1)).length, live: await countLive(t, run.def.table) }),
		after: (t, afterId, limit) => run.record.recheckAfter(t, afterId, limit),
	};
}

/**
 * Every candidate is looked up by id first: what ServiceTitan returns is applied (a listing can leave a live item
 * out; an inactive record in the export feed may be merely deactivated), and only what it does not return counts
 * as deleted there. The mass-delete guard weighs those confirmed deletes alone, before any is applied.
 */
async function sweep(
	settings: SyncSettings,
	scope: RunScope,
	run: ActiveRun,
	source: SweepSource,
): Promise<{ blocked?: RunResult['massDeleteBlocked']; found: number }> {
	const { t } = scope;
	const { candidates, live } = await source.count(t);
	if (candidates === 0) return { found: 0 };
	let found = 0;
	const missing: number[] = [];
	for (let after = 0; ;) {
		const batch = await source.after(t, after, 1000);
		if (batch.length === 0) break;
		after = batch[batch.length - 1];
		const outcome = await processByIdLookup(scope, batch, { deferMissing: true });
		found += outcome.found;
		missing.push(...outcome.missing);
	}
	if (massDeleteBlocked(settings, missing.length, live) && !run.confirmMassDelete) return { blocked: { wouldDelete: missing.length, live }, found };
	for (let i = 0; i < missing.length; i += SWEEP_BATCH) {
		await processBatch(
			scope,
			missing.slice(i, i + SWEEP_BATCH).map((id) => ({ id, st: null })),
		);
	}
	return { found };
}

/** Deletes applied per batch: a constant number of statements each. */
const SWEEP_BATCH = 1000;

/** A single-item run: ServiceTitan's record by id (none: deleted there), decided and applied. */
export async function applyEntity(deps: RunDeps, t: Task, run: ActiveRun, id: number): Promise<void> {
	const scope = stepScope(deps, t, run);
	scope.tally.pagesRead = 1;
	try {
		// A temporary id: a row inserted in Retool, created in ServiceTitan now (Retool's "after save" call).
		if (id < 0) {
			if (!(await rowExists(t, run.def.table, id))) throw new SyncFailure('not_found', `${run.def.singular} ${id} does not exist locally`);
			scope.tally.pagesRead = 0;
			await createLocalItems(scope, [id]);
			return;
		}
		const record = await scope.st.get(run.def.type, id);
		if (record) {
			scope.tally.itemsSeen = 1;
			const items = await prepareStItems(scope, [record]);
			if (items.length === 0)
				throw new SyncFailure('st_unavailable', `ServiceTitan's record of ${run.def.singular} ${id} is invalid (see the error log)`);
			await processBatch(scope, [{ id, st: items[0] }]);
			return;
		}
		if (!(await rowExists(t, run.def.table, id)))
			throw new SyncFailure('not_found', `${run.def.singular} ${id} exists neither in ServiceTitan nor locally`);
		await processBatch(scope, [{ id, st: null }]);
	} finally {
		await recordStep(t, run, scope.tally);
	}
}

export interface RunEnd {
	/** What failed the run, if anything did. */
	error?: unknown;
	massDeleteBlocked?: RunResult['massDeleteBlocked'];
}

/**
 * The cursor a successful listing run leaves (null: unchanged). Never past ServiceTitan's clock when the run began
 * listing (plus CLOCK_TOLERANCE_SECONDS): a stamp from its future is applied, but cannot pin the cursor, and what
 * changed while the run read is read again next time. A full run re-arms the cursor from what it saw; an
 * incremental one moves it forward only, and pulls back one left past ServiceTitan's clock.
 */
async function nextCursor(t: Task, run: ActiveRun, newest: string | null): Promise<string | null> {
	if (run.kind === 'entity' || !run.def.stamped) return null;
	const bound = run.stClockAtStart ? addSeconds(run.stClockAtStart, CLOCK_TOLERANCE_SECONDS) : null;
	const old = (await readSyncState(t, run.def.type)).cursor_raw;
	const normalizedOld = old ? normalizeStTimestamp(old) : null;
	let next =
		run.kind === 'full'
			? (newest ?? normalizedOld)
			: ([newest, normalizedOld]
					.filter((s): s is string => s !== null)
					.sort()
					.pop() ?? null);
	if (next && bound && next > bound) next = bound;
	return next === normalizedOld ? null : next;
}

/**
 * Ends a run: the ledger row gets its status, error and window; only a success moves the cursor (to the newest
 * stamp the run read) and resets the failure streak. What the run staged or remembered is dropped and its lease
 * released. The result is read back from the ledger, so every driver returns the same thing.
 */
export async function finishRun(deps: LedgerDeps, t: Task, run: ActiveRun, end: RunEnd): Promise<RunResult> {
	const blocked = end.massDeleteBlocked;
	const failure = end.error !== undefined ? errorMessage(end.error) : blocked ? massDeleteMessage(run.def, deps.settings, blocked) : undefined;
	const failureKind: FailureKind | undefined = end.error !== undefined ? failureKindOf(end.error) : blocked ? 'needs_confirmation' : undefined;
	if (end.error !== undefined) deps.log('error', `${run.def.type} ${run.kind} sync failed: ${failure}`);
	const at = deps.now();
	if (run.record instanceof MemoryRecord) return memoryResult(run, run.record, at, failure, failureKind);
	const runId = run.runId!;
	const details = { ...(blocked ? { massDeleteBlocked: blocked } : {}), ...(failureKind ? { failureKind } : {}) };
	const closed = await closeRun(t, runId, { status: failure ? 'failed' : 'succeeded', error: failure ?? null, details }, at);
	if (failure) await recordRunFailure(t, run.def.type, at);
	else await recordRunSuccess(t, run.def.type, run.kind, await nextCursor(t, run, closed.max_modified_on), at);
	// A single-entity run reads one item by id: it records no listing and stages no page, so it has none to drop.
	if (run.kind !== 'entity') {
		await forgetSeen(t, runId);
		await dropStagedPages(t, runId);
	}
	await releaseLease(t, run.def.type, runId);
	return resultFromLedger(closed);
}

function summaryOf(counts: Record<string, number> | undefined): Summary {
	return Object.fromEntries(CATEGORIES.map((c) => [c, counts?.[c] ?? 0])) as Summary;
}

/** A run's result from its ledger row: what every driver returns, and what a finish step run again returns. */
export function resultFromLedger(r: RunRow): RunResult {
	const details = r.details as { ranAsFullBecause?: string; massDeleteBlocked?: RunResult['massDeleteBlocked']; failureKind?: FailureKind };
	const status = r.status === 'succeeded' ? 'succeeded' : r.status === 'busy' ? 'busy' : 'failed';
	const failureKind = details.failureKind ?? (status === 'busy' ? 'busy' : status === 'failed' ? 'internal' : undefined);
	return {
		entityType: r.entity_type as EntityType,
		runId: r.id,
		kind: r.kind as SyncKind,
		...(details.ranAsFullBecause ? { ranAsFullBecause: details.ranAsFullBecause } : {}),
		dryRun: r.dry_run,
		success: status === 'succeeded',
		status,
		summary: summaryOf(r.counts),
		itemsSynced: r.items_synced,
		itemsPushed: r.items_pushed,
		pushes: { verified: r.pushes_verified, normalized: r.pushes_normalized, ignored: r.pushes_ignored },
		conflictsDetected: r.conflicts_detected,
		errors: r.errors_count,
		syncedAt: (r.finished_at ?? r.started_at).toISOString(),
		...(r.error ? { message: r.error } : {}),
		...(failureKind ? { failureKind } : {}),
		...(details.massDeleteBlocked ? { massDeleteBlocked: details.massDeleteBlocked } : {}),
	};
}

function memoryResult(run: ActiveRun, record: MemoryRecord, at: Date, failure: string | undefined, failureKind: FailureKind | undefined): RunResult {
	const tally = record.totals;
	return {
		entityType: run.def.type,
		runId: null,
		kind: run.kind,
		...(run.ranAsFullBecause ? { ranAsFullBecause: run.ranAsFullBecause } : {}),
		dryRun: true,
		success: !failure,
		status: failure ? 'failed' : 'succeeded',
		summary: { ...tally.summary },
		itemsSynced: tally.itemsSynced,
		itemsPushed: tally.itemsPushed,
		pushes: { ...tally.pushes },
		conflictsDetected: tally.conflictsDetected,
		errors: tally.errors,
		syncedAt: at.toISOString(),
		...(failure ? { message: failure, failureKind } : {}),
		...(tally.plan ? { plan: tally.plan } : {}),
	};
}

export function busyResult(request: Pick<RunRequest, 'entityType' | 'kind' | 'dryRun'>, runId: number | null, at: Date): RunResult {
	return {
		entityType: request.entityType,
		runId,
		kind: request.kind,
		dryRun: request.dryRun ?? false,
		success: false,
		status: 'busy',
		summary: summaryOf(undefined),
		itemsSynced: 0,
		itemsPushed: 0,
		pushes: noPushes(),
		conflictsDetected: 0,
		errors: 0,
		syncedAt: at.toISOString(),
		message: `another ${request.entityType} sync is running; try again when it has finished`,
		failureKind: 'busy',
	};
}
