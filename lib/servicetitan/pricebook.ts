import type { ApiCall } from './api-call';
import { flattenCategories } from './categories';
import { StApiError } from './errors';
import { mapLimit } from '../util/map-limit';
import { assertId, exportQuery, listQuery, MAX_IDS_PER_REQUEST } from './pricebook-query';
import { isObject, toExportPage, toPage, toRecord, type CallLabel } from './response';
import type { EntityType, ExportParams, IterateParams, ListParams, StExportPage, StPage, StRecord } from './types';

/**
 * The pricebook v2 endpoints: which request each operation makes and what shape its answer is handed out in.
 * How a request reaches ServiceTitan (token, throttle, retries) is `call`'s business.
 */
export class PricebookApi {
	constructor(
		private readonly call: ApiCall,
		/** Parallel single GETs when fetching categories by id. */
		private readonly concurrency: number,
	) {}

	async listPage(entity: EntityType, params: ListParams): Promise<StPage> {
		const query = listQuery(entity, params);
		const path = `/${entity}`;
		const body = await this.call('GET', path, { query });
		const page = toPage(body, label('GET', path, query));
		return entity === 'categories' ? { ...page, data: flattenCategories(page.data) } : page;
	}

	/** Pages from `params.page` (default 1) until `hasMore` is false. */
	async *iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
		let page = params.page ?? 1;
		for (;;) {
			const result = await this.listPage(entity, { ...params, page });
			yield result;
			if (!result.hasMore) return;
			if (result.data.length === 0) {
				// Paging on would never end; the caller must not take what it read so far as complete.
				throw new StApiError(`ServiceTitan GET /${entity} page ${page} was empty but claimed hasMore`, {
					kind: 'malformed_response',
					retryable: true,
					method: 'GET',
					path: `/${entity}`,
				});
			}
			page += 1;
		}
	}

	/** One page of the export feed; follow `continueFrom` until `hasMore` is false. */
	async exportPage(entity: EntityType, params: ExportParams = {}): Promise<StExportPage> {
		const query = exportQuery(params);
		const path = `/export/${entity}`;
		const body = await this.call('GET', path, { query });
		const page = toExportPage(body, label('GET', path, query));
		return entity === 'categories' ? { ...page, data: flattenCategories(page.data) } : page;
	}

	/** Active and inactive records for `ids`, 50 per request; ids ST does not know are simply absent. */
	async getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]> {
		const unique = [...new Set(ids)];
		for (const id of unique) assertId(id);
		if (entity === 'categories') {
			// ST's categories listing declares no `ids` filter: one GET per id (categories are few).
			const found = await mapLimit(unique, this.concurrency, (id) => this.get(entity, id));
			return found.filter((record): record is StRecord => record !== null);
		}
		const out: StRecord[] = [];
		for (let i = 0; i < unique.length; i += MAX_IDS_PER_REQUEST) {
			const chunk = unique.slice(i, i + MAX_IDS_PER_REQUEST);
			const page = await this.listPage(entity, { page: 1, pageSize: MAX_IDS_PER_REQUEST, ids: chunk, active: 'Any' });
			out.push(...page.data);
		}
		return out;
	}

	/** null when ST answers 404 (deleted, or never existed). */
	async get(entity: EntityType, id: number): Promise<StRecord | null> {
		assertId(id);
		const path = `/${entity}/${id}`;
		const body = await this.call('GET', path, { notFoundIsNull: true });
		if (body === null) return null;
		return normalizeRecord(entity, toRecord(body, { method: 'GET', path }));
	}

	/**
	 * PATCH and return the full entity ST answers with. ST may ignore fields it does not accept, so callers
	 * compare the answer with what they sent.
	 */
	async patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> {
		assertId(id);
		if (!isObject(body)) throw new TypeError('patch body must be an object');
		const path = `/${entity}/${id}`;
		const answer = await this.call('PATCH', path, { body });
		return normalizeRecord(entity, toRecord(answer, { method: 'PATCH', path }));
	}
}

function label(method: string, path: string, query: URLSearchParams): CallLabel {
	return { method, path: `${path}?${query.toString()}` };
}

/** A single category may come with its children nested; the client always hands out the flat shape. */
function normalizeRecord(entity: EntityType, record: StRecord): StRecord {
	if (entity !== 'categories' || !('subcategories' in record)) return record;
	const { subcategories: _children, ...rest } = record;
	return rest as StRecord;
}
