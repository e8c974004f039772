import { normalizeStTimestamp } from './timestamps';
import type { EntityType, ExportParams, ListParams } from './types';

export const MAX_PAGE_SIZE = 5000;
export const MAX_IDS_PER_REQUEST = 50;

/**
 * The query string of a listing. Parameters ST would refuse or silently ignore are thrown here instead, before
 * any request is made.
 */
export function listQuery(entity: EntityType, params: ListParams): URLSearchParams {
	if (!Number.isInteger(params.page) || params.page < 1) throw new RangeError(`page must be an integer >= 1, got ${params.page}`);
	if (!Number.isInteger(params.pageSize) || params.pageSize < 1 || params.pageSize > MAX_PAGE_SIZE) {
		throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${params.pageSize}`);
	}
	const query = new URLSearchParams();
	query.set('page', String(params.page));
	query.set('pageSize', String(params.pageSize));
	query.set('active', params.active ?? 'Any');
	if (params.includeTotal !== undefined) query.set('includeTotal', String(params.includeTotal));
	// Sent with all 7 digits: an inclusive bound cut to milliseconds would drop rows from the same millisecond.
	if (params.modifiedOnOrAfter !== undefined) query.set('modifiedOnOrAfter', normalizeStTimestamp(params.modifiedOnOrAfter));
	if (params.modifiedBefore !== undefined) query.set('modifiedBefore', normalizeStTimestamp(params.modifiedBefore));
	if (params.sort !== undefined) query.set('sort', params.sort);
	if (params.ids !== undefined) {
		if (entity === 'categories') throw new RangeError('the categories listing has no ids filter; use getByIds');
		if (params.ids.length === 0 || params.ids.length > MAX_IDS_PER_REQUEST) {
			throw new RangeError(`ids must hold 1 to ${MAX_IDS_PER_REQUEST} ids, got ${params.ids.length}`);
		}
		for (const id of params.ids) assertId(id);
		query.set('ids', params.ids.join(','));
	}
	if (params.searchText !== undefined) {
		if (entity === 'categories') throw new RangeError('the categories listing has no searchText filter');
		query.set('searchText', params.searchText);
	}
	if (params.categoryType !== undefined) {
		if (entity !== 'categories') throw new RangeError('categoryType applies to categories only');
		query.set('categoryType', params.categoryType);
	}
	return query;
}

export function exportQuery(params: ExportParams): URLSearchParams {
	const query = new URLSearchParams();
	if (params.from !== undefined) query.set('from', params.from);
	if (params.includeRecentChanges !== undefined) query.set('includeRecentChanges', String(params.includeRecentChanges));
	return query;
}

export function assertId(id: number): void {
	if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`ServiceTitan ids are positive integers, got ${id}`);
}
