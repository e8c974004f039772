import { entityDefinition } from '../entities/definitions';
import type { EntityType } from '../entities/types';
import { markBusy, readSyncState, recordBusyRun, startRun } from '../db/ledger';
import { LockIds, releaseLock, tryAcquireLock } from '../db/locks';
import { recordSeen, type Task } from '../db/pricebook-store';
import { failureKindOf } from '../failures';
import { subtractSeconds } from '../servicetitan/timestamps';
import type { StRecord } from '../servicetitan/types';
import { prepareStItems, processBatch, type BatchPhase, type RunScope, type StItem } from './apply';
import { CATEGORIES } from './categorize';
import { abandonRun, acquireLease, releaseLease, renewLease } from './lease';
import { busyResult, errorMessage, massDeleteMessage, pageItems, promotionReason, pushPending, recordOutcome, runResult, sweep, type RunOutcome } from './run-steps';
import type { RunDeps, RunResult } from './run-types';
import { Tally, type Summary } from './tally';

/**
 * A sync run split into steps that n8n runs as separate nodes (and possibly on different queue-mode workers):
 * start → fetch page → categorize → apply changes → store conflicts → next page … → finish. Between steps only a
 * small reference travels (run id, entity type, page number); the page itself and every counter live in
 * PostgreSQL, so an n8n execution keeps no pricebook rows and any step can run again without doing its work
 * twice. The lease in sync_state keeps runs of one entity type apart.
 */
export interface StagedRunRef {
	runId: number;
	entityType: EntityType;
	kind: 'full' | 'incremental';
	page: number;
}

export type StagedStart = { status: 'started'; ref: StagedRunRef; ranAsFullBecause?: string } | { status: 'busy'; result: RunResult };

interface RunRow {
	id: number;
	kind: 'full' | 'incremental';
	entity_type: EntityType;
	status: string;
	window_from: string | null;
	details: { confirmMassDelete?: boolean; ranAsFullBecause?: string; mode?: string; pageSize?: number };
}

interface StageRow {
	page: number;
	records: StRecord[];
	item_count: number;
	has_more: boolean;
	max_modified_on: string | null;
	applied: PhaseCounts | null;
	conflicts_stored: PhaseCounts | null;
	conflict_ids: (number | string)[] | null;
}

export interface PhaseCounts {
	summary: Summary;
	itemsSynced: number;
	itemsPushed: number;
	conflictsDetected: number;
}

function emptySummary(): Summary {
	return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Summary;
}

function phaseCounts(tally: Tally): PhaseCounts {
	return { summary: { ...tally.summary }, itemsSynced: tally.itemsSynced, itemsPushed: tally.itemsPushed, conflictsDetected: tally.conflictsDetected };
}

export async function startStagedRuns(
	deps: RunDeps,
	request: { entityTypes: readonly EntityType[]; kind: 'full' | 'incremental'; trigger?: string; confirmMassDelete?: boolean; since?: string; pageSize?: number },
): Promise<StagedStart[]> {
	const starts: StagedStart[] = [];
	for (const entityType of request.entityTypes) starts.push(await startOne(deps, { ...request, entityType }));
	return starts;
}

async function startOne(
	deps: RunDeps,
	request: { entityType: EntityType; kind: 'full' | 'incremental'; trigger?: string; confirmMassDelete?: boolean; since?: string; pageSize?: number },
): Promise<StagedStart> {
	const def = entityDefinition(request.entityType);
	const trigger = request.trigger ?? 'n8n';
	return deps.db.task('staged-start', async (t) => {
		const now = deps.now();
		const lockId = LockIds.entity[def.type];
		// The advisory lock only for the moment of starting: a library run holding it for its whole run means busy.
		if (!(await tryAcquireLock(t, lockId))) {
			const runId = await recordBusyRun(t, { kind: request.kind, entityType: def.type, trigger, dryRun: false }, now);
			return { status: 'busy', result: busyResult(request, runId, now, new Tally(false)) };
		}
		try {
			const ranAsFullBecause = await promotionReason(deps, t, { entityType: def.type, kind: request.kind, since: request.since });
			const kind = ranAsFullBecause ? 'full' : request.kind;
			const state = await readSyncState(t, def.type);
			const windowFrom = kind === 'incremental' ? (request.since ?? subtractSeconds(state.cursor_raw!, deps.settings.overlapSeconds)) : null;
			const details = {
				mode: 'staged',
				confirmMassDelete: request.confirmMassDelete ?? false,
				pageSize: request.pageSize ?? deps.settings.pageSize,
				...(ranAsFullBecause ? { ranAsFullBecause } : {}),
			};
			const runId = await startRun(t, { kind, entityType: def.type, trigger, dryRun: false, windowFrom, details }, now);
			const lease = await t.tx((tx) => acquireLease(tx, def.type, runId, 'staged', now, deps.settings.leaseTtlMs));
			if (!lease.granted) {
				await markBusy(t, runId, now);
				return { status: 'busy', result: busyResult({ ...request, kind }, runId, now, new Tally(false)) };
			}
			if (lease.abandonedRunId !== undefined) await abandonRun(t, def.type, lease.abandonedRunId, now);
			return { status: 'started', ref: { runId, entityType: def.type, kind, page: 1 }, ...(ranAsFullBecause ? { ranAsFullBecause } : {}) };
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

/** Loads the run, checks it still holds its lease (renewing it), and builds the scope the steps share. */
async function openRun(deps: RunDeps, t: Task, ref: StagedRunRef, tally: Tally): Promise<{ run: RunRow; scope: RunScope }> {
	const run = await t.oneOrNone<RunRow>('SELECT id, kind, entity_type, status, window_from, details FROM sync_runs WHERE id = $1', [ref.runId]);
	if (!run || run.entity_type !== ref.entityType) throw new Error(`run ${ref.runId} of ${ref.entityType} does not exist`);
	if (run.status !== 'running') throw new Error(`run ${ref.runId} is no longer running (status ${run.status})`);
	if (!(await renewLease(t, run.entity_type, run.id, deps.now(), deps.settings.leaseTtlMs))) {
		throw new Error(`run ${ref.runId} lost its lease (it stalled longer than ${Math.round(deps.settings.leaseTtlMs / 1000)} s and another run took over)`);
	}
	const def = entityDefinition(run.entity_type);
	return { run, scope: { def, t, st: deps.st, runId: run.id, dryRun: false, now: deps.now, tally, log: deps.log, pushConcurrency: deps.settings.pushConcurrency } };
}

export interface FetchedPage {
	ref: StagedRunRef;
	fetched: number;
	hasMore: boolean;
	totalCount: number | null;
}

/** Reads one page from ServiceTitan into sync_page_stage. Running it again for the same page reuses what was staged. */
export async function fetchStagedPage(deps: RunDeps, ref: StagedRunRef): Promise<FetchedPage> {
	return deps.db.task('staged-fetch', async (t) => {
		const { run, scope } = await openRun(deps, t, ref, new Tally(false));
		const staged = await t.oneOrNone<{ item_count: number; has_more: boolean }>('SELECT item_count, has_more FROM sync_page_stage WHERE run_id = $1 AND page = $2', [run.id, ref.page]);
		if (staged) return { ref, fetched: staged.item_count, hasMore: staged.has_more, totalCount: null };
		const data = await deps.st.listPage(run.entity_type, {
			page: ref.page,
			pageSize: run.details.pageSize ?? deps.settings.pageSize,
			active: 'Any',
			includeTotal: true,
			...(run.window_from ? { modifiedOnOrAfter: run.window_from } : {}),
		});
		const { items, maxModifiedOn, ids } = await pageItems(scope, data.data);
		await t.tx(async (tx) => {
			await tx.none(
				`INSERT INTO sync_page_stage (run_id, page, records, item_count, has_more, max_modified_on) VALUES ($1, $2, $3::json, $4, $5, $6)
				 ON CONFLICT (run_id, page) DO NOTHING`,
				[run.id, ref.page, JSON.stringify(items.map((i) => i.record)), data.data.length, data.hasMore, maxModifiedOn],
			);
			if (run.kind === 'full') await recordSeen(tx, run.id, ids);
			await tx.none('UPDATE sync_runs SET pages_read = pages_read + 1, items_seen = items_seen + $2 WHERE id = $1', [run.id, data.data.length]);
		});
		deps.onProgress?.({ entityType: run.entity_type, kind: run.kind, pagesRead: ref.page, itemsSeen: data.data.length, totalCount: data.totalCount ?? null });
		return { ref, fetched: data.data.length, hasMore: data.hasMore, totalCount: data.totalCount ?? null };
	});
}

/** The staged records of a page (or of some of its ids), validated again only to rebuild canonical forms. */
async function stagedItems(scope: RunScope, t: Task, ref: StagedRunRef, onlyIds?: readonly number[]): Promise<StItem[]> {
	const records = await t.any<{ r: StRecord }>(
		`SELECT r FROM sync_page_stage s, json_array_elements(s.records) r
		 WHERE s.run_id = $1 AND s.page = $2 AND ($3::bigint[] IS NULL OR (r ->> 'id')::bigint = ANY($3::bigint[]))`,
		[ref.runId, ref.page, onlyIds ?? null],
	);
	// Logged when fetched; a dry scope here logs nothing twice.
	return prepareStItems({ ...scope, dryRun: true }, records.map((x) => x.r));
}

async function stageState(t: Task, ref: StagedRunRef): Promise<Omit<StageRow, 'records'>> {
	const stage = await t.oneOrNone<Omit<StageRow, 'records'>>(
		'SELECT page, item_count, has_more, max_modified_on, applied, conflicts_stored, conflict_ids FROM sync_page_stage WHERE run_id = $1 AND page = $2',
		[ref.runId, ref.page],
	);
	if (!stage) throw new Error(`page ${ref.page} of run ${ref.runId} was not fetched: run ST Fetch Page first`);
	return stage;
}

/** What each item of a staged page would become, without writing anything (the categorize step). */
export async function categorizeStagedPage(deps: RunDeps, ref: StagedRunRef): Promise<{ ref: StagedRunRef; summary: Summary; items: number }> {
	return deps.db.task('staged-categorize', async (t) => {
		const tally = new Tally(false);
		const { scope } = await openRun(deps, t, ref, tally);
		await stageState(t, ref);
		const items = await stagedItems(scope, t, ref);
		await processBatch({ ...scope, dryRun: true }, items.map((i) => ({ id: i.id, st: i })));
		return { ref, summary: tally.summary, items: items.length };
	});
}

/**
 * Applies one phase of a staged page, once: 'changes' (create, update, soft-delete, push), which also notes the
 * items it left as conflicts, then 'conflicts', which decides just those again and stores them. Running a phase
 * again returns what it did the first time.
 */
export async function applyStagedPage(deps: RunDeps, ref: StagedRunRef, phase: Exclude<BatchPhase, 'all'>): Promise<{ ref: StagedRunRef; counts: PhaseCounts; alreadyDone: boolean }> {
	const column = phase === 'changes' ? 'applied' : 'conflicts_stored';
	return deps.db.task('staged-apply', async (t) => {
		const tally = new Tally(false);
		const { scope } = await openRun(deps, t, ref, tally);
		const stage = await stageState(t, ref);
		const done = stage[column];
		if (done) return { ref, counts: done, alreadyDone: true };
		const outOfPhase: number[] = [];
		// The conflicts phase needs only what the changes phase left; without that note (changes not run yet), all.
		const onlyIds = phase === 'conflicts' && stage.conflict_ids ? stage.conflict_ids.map(Number) : undefined;
		if (onlyIds === undefined || onlyIds.length > 0) {
			const items = await stagedItems(scope, t, ref, onlyIds);
			await processBatch(scope, items.map((i) => ({ id: i.id, st: i })), { phase, outOfPhase });
		}
		const counts = phaseCounts(tally);
		await t.none('UPDATE sync_page_stage SET $3:name = $4, $5:name = now(), conflict_ids = COALESCE($6::bigint[], conflict_ids) WHERE run_id = $1 AND page = $2', [
			ref.runId,
			ref.page,
			column,
			counts,
			`${column}_at`,
			phase === 'changes' ? outOfPhase : null,
		]);
		return { ref, counts, alreadyDone: false };
	});
}

/**
 * Ends a staged run: checks every page was fetched and applied, then (full) soft-deletes what ServiceTitan no
 * longer lists, or (incremental) pushes local edits ServiceTitan did not change; records the outcome, moves the
 * cursor on success, drops the staged pages and releases the lease. Finishing a finished run returns its result.
 */
export async function finishStagedRun(deps: RunDeps, ref: StagedRunRef): Promise<RunResult> {
	return deps.db.task('staged-finish', async (t) => {
		const existing = await t.oneOrNone<{ status: string }>('SELECT status FROM sync_runs WHERE id = $1', [ref.runId]);
		if (existing && existing.status !== 'running') return resultFromLedger(t, ref.runId);
		const tally = new Tally(false);
		const { run, scope } = await openRun(deps, t, ref, tally);
		const def = scope.def;
		const stages = await t.any<Omit<StageRow, 'records' | 'conflict_ids'> & { ids: number[] }>(
			`SELECT page, item_count, has_more, max_modified_on, applied, conflicts_stored,
			   ARRAY(SELECT (r ->> 'id')::bigint FROM json_array_elements(records) r) AS ids
			 FROM sync_page_stage WHERE run_id = $1 ORDER BY page`,
			[run.id],
		);
		const outcome: RunOutcome = { kind: run.kind, ranAsFullBecause: run.details.ranAsFullBecause, cursor: null };
		for (const s of stages) {
			for (const counts of [s.applied, s.conflicts_stored]) {
				if (!counts) continue;
				for (const c of CATEGORIES) tally.summary[c] += counts.summary[c] ?? 0;
				tally.itemsSynced += counts.itemsSynced;
				tally.itemsPushed += counts.itemsPushed;
				tally.conflictsDetected += counts.conflictsDetected;
			}
			if (s.max_modified_on && (!outcome.cursor || s.max_modified_on > outcome.cursor)) outcome.cursor = s.max_modified_on;
		}
		try {
			const complete = stages.length > 0 && stages.every((s, i) => s.page === i + 1 && s.applied && s.conflicts_stored) && !stages[stages.length - 1].has_more;
			if (!complete) throw new Error('the run ended before every page was fetched and applied; nothing was deleted and the cursor did not move');
			if (run.kind === 'full') {
				outcome.massDeleteBlocked = await sweep(deps.settings, scope, run.details.confirmMassDelete ?? false);
				if (outcome.massDeleteBlocked) outcome.failure = massDeleteMessage(def, deps.settings, outcome.massDeleteBlocked);
			} else {
				const staged = new Set(stages.flatMap((s) => s.ids.map(Number)));
				await pushPending(scope, (id) => staged.has(id));
			}
		} catch (error) {
			outcome.failure = errorMessage(error);
			outcome.failureKind = failureKindOf(error);
			deps.log('error', `${def.type} ${run.kind} sync failed: ${outcome.failure}`);
		}
		const { n: errors } = await t.one<{ n: number }>('SELECT count(*)::int AS n FROM sync_error_log WHERE run_id = $1', [run.id]);
		tally.errors = errors;
		const progress = await t.one<{ pages_read: number; items_seen: number }>('SELECT pages_read, items_seen FROM sync_runs WHERE id = $1', [run.id]);
		tally.pagesRead = progress.pages_read;
		tally.itemsSeen = progress.items_seen;
		const at = deps.now();
		await recordOutcome(t, def, run.id, outcome, tally.progress(), at);
		await t.none('DELETE FROM sync_page_stage WHERE run_id = $1', [run.id]);
		await releaseLease(t, def.type, run.id);
		return runResult(def, run.id, false, outcome, tally, at);
	});
}

async function resultFromLedger(t: Task, runId: number): Promise<RunResult> {
	const r = await t.one('SELECT * FROM sync_runs WHERE id = $1', [runId]);
	const summary = { ...emptySummary(), ...r.counts };
	return {
		entityType: r.entity_type,
		runId: r.id,
		kind: r.kind,
		...(r.details?.ranAsFullBecause ? { ranAsFullBecause: r.details.ranAsFullBecause } : {}),
		dryRun: r.dry_run,
		success: r.status === 'succeeded',
		status: r.status === 'succeeded' ? 'succeeded' : r.status === 'busy' ? 'busy' : 'failed',
		summary,
		itemsSynced: r.items_synced,
		itemsPushed: r.items_pushed,
		conflictsDetected: r.conflicts_detected,
		errors: r.errors_count,
		syncedAt: (r.finished_at ?? r.started_at).toISOString(),
		...(r.error ? { message: r.error } : {}),
		...(r.status === 'succeeded' ? {} : { failureKind: r.status === 'busy' ? 'busy' : (r.details?.failureKind ?? 'internal') }),
		...(r.details?.massDeleteBlocked ? { massDeleteBlocked: r.details.massDeleteBlocked } : {}),
	};
}
