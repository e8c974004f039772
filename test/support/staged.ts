import type { EntityType } from '../../lib/entities/types';
import type { RunDeps, RunResult } from '../../lib/sync/run-types';
import { applyStagedPage, categorizeStagedPage, fetchStagedPage, finishStagedRun, startStagedRuns } from '../../lib/sync/staged-run';

/** Drives a staged run the way the n8n flow does: start, then fetch/categorize/apply/store per page, then finish. */
export async function runStaged(
	deps: RunDeps,
	kind: 'full' | 'incremental',
	entityTypes: EntityType[],
	options: { confirmMassDelete?: boolean } = {},
): Promise<RunResult[]> {
	const results: RunResult[] = [];
	for (const start of await startStagedRuns(deps, { kind, entityTypes, trigger: 'test', ...options })) {
		if (start.status === 'busy') {
			results.push(start.result);
			continue;
		}
		let ref = start.ref;
		for (;;) {
			const fetched = await fetchStagedPage(deps, ref);
			await categorizeStagedPage(deps, ref);
			await applyStagedPage(deps, ref, 'changes');
			await applyStagedPage(deps, ref, 'conflicts');
			if (!fetched.hasMore) break;
			ref = { ...ref, page: ref.page + 1 };
		}
		results.push(await finishStagedRun(deps, ref));
	}
	return results;
}
