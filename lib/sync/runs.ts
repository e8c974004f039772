import { readAhead } from '../util/read-ahead';
import { entityDefinition } from '../entities/definitions';
import { LockIds, releaseLock, tryAcquireLock } from '../db/locks';
import type { Task } from '../db/pricebook-store';
import { SyncFailure } from '../failures';
import {
	applyEntity,
	applyPage,
	beginRun,
	completeListing,
	finishRun,
	listingPages,
	openListing,
	readListingPage,
	recordBusy,
	type ActiveRun,
	type RunEnd,
} from './run-lifecycle';
import type { RunDeps, RunRequest, RunResult } from './run-types';

export * from './run-types';

/**
 * The library's driver of the run lifecycle (run-lifecycle.ts): one run of one entity type in this process, page
 * after page. Runs of the same type never overlap: the advisory lock is held on the run's own connection for the
 * whole run (and the lease that n8n's multi-step runs respect); a second run reports busy at once. Each page is
 * applied in its own transactions and is complete in itself, so a run that fails or dies leaves nothing
 * half-applied; the cursor moves only when the run succeeded.
 */
export async function runSync(deps: RunDeps, request: RunRequest): Promise<RunResult> {
	const lockId = LockIds.entity[entityDefinition(request.entityType).type];
	return deps.db.task('sync-run', async (t) => {
		if (!(await tryAcquireLock(t, lockId))) return recordBusy(deps, t, request);
		try {
			const begun = await beginRun(deps, t, request, 'library');
			if (begun.status === 'busy') return begun.result;
			// Awaited here, not returned as a promise: the lock is released only after the run has finished.
			return await finishRun(deps, t, begun.run, await drive(deps, t, begun.run, request));
		} finally {
			await releaseLock(t, lockId);
		}
	});
}

async function drive(deps: RunDeps, t: Task, run: ActiveRun, request: RunRequest): Promise<RunEnd> {
	try {
		if (run.kind === 'entity') {
			if (request.entityId === undefined) throw new SyncFailure('validation', 'an entity run needs an id', 'entityId');
			await applyEntity(deps, t, run, request.entityId);
			return {};
		}
		let pagesRead = 0;
		let itemsSeen = 0;
		await openListing(deps, t, run);
		// The next page is fetched while this one is written (the n8n steps fetch one page per node instead).
		for await (const page of readAhead(listingPages(deps, run))) {
			const { items } = await readListingPage(deps, t, run, page);
			await applyPage(deps, t, run, items);
			pagesRead += 1;
			itemsSeen += page.data.length;
			deps.onProgress?.({ entityType: run.def.type, kind: run.kind, pagesRead, itemsSeen, totalCount: page.totalCount ?? null });
		}
		// Only when someone listens: the progress of the pushes costs a COUNT of the backlog first.
		const { onProgress } = deps;
		const pushed =
			onProgress &&
			((editsPushed: number, editsToPush: number) =>
				onProgress({ entityType: run.def.type, kind: run.kind, pagesRead, itemsSeen, totalCount: null, editsPushed, editsToPush }));
		return { massDeleteBlocked: await completeListing(deps, t, run, pushed) };
	} catch (error) {
		return { error };
	}
}
