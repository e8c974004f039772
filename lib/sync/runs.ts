import { entityDefinition } from '../entities/definitions';
import { markBusy, readSyncState, recordBusyRun, saveRunProgress, startRun, type RunKind } from '../db/ledger';
import { LockIds, releaseLock, tryAcquireLock } from '../db/locks';
import { recordSeen, type Task } from '../db/pricebook-store';
import { failureKindOf, SyncFailure } from '../failures';
import { subtractSeconds } from '../servicetitan/timestamps';
import { processBatch, type RunScope } from './apply';
import { abandonRun, acquireLease, releaseLease } from './lease';
import {
	busyResult,
	entityRun,
	errorMessage,
	massDeleteMessage,
	pageItems,
	promotionReason,
	pushPending,
	recordOutcome,
	runResult,
	sweep,
	type RunOutcome,
} from './run-steps';
import type { RunDeps, RunRequest, RunResult, SyncKind } from './run-types';
import { Tally } from './tally';

export * from './run-types';

/**
 * Runs one sync of one entity type in this process. Runs of the same type never overlap: an advisory lock held on
 * the run's own connection (and the lease that n8n's multi-node runs respect); a second run reports busy at once.
 * Each page is applied in its own transaction and is complete in itself, so a run that fails or dies leaves
 * nothing half-applied; the cursor moves only when the run succeeded.
 */
export async function runSync(deps: RunDeps, request: RunRequest): Promise<RunResult> {
	const def = entityDefinition(request.entityType);
	const dryRun = request.dryRun ?? false;
	return deps.db.task('sync-run', async (t) => {
		const lockId = LockIds.entity[def.type];
		const startedAt = deps.now();
		const busy = async () => {
			const runId = dryRun ? null : await recordBusyRun(t, { kind: request.kind, entityType: def.type, trigger: request.trigger ?? 'cli', dryRun }, startedAt);
			return busyResult(request, runId, startedAt, new Tally(false));
		};
		if (!(await tryAcquireLock(t, lockId))) return busy();
		try {
			return await runLocked(deps, t, request, dryRun);
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

async function runLocked(deps: RunDeps, t: Task, request: RunRequest, dryRun: boolean): Promise<RunResult> {
	const def = entityDefinition(request.entityType);
	const ranAsFullBecause = await promotionReason(deps, t, request);
	const kind: SyncKind = ranAsFullBecause ? 'full' : request.kind;
	const state = await readSyncState(t, def.type);
	const windowFrom = kind === 'incremental' ? (request.since ?? subtractSeconds(state.cursor_raw!, deps.settings.overlapSeconds)) : null;
	const trigger = request.trigger ?? 'cli';
	const runId = dryRun
		? null
		: await startRun(t, { kind: kind as RunKind, entityType: def.type, trigger, dryRun, windowFrom, details: { mode: 'library', ...(ranAsFullBecause ? { ranAsFullBecause } : {}) } }, deps.now());
	if (runId !== null) {
		// A multi-node n8n run of this type may be under way: it holds the lease, not the advisory lock.
		const lease = await t.tx((tx) => acquireLease(tx, def.type, runId, 'library', deps.now(), deps.settings.leaseTtlMs));
		if (!lease.granted) {
			await markBusy(t, runId, deps.now());
			return busyResult(request, runId, deps.now(), new Tally(false));
		}
		if (lease.abandonedRunId !== undefined) await abandonRun(t, def.type, lease.abandonedRunId, deps.now());
	}
	const tally = new Tally(dryRun);
	const scope: RunScope = { def, t, st: deps.st, runId, dryRun, now: deps.now, tally, log: deps.log, pushConcurrency: deps.settings.pushConcurrency };
	if (ranAsFullBecause) deps.log('info', `${def.type}: running a full sync: ${ranAsFullBecause}`);

	const outcome: RunOutcome = { kind, ranAsFullBecause, cursor: null };
	try {
		if (kind === 'entity') {
			if (request.entityId === undefined) throw new SyncFailure('validation', 'an entity run needs an id');
			await entityRun(scope, request.entityId);
		} else {
			const seen = new Set<number>();
			for await (const page of deps.st.iteratePages(def.type, { pageSize: deps.settings.pageSize, active: 'Any', includeTotal: true, ...(windowFrom ? { modifiedOnOrAfter: windowFrom } : {}) })) {
				const { items, maxModifiedOn, ids } = await pageItems(scope, page.data);
				if (maxModifiedOn && (!outcome.cursor || maxModifiedOn > outcome.cursor)) outcome.cursor = maxModifiedOn;
				// A listing over a changing set can repeat an item on two pages: applying twice is harmless, counting twice is not.
				const fresh = items.filter((i) => !seen.has(i.id));
				for (const id of ids) seen.add(id);
				await processBatch(scope, fresh.map((i) => ({ id: i.id, st: i })));
				// Every id listed, invalid records included (ST has them), so the sweep deletes none of them.
				if (kind === 'full' && runId !== null) await recordSeen(t, runId, ids);
				tally.pagesRead++;
				tally.itemsSeen += page.data.length;
				if (runId !== null) await saveRunProgress(t, runId, tally.progress());
				deps.onProgress?.({ entityType: def.type, kind, pagesRead: tally.pagesRead, itemsSeen: tally.itemsSeen, totalCount: page.totalCount ?? null });
			}
			if (kind === 'full') outcome.massDeleteBlocked = await sweep(deps.settings, scope, request.confirmMassDelete ?? false, seen);
			else await pushPending(scope, (id) => seen.has(id));
		}
		if (outcome.massDeleteBlocked) outcome.failure = massDeleteMessage(def, deps.settings, outcome.massDeleteBlocked);
	} catch (error) {
		outcome.failure = errorMessage(error);
		outcome.failureKind = failureKindOf(error);
		deps.log('error', `${def.type} ${kind} sync failed: ${outcome.failure}`);
	}
	const finishedAt = deps.now();
	if (runId !== null) {
		await recordOutcome(t, def, runId, outcome, tally.progress(), finishedAt);
		await releaseLease(t, def.type, runId);
	}
	return runResult(def, runId, dryRun, outcome, tally, finishedAt);
}
