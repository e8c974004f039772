import type { IDataObject } from 'n8n-workflow';
import { choiceOf, entityTypeOf, SyncValidationError, type StagedRunRef } from '../../lib';

/** The run reference that travels between the scheduled-flow nodes (never the page data itself). */
export function readRunRef(json: IDataObject): StagedRunRef {
	const { runId, entityType, kind, page } = json;
	if (typeof runId !== 'number' || !Number.isSafeInteger(runId) || runId <= 0) {
		throw new SyncValidationError('runId', 'the item has no run reference (runId): connect this node after Start Sync Run');
	}
	const ref = { runId, entityType: entityTypeOf(entityType, 'entityType'), kind: choiceOf(kind, 'kind', ['full', 'incremental'] as const) };
	if (typeof page !== 'number' || !Number.isSafeInteger(page) || page < 1) throw new SyncValidationError('page', 'page must be a whole number from 1');
	return { ...ref, page };
}
