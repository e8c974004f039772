import type { IDataObject } from 'n8n-workflow';
import { isEntityType } from '../../lib/servicetitan/types';
import type { StagedRunRef } from '../../lib/sync/staged-run';
import { SyncValidationError } from '../../lib/sync/errors';

/** The run reference that travels between the scheduled-flow nodes (never the page data itself). */
export function readRunRef(json: IDataObject): StagedRunRef {
	const { runId, entityType, kind, page } = json;
	if (typeof runId !== 'number' || !Number.isSafeInteger(runId) || runId <= 0) {
		throw new SyncValidationError('runId', 'the item has no run reference (runId): connect this node after Start Sync Run');
	}
	if (!isEntityType(entityType)) throw new SyncValidationError('entityType', 'entityType must be services, materials, equipment or categories');
	if (kind !== 'full' && kind !== 'incremental') throw new SyncValidationError('kind', 'kind must be full or incremental');
	if (typeof page !== 'number' || !Number.isSafeInteger(page) || page < 1) throw new SyncValidationError('page', 'page must be a whole number from 1');
	return { runId, entityType, kind, page };
}
