import { runningRunsOfExecution } from '../db/ledger';
import type { EntityType } from '../entities/types';
import { SyncFailure, type FailureKind } from '../failures';
import { finishedRun, finishRun, resumeRun, type LedgerDeps } from './run-lifecycle';
import type { RunDeps, RunResult } from './run-types';
import { forgetStagedItems } from './stage-cache';

/**
 * Closing the runs of a failed n8n step. A step node that throws stops its execution, but its run would stay
 * 'running' and keep its lease until the lease expired (10 minutes): every run meanwhile answered busy, and status
 * showed the last success as current with the cause recorded nowhere. The Fail Sync Run node, on the steps' error
 * outputs, hands the failure here: the run the failed item belonged to ends through finishRun with that cause, as
 * a failed library run does (status, error, failure kind, failure streak, lease released, staged pages dropped),
 * and so does every other run the same execution still holds, which the execution would otherwise leave behind
 * when it stops.
 */
export interface StepFailure {
	/** The run of the failed item; none when the step had no run yet (Start Sync Run itself failed). */
	run?: { runId: number; entityType: EntityType };
	/** The cause, as the failed step reported it. */
	message: string;
	failureKind: FailureKind;
	/** The node that failed, named in the error of the runs closed with it. */
	step?: string;
}

export interface FailedRun {
	result: RunResult;
	/** Closed because another run of its execution failed, not by a failure of its own. */
	stopped: boolean;
}

export type FailDeps = LedgerDeps & Pick<RunDeps, 'db'>;

/**
 * Closes, as failed, the runs of `failures` and then every run `execution` still holds, and returns what it
 * closed. A run that has already finished, or that another run took over, is left as it is; what a run counted
 * before it failed stays in its ledger row.
 */
export async function failStagedRuns(deps: FailDeps, request: { execution?: string; failures: readonly StepFailure[] }): Promise<FailedRun[]> {
	const closed: FailedRun[] = [];
	const seen = new Set<number>();
	for (const failure of request.failures) {
		if (!failure.run || seen.has(failure.run.runId)) continue;
		seen.add(failure.run.runId);
		const result = await failRun(deps, failure.run, new SyncFailure(failure.failureKind, failure.message));
		if (result) closed.push({ result, stopped: false });
	}
	const first = request.failures[0];
	if (!request.execution || !first) return closed;
	const others = await deps.db.task('staged-fail-execution', (t) => runningRunsOfExecution(t, request.execution!));
	for (const other of others) {
		if (seen.has(other.id)) continue;
		const result = await failRun(
			deps,
			{ runId: other.id, entityType: other.entity_type as EntityType },
			new SyncFailure(first.failureKind, stoppedBy(first)),
		);
		if (result) closed.push({ result, stopped: true });
	}
	return closed;
}

function stoppedBy(failure: StepFailure): string {
	const where = failure.run ? ` on ${failure.run.entityType} run ${failure.run.runId}` : '';
	return `stopped with its n8n execution: ${failure.step ?? 'a step'} failed${where}: ${failure.message}`;
}

/** Ends one run with `error`, unless it is no longer this run's to end (finished, taken over, unknown). */
async function failRun(deps: FailDeps, ref: { runId: number; entityType: EntityType }, error: SyncFailure): Promise<RunResult | null> {
	return deps.db.task('staged-fail', async (t) => {
		if (await finishedRun(t, ref.runId)) return null;
		let run;
		try {
			// Renews the lease only if the run still holds it: a run another one took over is not touched.
			run = await resumeRun(deps, t, ref);
		} catch (e) {
			if (e instanceof SyncFailure && (e.kind === 'busy' || e.kind === 'stale' || e.kind === 'not_found')) return null;
			throw e;
		}
		forgetStagedItems(ref.runId);
		return finishRun(deps, t, run, { error });
	});
}

/** What failStagedRuns did, in a sentence for the person looking at the failed execution. */
export function describeFailedRuns(closed: readonly FailedRun[]): string {
	const name = (r: FailedRun) => `${r.result.entityType} run ${r.result.runId}`;
	const own = closed.filter((r) => !r.stopped).map(name);
	const stopped = closed.filter((r) => r.stopped).map(name);
	if (own.length === 0 && stopped.length === 0) return 'No run of this execution was left running.';
	const parts = [
		...(own.length > 0 ? [`Recorded with this cause as failed: ${own.join(', ')}`] : []),
		...(stopped.length > 0 ? [`stopped with it, recorded as failed: ${stopped.join(', ')}`] : []),
	];
	return `${parts.join('; ')}. Their leases are released: the next run starts normally.`;
}
