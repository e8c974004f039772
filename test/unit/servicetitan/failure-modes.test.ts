import type { ApiCall } from '../../../lib/servicetitan/api-call';
import { namedWaitOf, parseBodyWaitMs } from '../../../lib/servicetitan/backoff';
import { flattenCategories } from '../../../lib/servicetitan/categories';
import { limitRecordDepth, nestsDeeperThan, TOO_DEEP_MARKER } from '../../../lib/servicetitan/depth';
import { StApiError } from '../../../lib/servicetitan/errors';
import { PricebookApi } from '../../../lib/servicetitan/pricebook';
import { isStNotFound } from '../../../lib/servicetitan/response';
import type { StPage } from '../../../lib/servicetitan/types';

function deep(levels: number): unknown {
	return JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
}

describe('the wait a 429 names', () => {
	it('reads "Try again in N seconds" from a JSON title or message, or from plain text', () => {
		expect(parseBodyWaitMs(JSON.stringify({ title: 'Rate limit is exceeded. Try again in 7 seconds.', status: 429 }))).toBe(7000);
		expect(parseBodyWaitMs(JSON.stringify({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 12 seconds.' }))).toBe(12_000);
		expect(parseBodyWaitMs('Too many requests. Try again in 2.5 seconds')).toBe(2500);
		expect(parseBodyWaitMs('Too many requests, wait 30 seconds')).toBe(30_000);
		expect(parseBodyWaitMs(JSON.stringify({ title: 'Too many requests' }))).toBeUndefined();
		expect(parseBodyWaitMs('')).toBeUndefined();
	});

	it('prefers Retry-After to the body', () => {
		const body = JSON.stringify({ title: 'Try again in 7 seconds.' });
		expect(namedWaitOf({ 'retry-after': '3' }, body, 0)).toEqual({ ms: 3000, source: 'Retry-After' });
		expect(namedWaitOf({}, body, 0)).toEqual({ ms: 7000, source: 'body' });
		expect(namedWaitOf({}, '<html>429</html>', 0)).toBeUndefined();
	});
});

describe("ServiceTitan's own 404", () => {
	it('is its RFC 7807 problem body with status 404; a gateway page, an empty body or other JSON is not', () => {
		const st = {
			type: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
			title: 'Material with id 1 was not found.',
			status: 404,
			traceId: '00-ab-cd-00',
			errors: {},
			data: {},
		};
		expect(isStNotFound(JSON.stringify(st))).toBe(true);
		expect(isStNotFound(JSON.stringify({ ...st, traceId: undefined }))).toBe(true);
		expect(isStNotFound(JSON.stringify({ ...st, status: 400 }))).toBe(false);
		expect(isStNotFound(JSON.stringify({ statusCode: 404, message: 'Resource not found' }))).toBe(false);
		expect(isStNotFound('<html><body><h1>404 Not Found</h1></body></html>')).toBe(false);
		expect(isStNotFound('')).toBe(false);
	});
});

describe('record depth', () => {
	it('measures nesting without recursion, a million levels included', () => {
		expect(nestsDeeperThan({ id: 1 }, 1)).toBe(false);
		expect(nestsDeeperThan({ id: 1, a: [{}] }, 2)).toBe(true);
		expect(nestsDeeperThan(deep(64), 64)).toBe(false);
		expect(nestsDeeperThan(deep(65), 64)).toBe(true);
		expect(nestsDeeperThan(deep(1_000_000), 64)).toBe(true);
	});

	it('replaces a record nested too deep by its id, modifiedOn and the reason', () => {
		const record = { id: 7, modifiedOn: '2026-01-01T00:00:00Z', code: 'X', nested: deep(100) };
		expect(limitRecordDepth(record, 64)).toEqual({ id: 7, modifiedOn: '2026-01-01T00:00:00Z', [TOO_DEEP_MARKER]: 'nested deeper than 64 levels' });
		const shallow = { id: 8, modifiedOn: '2026-01-01T00:00:00Z', nested: deep(10) };
		expect(limitRecordDepth(shallow, 64)).toBe(shallow);
	});

	it('flattens a category tree 10,000 levels deep without recursion, refusing only what lies past the limit', () => {
		let tree: Record<string, unknown> = { id: 10_000, subcategories: [] };
		for (let id = 9_999; id >= 1; id--) tree = { id, subcategories: [tree] };
		const flat = flattenCategories([tree as never], 64);
		// Levels 1..32 sit within 64 JSON levels (2L - 1); level 33 is the placeholder, its subtree unread.
		expect(flat).toHaveLength(33);
		expect(flat.slice(0, 32).every((c) => !(TOO_DEEP_MARKER in c))).toBe(true);
		expect(flat[31]).toMatchObject({ id: 32, parentId: 31 });
		expect(flat[32]).toMatchObject({ id: 33, [TOO_DEEP_MARKER]: 'nested deeper than 64 levels' });
	});
});

describe('iteratePages', () => {
	function fakeApi(answer: (page: number, pageSize: number) => Partial<StPage> & { data: unknown[] }): { api: PricebookApi; asked: string[] } {
		const asked: string[] = [];
		const call: ApiCall = async (_method, _path, options) => {
			const page = Number(options?.query?.get('page'));
			const pageSize = Number(options?.query?.get('pageSize'));
			asked.push(`${page}/${pageSize}`);
			return { page, pageSize, hasMore: true, ...answer(page, pageSize) };
		};
		return { api: new PricebookApi(call, { concurrency: 1, minPageSize: 10 }), asked };
	}
	const records = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i + 1, modifiedOn: '2026-01-01T00:00:00Z' }));

	it('stops a listing that keeps saying hasMore at ceil(totalCount / pageSize) + 3 pages', async () => {
		const { api, asked } = fakeApi((page, pageSize) => ({ totalCount: 25, data: records((page - 1) * pageSize, pageSize) }));
		const seen: number[] = [];
		const failure = await (async () => {
			for await (const p of api.iteratePages('materials', { pageSize: 10 })) seen.push(p.page);
		})().catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(StApiError);
		expect(failure).toMatchObject({ kind: 'malformed_response', retryable: true });
		expect((failure as Error).message).toMatch(
			/still answered hasMore at page 7 of 10 items, past the 6 pages its totalCount of 25 allows: stopped, the listing is incomplete/,
		);
		expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
		expect(asked.slice(0, 6)).toEqual(['1/10', '2/10', '3/10', '4/10', '5/10', '6/10']);
	});

	it('asks for includeTotal unless told otherwise', async () => {
		const queries: string[] = [];
		const call: ApiCall = async (_method, _path, options) => {
			queries.push(String(options?.query));
			return { page: 1, pageSize: 10, hasMore: false, totalCount: 1, data: records(0, 1) };
		};
		const api = new PricebookApi(call, { concurrency: 1 });
		for await (const _ of api.iteratePages('materials', { pageSize: 10 }));
		for await (const _ of api.iteratePages('materials', { pageSize: 10, includeTotal: false }));
		expect(queries).toEqual([expect.stringContaining('includeTotal=true'), expect.stringContaining('includeTotal=false')]);
	});
});
