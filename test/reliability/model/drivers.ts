import { describeUndo } from '../../../cli/commands/undo';
import { parseUndoRequest } from '../../../lib/api/requests';
import { answerForUndo } from '../../../lib/api/responses';
import { entityDefinition } from '../../../lib/entities/definitions';
import { failureOfRun } from '../../../lib/failures';
import { retentionDaysOf } from '../../../lib/retention';
import { isStApiError } from '../../../lib/servicetitan/errors';
import type { EntityType } from '../../../lib/servicetitan/types';
import type { RunResult, SyncKind } from '../../../lib/sync/run-types';
import {
	applyStagedPage,
	categorizeStagedPage,
	fetchStagedPage,
	finishStagedRun,
	startStagedRuns,
	type FetchedPage,
	type StagedRunRef,
} from '../../../lib/sync/staged-run';
import { DEFAULT_UNDO_RETENTION_DAYS, undoRun, type UndoResult } from '../../../lib/sync/undo';
import type { Figures } from './figures';
import { InvariantViolation } from './invariant';
import type { ScenarioWorld } from './world';

/**
 * The two ways a run exists: the library's (SyncEngine.run, one process runs it all, as the CLI and the entity
 * webhook do) and n8n's (one node per step, each a call of lib/sync/staged-run.ts, as the scheduled workflows run).
 */
export type Driver = 'library' | 'n8n';
export const DRIVERS: readonly Driver[] = ['library', 'n8n'];

/** The n8n steps after Start Sync Run, each a node of its own that n8n may run a second time. */
export type StagedStep = 'fetch' | 'categorize' | 'changes' | 'conflicts' | 'finish';
export const STAGED_STEPS: readonly StagedStep[] = ['fetch', 'categorize', 'changes', 'conflicts', 'finish'];

/** n8n runs this step twice (a retried node): on this page, or on the last one when the run has fewer. */
export interface StepRerun {
	step: StagedStep;
	page: number;
}

export interface RunRequest {
	entityType: EntityType;
	kind: SyncKind;
	confirmMassDelete: boolean;
	entityId?: number;
}

/**
 * How a run ended: with a result (the run reported succeeded, failed or busy), or by dying, i.e. its process was
 * killed (a crash) or, on n8n, a step node failed (the execution stops there; the run's lease stays).
 */
export type RunEnd = { result: RunResult; died?: undefined } | { result?: undefined; died: 'crash' | 'step failed'; error: unknown };

export async function runWithDriver(
	driver: Driver,
	world: ScenarioWorld,
	request: RunRequest,
	rerun: StepRerun | undefined,
	figures: Figures,
	label: string,
): Promise<RunEnd> {
	try {
		if (driver === 'library') return { result: await world.engine.run({ ...request, trigger: 'model' }) };
		if (request.kind === 'entity') throw new Error('entity runs exist only on the library path');
		return { result: await runStaged(world, { ...request, kind: request.kind }, rerun, figures, label) };
	} catch (error) {
		if (error instanceof InvariantViolation) throw error;
		if (world.st.crashed) return { died: 'crash', error };
		// Only a killed process may end a library run by throwing; otherwise the run must answer with its status.
		// An n8n step node fails when ServiceTitan does (the execution stops and reports the node's error).
		if (driver === 'n8n' && isStApiError(error)) return { died: 'step failed', error };
		throw error;
	}
}

/** Exactly what the scheduled workflow does (test/support/staged.ts), one step function per n8n node. */
async function runStaged(
	world: ScenarioWorld,
	request: RunRequest & { kind: 'full' | 'incremental' },
	rerun: StepRerun | undefined,
	figures: Figures,
	label: string,
): Promise<RunResult> {
	const deps = world.n8nDeps;
	const [start] = await startStagedRuns(deps, {
		entityTypes: [request.entityType],
		kind: request.kind,
		trigger: 'model',
		confirmMassDelete: request.confirmMassDelete,
	});
	if (start.status === 'busy') return start.result;
	let ref = start.ref;
	// A node n8n runs again gets the same input: the same run reference (and page).
	const step = async <T>(
		name: StagedStep,
		call: () => Promise<T>,
		same: (first: T, again: T) => string | undefined,
		lastPage: (first: T) => boolean,
	): Promise<T> => {
		const first = await call();
		const twice = rerun?.step === name && (name === 'finish' || rerun.page === ref.page || (lastPage(first) && rerun.page > ref.page));
		if (twice) await expectStepRerunChangesNothing(world, ref, name, first, call, same, figures, label);
		return first;
	};
	for (;;) {
		const fetched = await step(
			'fetch',
			() => fetchStagedPage(deps, ref),
			(a, b) => differs(fetchFacts(a), fetchFacts(b)),
			(f) => !f.hasMore,
		);
		const last = () => !fetched.hasMore;
		await step('categorize', () => categorizeStagedPage(deps, ref), differs, last);
		for (const phase of ['changes', 'conflicts'] as const) {
			await step(
				phase,
				() => applyStagedPage(deps, ref, phase),
				(a, b) => (b.alreadyDone ? differs(a.counts, b.counts) : 'it did its work again (alreadyDone false)'),
				last,
			);
		}
		if (!fetched.hasMore) break;
		ref = { ...ref, page: ref.page + 1 };
	}
	return step(
		'finish',
		() => finishStagedRun(deps, ref),
		(a, b) => differs(resultFacts(a), resultFacts(b)),
		() => true,
	);
}

/** JSON with keys sorted: a counter read back from PostgreSQL's jsonb has its keys in another order. */
function sortedJson(value: unknown): string {
	return JSON.stringify(value, (_key, v: unknown) =>
		v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
	);
}

function differs(first: unknown, again: unknown): string | undefined {
	const a = sortedJson(first);
	const b = sortedJson(again);
	return a === b ? undefined : `it answered ${b}, the first time ${a}`;
}

/** A fetch again says nothing of ServiceTitan's answer (total, top-level entries): it does not ask ServiceTitan again. */
function fetchFacts(f: FetchedPage): Pick<FetchedPage, 'ref' | 'fetched' | 'hasMore' | 'source'> {
	return { ref: f.ref, fetched: f.fetched, hasMore: f.hasMore, source: f.source };
}

/** What a run reports, without what a finished run cannot know again (the ledger keeps these). */
function resultFacts(r: RunResult): Partial<RunResult> {
	const { runId, kind, status, success, summary, itemsSynced, itemsPushed, conflictsDetected, errors, syncedAt, message, massDeleteBlocked } = r;
	return { runId, kind, status, success, summary, itemsSynced, itemsPushed, conflictsDetected, errors, syncedAt, message, massDeleteBlocked };
}

/** Everything a step could write: the pricebook table, conflicts, logs, the run's ledger row, its pages, the sync state. */
async function stagedState(world: ScenarioWorld, ref: StagedRunRef): Promise<string[]> {
	const db = world.lane.t.db;
	const parts = await Promise.all([
		db.any('SELECT to_jsonb(t) AS row FROM $1:name t ORDER BY id', [entityDefinition(ref.entityType).table]),
		db.any('SELECT to_jsonb(c) AS row FROM sync_conflicts c ORDER BY id'),
		db.any(
			'SELECT (SELECT count(*) FROM sync_change_log) AS changes, (SELECT count(*) FROM sync_error_log) AS errors, (SELECT count(*) FROM sync_run_seen WHERE run_id = $1) AS seen',
			[ref.runId],
		),
		db.any('SELECT to_jsonb(r) AS row FROM sync_runs r WHERE id = $1', [ref.runId]),
		db.any('SELECT to_jsonb(s) AS row FROM sync_page_stage s WHERE run_id = $1 ORDER BY page', [ref.runId]),
		db.any('SELECT to_jsonb(s) AS row FROM sync_state s WHERE entity_type = $1', [ref.entityType]),
	]);
	return parts.flat().map((x) => JSON.stringify(x));
}

/** n8n ran a node again: it must answer as the first time and change nothing, in PostgreSQL or ServiceTitan. */
async function expectStepRerunChangesNothing<T>(
	world: ScenarioWorld,
	ref: StagedRunRef,
	name: StagedStep,
	first: T,
	call: () => Promise<T>,
	same: (first: T, again: T) => string | undefined,
	figures: Figures,
	label: string,
): Promise<void> {
	const where = `after ${label}: running ${name} (page ${ref.page}) again`;
	const before = await stagedState(world, ref);
	const calls = world.st.callCount;
	let again: T;
	try {
		again = await call();
	} catch (error) {
		throw new InvariantViolation(`${where} failed: ${error instanceof Error ? error.message : String(error)}`);
	}
	const problems: string[] = [];
	const answer = same(first, again);
	if (answer) problems.push(answer);
	if (world.st.callCount !== calls) problems.push(`it made ${world.st.callCount - calls} more ServiceTitan call(s)`);
	const after = await stagedState(world, ref);
	const i = after.findIndex((x, k) => x !== before[k]);
	if (i >= 0 || after.length !== before.length) problems.push(`it changed the database:\n    before ${before[i]}\n    after  ${after[i]}`);
	if (problems.length > 0) throw new InvariantViolation(`${where}: ${problems.join('; ')}`);
	figures.stepReruns[name] = (figures.stepReruns[name] ?? 0) + 1;
}

/**
 * An undo as each path asks for it: the CLI's `pricebook-sync undo <run> --by <user>` (its retention window from
 * the environment, its answer printed by describeUndo), or the Undo Sync Run node's calls (the request parsed as
 * the node parses its parameters, the node's default window, a failed undo failing the node). Both with the
 * scenario's clock and interfering ServiceTitan. Refusals are thrown, as both paths throw them; a failed undo is
 * returned (the CLI exits non-zero with it, the node fails on it), so the model can read what it did.
 */
export async function undoWithDriver(driver: Driver, world: ScenarioWorld, runId: number, by: string): Promise<UndoResult> {
	const deps = { db: world.lane.engineDb, st: world.st, now: () => new Date(world.localNow()), lockWaitMs: 5000 };
	if (driver === 'library') {
		const result = await undoRun({ ...deps, retentionDays: retentionDaysOf({}) }, { runId, by, dryRun: false, trigger: 'cli' });
		if (!describeUndo(result).startsWith(result.message))
			throw new InvariantViolation(`the CLI's answer to the undo of run ${runId} does not lead with its message`);
		return result;
	}
	const request = parseUndoRequest({ runId: String(runId) }, { by, dryRun: false });
	const result = await undoRun({ ...deps, retentionDays: DEFAULT_UNDO_RETENTION_DAYS }, { ...request, trigger: 'model' });
	// As items, an undo that failed part-way fails the node (its run is in the ledger; the model reads it there).
	if ((failureOfRun(result) !== undefined) !== (result.status === 'failed'))
		throw new InvariantViolation(`the Undo Sync Run node would ${result.status === 'failed' ? 'pass' : 'fail'} on a ${result.status} undo of run ${runId}`);
	answerForUndo(result);
	return result;
}
