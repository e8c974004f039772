import type { ApiCall } from './api-call';
import { flattenCategories } from './categories';
import { DEFAULT_MAX_RECORD_DEPTH, limitRecordDepth } from './depth';
import { copyStApiError, isStApiError, StApiError } from './errors';
import { mapLimit } from '../util/map-limit';
import { assertId, exportQuery, listQuery, MAX_IDS_PER_REQUEST } from './pricebook-query';
import { isObject, toExportPage, toPage, toRecord, type CallLabel } from './response';
import type { EntityType, ExportParams, IterateParams, ListParams, StExportPage, StLogFn, StPage, StRecord } from './types';

/** Pages a listing may run past ceil(totalCount / pageSize) before it is taken for one that never ends. */
export const PAGE_CAP_MARGIN = 3;
/** When ST names no totalCount: no listing is read past this many items. */
export const ITEM_CAP_WITHOUT_TOTAL = 10_000_000;

export interface PricebookOptions {
	/** Parallel single GETs when fetching categories by id. */
	concurrency: number;
	/** Records nested deeper are replaced by a placeholder that validation refuses (see depth.ts). */
	maxRecordDepth?: number;
	/** iteratePages halves the page size after a page that timed out or failed, down to this size. */
	minPageSize?: number;
	log?: StLogFn;
}

/** What makes a page worth asking for in a smaller size: ST gives up on slow requests (~100 s), and big answers can pass our size limit. */
function pageSizeMayHelp(error: unknown): error is StApiError {
	return isStApiError(error) && (error.kind === 'timeout' || error.kind === 'server' || error.kind === 'too_large');
}

/**
 * The pricebook v2 endpoints: which request each operation makes and what shape its answer is handed out in.
 * How a request reaches ServiceTitan (token, throttle, retries) is `call`'s business.
 */
export class PricebookApi {
	private readonly maxDepth: number;
	private readonly minPageSize: number;
	private readonly log: StLogFn;

	constructor(
		private readonly call: ApiCall,
		private readonly options: PricebookOptions,
	) {
		this.maxDepth = options.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH;
		this.minPageSize = options.minPageSize ?? 50;
		this.log = options.log ?? (() => undefined);
	}

	/**
	 * One page, with the call's ordinary retries. It cannot shrink the page after a timeout the way iteratePages
	 * does (the next call asks for the page it wants): a page that keeps failing fails with a hint to ask for
	 * smaller pages.
	 */
	async listPage(entity: EntityType, params: ListParams): Promise<StPage> {
		try {
			return (await this.readPage(entity, params, 0, false)).page;
		} catch (error: unknown) {
			if (!pageSizeMayHelp(error) || params.pageSize <= 1) throw error;
			throw copyStApiError(error, { message: `${error.message} (page ${params.page} of ${params.pageSize} items; a smaller pageSize may help)` });
		}
	}

	/**
	 * Pages from `params.page` (default 1) until `hasMore` is false. After a timeout (at once: retrying a page
	 * that took ST too long costs a full timeout per attempt), a 5xx that outlasted its retries, or an answer
	 * over the size limit, it asks again with half the page size from the same item (page p of size s holds the
	 * items from (p-1)*s), down to `minPageSize`; pages it hands out then have the smaller size. It stops with an
	 * error at ceil(totalCount / pageSize) + PAGE_CAP_MARGIN pages, so a listing that always says hasMore ends.
	 */
	async *iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
		const { page: firstPage = 1, ...rest } = params;
		let size = rest.pageSize;
		// Items (category roots, for categories) before the next page to read.
		let offset = (firstPage - 1) * size;
		let total: number | undefined;
		for (;;) {
			const page = Math.floor(offset / size) + 1;
			// After a halving of an odd size the new page may start before `offset`: those items were handed out.
			const skip = offset - (page - 1) * size;
			const cap = total !== undefined ? Math.ceil(total / size) + PAGE_CAP_MARGIN : Math.ceil(ITEM_CAP_WITHOUT_TOTAL / size);
			if (page > cap) {
				throw new StApiError(
					`ServiceTitan GET /${entity} still answered hasMore at page ${page} of ${size} items, past the ${cap} pages ` +
						`${total !== undefined ? `its totalCount of ${total} allows` : `of ${ITEM_CAP_WITHOUT_TOTAL} items (no totalCount)`}: stopped, the listing is incomplete`,
					{ kind: 'malformed_response', retryable: true, method: 'GET', path: `/${entity}` },
				);
			}
			let result: { page: StPage; listed: number };
			try {
				result = await this.readPage(entity, { ...rest, includeTotal: rest.includeTotal ?? true, page, pageSize: size }, skip, size > this.minPageSize);
			} catch (error: unknown) {
				if (size <= this.minPageSize || !pageSizeMayHelp(error)) throw error;
				const smaller = Math.max(this.minPageSize, Math.floor(size / 2));
				this.log('warn', 'ServiceTitan listing page failed; asking again with half the page size', {
					entity,
					page,
					pageSize: size,
					nextPageSize: smaller,
					offset,
					kind: error.kind,
					status: error.status,
				});
				size = smaller;
				continue;
			}
			if (typeof result.page.totalCount === 'number') total = result.page.totalCount;
			yield result.page;
			if (!result.page.hasMore) return;
			if (result.listed === 0) {
				// Paging on would never end; the caller must not take what it read so far as complete.
				throw new StApiError(`ServiceTitan GET /${entity} page ${page} was empty but claimed hasMore`, {
					kind: 'malformed_response',
					retryable: true,
					method: 'GET',
					path: `/${entity}`,
				});
			}
			offset = page * size;
		}
	}

	/** One page with its first `skip` items (roots, for categories) left out; `listed` counts what ST listed. */
	private async readPage(entity: EntityType, params: ListParams, skip: number, timeoutShrinks: boolean): Promise<{ page: StPage; listed: number }> {
		const query = listQuery(entity, params);
		const path = `/${entity}`;
		const body = await this.call('GET', path, {
			query,
			// A smaller page is the better remedy for a page ST cannot answer in time than the same page again.
			...(timeoutShrinks ? { giveUpOn: (failure: StApiError) => failure.kind === 'timeout' || failure.status === 504 } : {}),
		});
		let listed = 0;
		const page = toPage(body, label('GET', path, query), (items, call) => {
			listed = items.length;
			return this.records(entity, skip > 0 ? items.slice(skip) : items, call);
		});
		return { page, listed };
	}

	/** One page of the export feed; follow `continueFrom` until `hasMore` is false. */
	async exportPage(entity: EntityType, params: ExportParams = {}): Promise<StExportPage> {
		const query = exportQuery(params);
		const path = `/export/${entity}`;
		const body = await this.call('GET', path, { query });
		return toExportPage(body, label('GET', path, query), (items, call) => this.records(entity, items, call));
	}

	/** Active and inactive records for `ids`, 50 per request; ids ST does not know are simply absent. */
	async getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]> {
		const unique = [...new Set(ids)];
		for (const id of unique) assertId(id);
		if (entity === 'categories') {
			// ST's categories listing declares no `ids` filter: one GET per id (categories are few).
			const found = await mapLimit(unique, this.options.concurrency, (id) => this.get(entity, id));
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

	/** null when ST answers its own 404 (deleted, or never existed). */
	async get(entity: EntityType, id: number): Promise<StRecord | null> {
		assertId(id);
		const path = `/${entity}/${id}`;
		const body = await this.call('GET', path, { notFoundIsNull: true });
		if (body === null) return null;
		return this.record(entity, body, { method: 'GET', path });
	}

	/**
	 * PATCH and return the full entity ST answers with. ST may ignore fields it does not accept, so callers
	 * compare the answer with what they sent. A 2xx without a body is answered by reading the item back.
	 */
	async patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> {
		assertId(id);
		if (!isObject(body)) throw new TypeError('patch body must be an object');
		const path = `/${entity}/${id}`;
		const answer = await this.call('PATCH', path, { body });
		if (answer === undefined || answer === null) {
			this.log('info', 'ServiceTitan accepted a PATCH without answering the item; reading it back', { entity, id });
			const current = await this.get(entity, id);
			if (current === null) {
				throw new StApiError(`ServiceTitan accepted PATCH ${path} without a body, and reading the item back answered 404`, {
					kind: 'not_found',
					status: 404,
					retryable: false,
					method: 'GET',
					path,
				});
			}
			return current;
		}
		return this.record(entity, answer, { method: 'PATCH', path });
	}

	/**
	 * POST a new item; returns the record ServiceTitan answers with (its id is the item's). Never repeated after a
	 * timeout or a server error: a POST is not idempotent, and ServiceTitan may have created the item before the
	 * answer was lost, so the caller looks the item up before it sends again. A 429 is repeated (nothing was done).
	 */
	async create(entity: EntityType, body: Record<string, unknown>): Promise<StRecord> {
		if (!isObject(body)) throw new TypeError('create body must be an object');
		const path = `/${entity}`;
		const answer = await this.call('POST', path, { body, giveUpOn: () => true });
		if (!isObject(answer)) {
			throw new StApiError(`ServiceTitan answered POST ${path} without the created item`, {
				kind: 'malformed_response',
				status: 201,
				retryable: false,
				method: 'POST',
				path,
			});
		}
		return this.record(entity, answer, { method: 'POST', path });
	}

	/** A page's items as records: categories flattened, each record checked for its id and depth. */
	private records(entity: EntityType, items: unknown[], call: CallLabel): StRecord[] {
		if (entity === 'categories') return flattenCategories(items, this.maxDepth).map((item) => toRecord(item, call));
		return items.map((item) => toRecord(limitRecordDepth(item, this.maxDepth), call));
	}

	/** A single category may come with its children nested; the client always hands out the flat shape. */
	private record(entity: EntityType, value: unknown, call: CallLabel): StRecord {
		let item = value;
		if (entity === 'categories' && isObject(value) && 'subcategories' in value) {
			const { subcategories: _children, ...rest } = value;
			item = rest;
		}
		return toRecord(limitRecordDepth(item, this.maxDepth), call);
	}
}

function label(method: string, path: string, query: URLSearchParams): CallLabel {
	return { method, path: `${path}?${query.toString()}` };
}
