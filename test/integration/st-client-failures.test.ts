import { inspect } from 'node:util';
import { categoriesDef, materials } from '../../lib/entities/definitions';
import { checkStRecord } from '../../lib/entities/validate';
import { failureKindOf } from '../../lib/failures';
import { ServiceTitanClient, TOO_DEEP_MARKER, type StRecord } from '../../lib/servicetitan';
import { caught, collect, fakeTime } from '../support/st-client-helpers';
import { CLIENT_USER_AGENT, startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/** The failure modes of the live API, each switched on in the simulator and met by the client over real HTTP. */

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

describe('ServiceTitanClient meets the failure modes of the live API', () => {
	let s: CheckedSimulator;

	beforeAll(async () => {
		s = await startCheckedSimulator({ seed: 11, counts: { materials: 430, services: 40, equipment: 30, categories: 30 } });
	});

	afterAll(async () => {
		await s.stop();
	});

	beforeEach(() => {
		s.sim.control.clearFaults();
		s.sim.control.setQuirks({ retryAfter: 'seconds', retryAfterSeconds: 1 });
		s.sim.control.resetStats();
	});

	const pageSizesAsked = () => s.sim.control.requests.filter((r) => r.target === 'api' && r.path.endsWith('/materials')).map((r) => Number(r.query.pageSize));

	describe('token endpoint', () => {
		it('retries 5xx answers with backoff', async () => {
			const client = s.client();
			s.sim.control.failNext({ action: { kind: 'status', status: 503 }, match: { target: 'token' }, times: 2 });
			await client.testConnection();
			expect(client.stats()).toMatchObject({ tokenRequests: 3, retries: 2 });
		});

		it('retries a token request that timed out or whose connection was reset', async () => {
			const client = s.client({ timeoutMs: 200 });
			s.sim.control.failNext({ action: { kind: 'timeout' }, match: { target: 'token' } });
			s.sim.control.failNext({ action: { kind: 'reset' }, match: { target: 'token' } });
			await client.testConnection();
			expect(client.stats()).toMatchObject({ tokenRequests: 3, retries: 2 });
		});

		it('gives up after maxRetries with the last failure', async () => {
			const client = s.client({ maxRetries: 2 });
			s.sim.control.failNext({ action: { kind: 'status', status: 500 }, match: { target: 'token' }, times: 5 });
			const error = await caught(client.testConnection());
			expect(error).toMatchObject({ kind: 'server', status: 500, retryable: true, attempts: 3 });
			expect(client.stats().tokenRequests).toBe(3);
		});

		it('honours the wait a 429 names at the token endpoint', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep });
			s.sim.control.setQuirks({ retryAfterSeconds: 4 });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 }, match: { target: 'token' } });
			await client.testConnection();
			expect(time.slept).toContain(4000);
		});

		it('does not retry wrong credentials and says what to check', async () => {
			const client = new ServiceTitanClient(
				{
					clientId: s.sim.clientId,
					clientSecret: 'not-the-secret',
					appKey: s.sim.appKey,
					tenantId: s.sim.tenantId,
					environment: 'integration',
					authUrl: s.sim.tokenUrl,
					apiBaseUrl: s.sim.apiBaseUrl,
				},
				{ userAgent: CLIENT_USER_AGENT, backoffBaseMs: 1 },
			);
			try {
				const error = await caught(client.testConnection());
				expect(error).toMatchObject({ kind: 'auth', status: 400, retryable: false, attempts: 1 });
				expect(error.message).toMatch(/refused the token request \(400 \(invalid_client\)\): check the client id, client secret and environment/);
				expect(client.stats().tokenRequests).toBe(1);
			} finally {
				client.close();
			}
		});
	});

	describe('429 with the wait only in the body', () => {
		it('waits the seconds named in the JSON title when there is no Retry-After', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep });
			await client.testConnection();
			s.sim.control.setFaults({ rateLimitWaitIn: 'title' });
			s.sim.control.setQuirks({ retryAfterSeconds: 7 });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 }, times: 2 });
			await client.listPage('materials', { page: 1, pageSize: 5 });
			expect(time.slept).toEqual([7000, 7000]);
			const answered = s.sim.control.requests.filter((r) => r.status === 429);
			expect(answered).toHaveLength(2);
		});

		it('waits the seconds named in a plain-text body', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep });
			await client.testConnection();
			s.sim.control.setFaults({ rateLimitWaitIn: 'text' });
			s.sim.control.setQuirks({ retryAfterSeconds: 3 });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 } });
			await client.get('materials', s.sim.control.listIds('materials')[0]);
			expect(time.slept).toEqual([3000]);
		});

		it('fails at once, naming the wait, when the wait asked for is longer than its budget', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, rateLimitBudgetMs: 60_000 });
			await client.testConnection();
			s.sim.control.setFaults({ rateLimitWaitIn: 'title' });
			s.sim.control.setQuirks({ retryAfterSeconds: 600 });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 } });
			const error = await caught(client.listPage('materials', { page: 1, pageSize: 5 }));
			expect(time.slept).toEqual([]);
			expect(error).toMatchObject({ kind: 'rate_limit', status: 429, attempts: 1 });
			expect(error.message).toMatch(/asks to wait 600 s more \(in its answer\), past the rate-limit budget of 60 s \(rateLimitBudgetMs\)/);
		});

		it('backs off exponentially when a 429 names no wait at all', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, backoffBaseMs: 400, backoffMaxMs: 60_000, random: () => 0.5 });
			await client.testConnection();
			s.sim.control.setQuirks({ retryAfter: 'none' });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 }, times: 2 });
			await client.listPage('materials', { page: 1, pageSize: 5 });
			expect(time.slept).toEqual([300, 600]);
		});
	});

	describe('an app without write scope', () => {
		it('reads, and gets a forbidden error naming the missing write permission on PATCH, without retrying', async () => {
			const client = s.client();
			s.sim.control.setFaults({ writeScope: false });
			const id = s.sim.control.listIds('services')[0];
			const before = await client.get('services', id);
			expect(before).toMatchObject({ id });
			const error = await caught(client.patch('services', id, { price: 12.5 }));
			expect(error).toMatchObject({ kind: 'forbidden', status: 403, retryable: false, method: 'PATCH', attempts: 1 });
			expect(error.message).toMatch(/the ServiceTitan app lacks write permission/);
			expect(client.stats().retries).toBe(0);
			expect(s.sim.control.getItem('services', id)?.price).toBe(before?.price);
			expect(failureKindOf(error)).toBe('st_unavailable');
		});
	});

	describe('a PATCH answered without a body', () => {
		it.each([204, 200] as const)('reads the item back after a %i without a body', async (status) => {
			const client = s.client();
			s.sim.control.setFaults({ patchEmptyBody: status });
			const id = s.sim.control.listIds('materials')[5];
			const price = 100 + status / 100;
			const after = await client.patch('materials', id, { price });
			expect(after).toMatchObject({ id, price, modifiedOn: expect.any(String) });
			const asked = s.sim.control.requests.filter((r) => r.target === 'api').map((r) => `${r.method} ${r.status}`);
			expect(asked).toEqual([`PATCH ${status}`, 'GET 200']);
		});
	});

	describe('404s', () => {
		it("takes only ServiceTitan's own 404 for an item as gone", async () => {
			const client = s.client();
			expect(await client.get('materials', 1)).toBeNull();
			expect(await client.getByIds('categories', [1])).toEqual([]);
			const error = await caught(client.patch('materials', 1, { price: 1 }));
			expect(error).toMatchObject({ kind: 'not_found', status: 404 });
			expect(failureKindOf(error)).toBe('st_unavailable');
		});

		it('takes a gateway 404 (an HTML page) as a wrong setting, never as gone', async () => {
			const client = s.client();
			await client.testConnection();
			s.sim.control.setFaults({ gateway404: true });
			const id = s.sim.control.listIds('materials')[0];
			for (const call of [
				client.get('materials', id),
				client.getByIds('categories', [s.sim.control.listIds('categories')[0]]),
				client.listPage('services', { page: 1, pageSize: 5 }),
			]) {
				const error = await caught(call);
				expect(error).toMatchObject({ kind: 'misrouted', status: 404, retryable: false });
				expect(error.message).toMatch(/answered 404 with a text\/html body, not the pricebook API's own not-found answer/);
				expect(error.message).toMatch(/check the API base URL \(environment or apiBaseUrl\) and the tenant id/);
				expect(failureKindOf(error)).toBe('configuration');
			}
			expect(client.stats().retries).toBe(0);
		});

		it('takes a gateway 404 for one path as misrouted while the rest works', async () => {
			const client = s.client();
			s.sim.control.setFaults({ gateway404: { path: '/equipment' } });
			await expect(client.listPage('services', { page: 1, pageSize: 5 })).resolves.toMatchObject({ page: 1 });
			const error = await caught(client.get('equipment', s.sim.control.listIds('equipment')[0]));
			expect(error.kind).toBe('misrouted');
		});

		it('takes a 404 from a wrong base URL or a wrong tenant as misrouted', async () => {
			const wrong = (overrides: { apiBaseUrl?: string; tenantId?: string }) =>
				new ServiceTitanClient(
					{
						clientId: s.sim.clientId,
						clientSecret: s.sim.clientSecret,
						appKey: s.sim.appKey,
						tenantId: s.sim.tenantId,
						environment: 'integration',
						authUrl: s.sim.tokenUrl,
						apiBaseUrl: s.sim.apiBaseUrl,
						...overrides,
					},
					{ userAgent: 'failure-tests', backoffBaseMs: 1 },
				);
			const base = wrong({ apiBaseUrl: `${s.sim.apiBaseUrl}/api` });
			const tenant = wrong({ tenantId: '999' });
			try {
				const id = s.sim.control.listIds('materials')[0];
				expect(await caught(base.get('materials', id))).toMatchObject({ kind: 'misrouted', status: 404 });
				expect(await caught(base.testConnection())).toMatchObject({ kind: 'misrouted', settings: ['apiBaseUrl', 'environment', 'tenantId'] });
				// The simulator answers a wrong tenant with a problem body; a listing never 404s at ST, so it is misrouted,
				// and ServiceTitan's own answer says the host is right: the tenant is what it does not know.
				const unknown = await caught(tenant.testConnection());
				expect(unknown).toMatchObject({ kind: 'misrouted', settings: ['tenantId', 'environment'] });
				expect(unknown.message).toMatch(/answered its own 404 for a path every tenant has: it does not know this tenant; check the tenant id/);
				expect(failureKindOf(unknown)).toBe('configuration');
			} finally {
				base.close();
				tenant.close();
			}
		});
	});

	describe('pages that fail at large sizes', () => {
		it('halves the page size at the first timeout and reads the listing to the end from the same item', async () => {
			const client = s.client({ timeoutMs: 150, minPageSize: 10 });
			await client.testConnection();
			s.sim.control.setFaults({ failPageSizeAbove: { pageSize: 100, entity: 'materials' } });
			s.sim.control.resetStats();
			const records = await collect(client.iteratePages('materials', { pageSize: 400 }));
			const ids = records.map((r) => r.id);
			expect(new Set(ids).size).toBe(ids.length);
			expect(sorted(ids)).toEqual(sorted(s.sim.control.listIds('materials')));
			// One attempt each at 400 and 200 (a timeout is not retried at a size that can still shrink), then 100s.
			expect(pageSizesAsked()).toEqual([400, 200, 100, 100, 100, 100, 100]);
		});

		it('after a 5xx that outlasts its retries, halves the size and goes on from the same item, even from an odd size', async () => {
			const client = s.client({ maxRetries: 1, minPageSize: 10 });
			const pages = client.iteratePages('materials', { pageSize: 101 })[Symbol.asyncIterator]();
			const first = await pages.next();
			expect(first.value.data).toHaveLength(101);
			s.sim.control.failNext({ action: { kind: 'status', status: 503 }, match: { path: '/materials' }, times: 2 });
			const rest: StRecord[] = [];
			for (let next = await pages.next(); !next.done; next = await pages.next()) rest.push(...next.value.data);
			const ids = [...first.value.data, ...rest].map((r) => r.id);
			expect(ids).toEqual(s.sim.control.listIds('materials'));
			// page 2 of 101 failed twice; items from 101 on are page 3 of 50 (from item 100, its first skipped).
			const asked = s.sim.control.requests.filter((r) => r.target === 'api').map((r) => `${r.query.page}/${r.query.pageSize}`);
			expect(asked.slice(0, 5)).toEqual(['1/101', '2/101', '2/101', '3/50', '4/50']);
		});

		it('fails with the last error when pages fail even at the smallest size', async () => {
			const client = s.client({ maxRetries: 0, minPageSize: 100 });
			s.sim.control.setFaults({ failPageSizeAbove: { pageSize: 50, entity: 'materials', action: { kind: 'status', status: 502 } } });
			const error = await caught(collect(client.iteratePages('materials', { pageSize: 400 })));
			expect(error).toMatchObject({ kind: 'server', status: 502 });
			expect(pageSizesAsked()).toEqual([400, 200, 100]);
		});

		it('listPage keeps its one page per call and says that a smaller page size may help', async () => {
			const client = s.client({ timeoutMs: 100, maxRetries: 1 });
			s.sim.control.setFaults({ failPageSizeAbove: { pageSize: 100 } });
			const error = await caught(client.listPage('materials', { page: 2, pageSize: 200 }));
			expect(error).toMatchObject({ kind: 'timeout', attempts: 2 });
			expect(error.message).toMatch(/\(page 2 of 200 items; a smaller pageSize may help\)$/);
		});
	});

	describe('response limits', () => {
		it('fails a page over the size limit with a message naming the page and the limit, without retrying', async () => {
			const client = s.client({ maxResponseBytes: 64 * 1024 });
			await client.testConnection();
			s.sim.control.failNext({ action: { kind: 'oversized', bytes: 300_000 }, match: { path: '/materials' } });
			const error = await caught(client.listPage('materials', { page: 3, pageSize: 20 }));
			expect(error).toMatchObject({ kind: 'too_large', retryable: false, attempts: 1 });
			expect(error.message).toMatch(
				/GET \/materials\?page=3&pageSize=20&active=Any answered more than 64 KB, the client's response size limit \(maxResponseBytes\)/,
			);
			expect(failureKindOf(error)).toBe('st_unavailable');
		});

		it('iteratePages asks for a page over the limit again in half the size', async () => {
			const client = s.client({ maxResponseBytes: 256 * 1024, minPageSize: 10 });
			s.sim.control.failNext({ action: { kind: 'oversized', bytes: 1_000_000 }, match: { path: '/materials' } });
			const records = await collect(client.iteratePages('materials', { pageSize: 200 }));
			expect(sorted(records.map((r) => r.id))).toEqual(sorted(s.sim.control.listIds('materials')));
		});

		it('hands out a record nested 10,000 levels deep as a placeholder that validation refuses, and nothing overflows', async () => {
			const client = s.client();
			const lines: string[] = [];
			s.sim.control.failNext({ action: { kind: 'deep_record', depth: 10_000 }, match: { path: '/materials' } });
			const page = await client.listPage('materials', { page: 1, pageSize: 10 });
			const expectedIds = s.sim.control.listIds('materials').slice(0, 10);
			expect(page.data.map((r) => r.id)).toEqual(expectedIds);
			expect(page.data[0]).toEqual({ id: expectedIds[0], modifiedOn: expect.any(String), [TOO_DEEP_MARKER]: 'nested deeper than 64 levels' });
			// What the engine does with a page: stringify it, log it, validate each record.
			lines.push(JSON.stringify(page), inspect(page, { depth: Infinity }));
			expect(checkStRecord(materials, page.data[0])).toEqual({ ok: false, id: expectedIds[0], problems: ['nested deeper than 64 levels'] });
			expect(checkStRecord(materials, page.data[1]).ok).toBe(true);
			expect(lines.join('').length).toBeGreaterThan(100);

			s.sim.control.failNext({ action: { kind: 'deep_record', depth: 10_000 }, match: { path: '/materials/' } });
			const single = await client.get('materials', expectedIds[3]);
			expect(single).toMatchObject({ id: expectedIds[3], [TOO_DEEP_MARKER]: 'nested deeper than 64 levels' });
		});

		it('replaces only the deep category of a nested category listing; the rest of the tree is read', async () => {
			const client = s.client();
			const all = await collect(client.iteratePages('categories', { pageSize: 50 }));
			s.sim.control.failNext({ action: { kind: 'deep_record', depth: 10_000 }, match: { path: '/categories' } });
			const withDeep = await collect(client.iteratePages('categories', { pageSize: 50 }));
			expect(withDeep.map((c) => c.id)).toEqual(all.map((c) => c.id));
			const refused = withDeep.filter((c) => TOO_DEEP_MARKER in c);
			expect(refused.map((c) => c.id)).toEqual([all[0].id]);
			expect(checkStRecord(categoriesDef, refused[0])).toMatchObject({ ok: false, problems: ['nested deeper than 64 levels'] });
		});
	});

	it('made only requests the OpenAPI document declares, and got only answers that follow it', () => {
		expect(s.contract.violations()).toEqual([]);
		expect(s.contract.clientRequestsChecked()).toBeGreaterThan(40);
	});
});
