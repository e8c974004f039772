import * as net from 'node:net';
import { inspect } from 'node:util';
import { ServiceTitanClient, StApiError, type StRecord } from '../../lib/servicetitan';
import { caught, collect, fakeTime } from '../support/st-client-helpers';
import { CLIENT_USER_AGENT, startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/** The client against the simulator; every request it makes is checked against the OpenAPI document. */

describe('ServiceTitanClient against the simulator', () => {
	let s: CheckedSimulator;

	beforeAll(async () => {
		s = await startCheckedSimulator({ seed: 3, counts: { materials: 1234, services: 150, equipment: 60, categories: 40 } });
	});

	afterAll(async () => {
		await s.stop();
	});

	beforeEach(() => {
		s.sim.control.clearFaults();
	});

	describe('reading', () => {
		it('pages to the end with active=Any and reuses one token for the whole listing', async () => {
			const client = s.client();
			const records = await collect(client.iteratePages('materials', { pageSize: 100 }));
			const expected = s.sim.control.listIds('materials', { includeInactive: true });
			expect(records.map((r) => r.id).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
			expect(records.some((r) => r.active === false)).toBe(true);
			expect(client.stats()).toEqual({ requests: 13, tokenRequests: 1, retries: 0 });
		});

		it("reads ServiceTitan's clock from its Date header (serverNow), also when that clock is hours off this machine's", async () => {
			const client = s.client();
			s.sim.control.stepClock(-5 * 3600_000);
			try {
				const now = await client.serverNow('materials');
				expect(Math.abs(now!.getTime() - s.sim.control.now())).toBeLessThan(1000);
			} finally {
				s.sim.control.stepClock(5 * 3600_000);
			}
		});

		it('renews the token shortly before its 900 s run out, not per call', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep });
			await client.listPage('services', { page: 1, pageSize: 10 });
			time.advance(800_000);
			await client.listPage('services', { page: 2, pageSize: 10 });
			expect(client.stats().tokenRequests).toBe(1);
			time.advance(60_000); // 860 s: inside the renewal margin
			await client.listPage('services', { page: 3, pageSize: 10 });
			expect(client.stats().tokenRequests).toBe(2);
		});

		it('filters by modifiedOnOrAfter at full precision', async () => {
			const client = s.client();
			const id = s.sim.control.listIds('materials')[0];
			s.sim.control.updateItem('materials', id, {}, { modifiedOn: '2099-01-01T00:00:00.0000005Z' });
			const hit = await client.listPage('materials', { page: 1, pageSize: 50, modifiedOnOrAfter: '2099-01-01T00:00:00.0000005Z' });
			expect(hit.data.map((r) => r.id)).toEqual([id]);
			const miss = await client.listPage('materials', { page: 1, pageSize: 50, modifiedOnOrAfter: '2099-01-01T00:00:00.0000006Z' });
			expect(miss.data).toEqual([]);
			const total = await client.listPage('materials', { page: 1, pageSize: 1, includeTotal: true, modifiedBefore: '2099-01-01T00:00:00.0000005Z' });
			expect(total.totalCount).toBe(s.sim.control.listIds('materials').length - 1);
		});

		it('gets by ids in batches of 50, inactive ones included, unknown ones absent', async () => {
			const client = s.client();
			const ids = s.sim.control.listIds('materials').slice(0, 120);
			const records = await client.getByIds('materials', [...ids, ids[0], 1]);
			expect(records.map((r) => r.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
			expect(client.stats().requests).toBe(3);
		});

		it('gets categories by id one by one (their listing has no ids filter)', async () => {
			const client = s.client();
			const ids = s.sim.control.listIds('categories').slice(0, 5);
			const records = await client.getByIds('categories', [...ids, 1]);
			expect(records.map((r) => r.id).sort()).toEqual([...ids].sort());
			expect(records.every((r) => !('subcategories' in r))).toBe(true);
		});

		it('answers null for a 404 on get, not an error', async () => {
			const client = s.client();
			expect(await client.get('materials', 1)).toBeNull();
			const id = s.sim.control.listIds('services')[0];
			expect(await client.get('services', id)).toMatchObject({ id, modifiedOn: expect.any(String) });
		});

		it('flattens nested category listings and reads flat ones the same way', async () => {
			const client = s.client();
			const nested = await collect(client.iteratePages('categories', { pageSize: 5 }));
			s.sim.control.setQuirks({ categoriesNested: false });
			try {
				const flat = await collect(client.iteratePages('categories', { pageSize: 5 }));
				const shape = (list: StRecord[]) => list.map((c) => [c.id, c.parentId]).sort((a, b) => Number(a[0]) - Number(b[0]));
				expect(shape(nested)).toEqual(shape(flat));
				expect(nested).toHaveLength(s.sim.control.listIds('categories').length);
				expect(nested.filter((c) => c.parentId !== null).length).toBeGreaterThan(10);
				expect(nested.every((c) => !('subcategories' in c))).toBe(true);
			} finally {
				s.sim.control.setQuirks({ categoriesNested: true });
			}
		});

		it('follows the export feed to the end', async () => {
			const client = s.client();
			s.sim.control.setQuirks({ exportBatchSize: 200 });
			try {
				const seen = new Set<number>();
				let from: string | undefined;
				for (;;) {
					const p = await client.exportPage('equipment', { includeRecentChanges: true, ...(from ? { from } : {}) });
					p.data.forEach((r) => seen.add(r.id));
					from = p.continueFrom;
					if (!p.hasMore) break;
				}
				expect(seen.size).toBe(s.sim.control.listIds('equipment').length);
				const none = await client.exportPage('equipment', { from, includeRecentChanges: true });
				expect(none).toMatchObject({ hasMore: false, data: [] });
			} finally {
				s.sim.control.setQuirks({ exportBatchSize: 500 });
			}
		});

		it('tests the connection', async () => {
			await expect(s.client().testConnection()).resolves.toBeUndefined();
		});
	});

	describe('writing', () => {
		it('PATCHes and returns the full entity', async () => {
			const client = s.client();
			const id = s.sim.control.listIds('services')[1];
			const material = s.sim.control.listIds('materials')[2];
			const before = await client.get('services', id);
			const after = await client.patch('services', id, { price: 321.5, serviceMaterials: [{ skuId: material, quantity: 1.5 }] });
			expect(after).toMatchObject({ id, price: 321.5, serviceMaterials: [{ skuId: material, quantity: 1.5 }], code: before?.code });
			expect(after.modifiedOn).not.toBe(before?.modifiedOn);
		});

		it("turns a 400 into a validation error carrying ST's errors map, without retrying", async () => {
			const client = s.client();
			const id = s.sim.control.listIds('materials')[3];
			const error = await caught(client.patch('materials', id, { primaryVendor: { vendorId: 424242, cost: 1, active: true } }));
			expect(error).toMatchObject({ kind: 'validation', status: 400, retryable: false });
			expect(error.errors).toEqual({ primaryVendor: ['Vendor 424242 does not exist'] });
			expect(error.message).toContain('primaryVendor: Vendor 424242 does not exist');
			expect(client.stats().retries).toBe(0);
		});

		it('throws not_found for a PATCH of an unknown id', async () => {
			const error = await caught(s.client().patch('equipment', 1, { price: 1 }));
			expect(error).toMatchObject({ kind: 'not_found', status: 404, retryable: false });
		});
	});

	describe('resilience', () => {
		it('waits Retry-After seconds on a 429, then succeeds', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, backoffBaseMs: 500, backoffMaxMs: 60_000 });
			await client.testConnection();
			s.sim.control.setQuirks({ retryAfter: 'seconds', retryAfterSeconds: 7 });
			s.sim.control.failNext({ action: { kind: 'status', status: 429 }, times: 2 });
			const p = await client.listPage('materials', { page: 1, pageSize: 5 });
			expect(p.data).toHaveLength(5);
			expect(time.slept.filter((ms) => ms >= 1000)).toEqual([7000, 7000]);
			expect(client.stats().retries).toBe(2);
		});

		it('honours Retry-After as an HTTP date', async () => {
			const slept: number[] = [];
			const client = s.client({ sleep: async (ms) => void slept.push(ms), backoffBaseMs: 1, backoffMaxMs: 120_000 });
			await client.testConnection();
			s.sim.control.setQuirks({ retryAfter: 'date', retryAfterSeconds: 30 });
			try {
				s.sim.control.failNext({ action: { kind: 'status', status: 429 } });
				await client.listPage('materials', { page: 1, pageSize: 5 });
				// An HTTP date has whole seconds: 29 to 30 s from now.
				expect(slept.find((ms) => ms > 1000)).toBeGreaterThanOrEqual(28_000);
				expect(slept.find((ms) => ms > 1000)).toBeLessThanOrEqual(30_000);
			} finally {
				s.sim.control.setQuirks({ retryAfter: 'seconds', retryAfterSeconds: 1 });
			}
		});

		it('backs off exponentially with jitter on a 429 without Retry-After', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, backoffBaseMs: 400, backoffMaxMs: 60_000, random: () => 0.5 });
			await client.testConnection();
			s.sim.control.setQuirks({ retryAfter: 'none' });
			try {
				s.sim.control.failNext({ action: { kind: 'status', status: 429 }, times: 3 });
				await client.listPage('materials', { page: 1, pageSize: 5 });
				// steps 400, 800, 1600 ms; half fixed, half jitter (0.5) → 300, 600, 1200
				expect(time.slept).toEqual([300, 600, 1200]);
			} finally {
				s.sim.control.setQuirks({ retryAfter: 'seconds' });
			}
		});

		it('retries 429s for as long as its time budget lasts, not for maxRetries, then names the wait', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, maxRetries: 1, rateLimitBudgetMs: 20_000 });
			await client.testConnection();
			s.sim.control.setQuirks({ retryAfter: 'seconds', retryAfterSeconds: 7 });
			try {
				s.sim.control.failNext({ action: { kind: 'status', status: 429 }, times: 5 });
				const error = await caught(client.listPage('materials', { page: 1, pageSize: 5 }));
				// 7 + 7 s fit in 20 s; another 7 would not.
				expect(time.slept).toEqual([7000, 7000]);
				expect(error).toMatchObject({ kind: 'rate_limit', status: 429, retryable: true, attempts: 3 });
				expect(error.message).toMatch(
					/waited 14 s over 2 retries and ServiceTitan asks to wait 7 s more \(Retry-After\), past the rate-limit budget of 20 s/,
				);
			} finally {
				s.sim.control.clearFaults();
				s.sim.control.setQuirks({ retryAfterSeconds: 1 });
			}
		});

		it('stays under its own requests-per-second limit', async () => {
			const time = fakeTime();
			const client = s.client({ now: time.now, sleep: time.sleep, requestsPerSecond: 5 });
			const ids = s.sim.control.listIds('services').slice(0, 12);
			await Promise.all(ids.map((id) => client.get('services', id)));
			// 12 calls at 5 per second: two full waits of a second.
			expect(time.slept.filter((ms) => ms > 0).reduce((a, b) => a + b, 0)).toBe(2000);
		});

		it('retries a 5xx (with an HTML body) and then succeeds', async () => {
			const client = s.client();
			s.sim.control.failNext({ action: { kind: 'status', status: 502 } });
			s.sim.control.failNext({ action: { kind: 'status', status: 503 } });
			const p = await client.listPage('equipment', { page: 1, pageSize: 5 });
			expect(p.data).toHaveLength(5);
			expect(client.stats().retries).toBe(2);
		});

		it('classifies exhausted 5xx as a retryable server error', async () => {
			const client = s.client({ maxRetries: 1 });
			s.sim.control.failNext({ action: { kind: 'status', status: 500 }, times: 2 });
			const error = await caught(client.get('materials', s.sim.control.listIds('materials')[0]));
			expect(error).toMatchObject({ kind: 'server', status: 500, retryable: true, attempts: 2 });
		});

		it('times out a request that gets no answer, then succeeds on the retry', async () => {
			const client = s.client({ timeoutMs: 250 });
			await client.testConnection();
			s.sim.control.failNext({ action: { kind: 'timeout' } });
			const started = Date.now();
			const p = await client.listPage('materials', { page: 1, pageSize: 5 });
			expect(p.data).toHaveLength(5);
			expect(Date.now() - started).toBeGreaterThanOrEqual(240);
			expect(client.stats().retries).toBe(1);
		});

		it('classifies a timeout that outlasts the retries', async () => {
			const client = s.client({ timeoutMs: 100, maxRetries: 1 });
			await client.testConnection();
			s.sim.control.failNext({ action: { kind: 'timeout' }, times: 2 });
			const error = await caught(client.listPage('materials', { page: 1, pageSize: 5 }));
			expect(error).toMatchObject({ kind: 'timeout', retryable: true, attempts: 2 });
		});

		it('retries a connection reset', async () => {
			const client = s.client();
			await client.testConnection();
			s.sim.control.failNext({ action: { kind: 'reset' } });
			await expect(client.listPage('materials', { page: 1, pageSize: 5 })).resolves.toMatchObject({ page: 1 });
			expect(client.stats().retries).toBe(1);
		});

		it('classifies malformed JSON as malformed_response', async () => {
			const client = s.client({ maxRetries: 2 });
			s.sim.control.failNext({ action: { kind: 'malformed' }, times: 3 });
			const error = await caught(client.listPage('materials', { page: 1, pageSize: 5 }));
			expect(error).toMatchObject({ kind: 'malformed_response', retryable: true, attempts: 3 });
			s.sim.control.failNext({ action: { kind: 'malformed' } });
			await expect(client.listPage('materials', { page: 1, pageSize: 5 })).resolves.toMatchObject({ page: 1 });
		});

		it('stops paging with an error when a page keeps failing (a truncated listing is never complete)', async () => {
			const client = s.client({ maxRetries: 2 });
			s.sim.control.setFaults({ failListingPage: { entity: 'materials', page: 3 } });
			const pages: number[] = [];
			const error = await caught(
				(async () => {
					for await (const p of client.iteratePages('materials', { pageSize: 100 })) pages.push(p.page);
				})(),
			);
			expect(pages).toEqual([1, 2]);
			expect(error).toMatchObject({ kind: 'server', status: 500 });
		});
	});

	describe('tokens', () => {
		it('shares one token request between concurrent callers', async () => {
			const issuedBefore = s.sim.control.requestCounts().tokensIssued;
			const client = s.client();
			const ids = s.sim.control.listIds('materials').slice(0, 10);
			const records = await Promise.all(ids.map((id) => client.get('materials', id)));
			expect(records.every((r) => r !== null)).toBe(true);
			expect(client.stats().tokenRequests).toBe(1);
			expect(s.sim.control.requestCounts().tokensIssued - issuedBefore).toBe(1);
		});

		it('renews once on a 401 and retries', async () => {
			const client = s.client();
			await client.testConnection();
			s.sim.control.revokeTokens();
			await expect(client.testConnection()).resolves.toBeUndefined();
			expect(client.stats()).toMatchObject({ tokenRequests: 2, retries: 1 });
		});

		it('gives up with an auth error when the renewed token is refused too', async () => {
			const client = s.client();
			await client.testConnection();
			s.sim.control.failNext({ action: { kind: 'status', status: 401 }, times: 2 });
			const error = await caught(client.testConnection());
			expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false, settings: ['appKey', 'tenantId'] });
			expect(error.message).toMatch(/answered 401 to a fresh access token: check the app key \(sent as ST-App-Key\)/);
			expect(client.stats().tokenRequests).toBe(2);
		});

		it('reports wrong credentials as an auth error without retrying the POST', async () => {
			const client = new ServiceTitanClient(
				{
					clientId: s.sim.clientId,
					clientSecret: 'wrong-secret-123',
					appKey: s.sim.appKey,
					tenantId: s.sim.tenantId,
					environment: 'integration',
					authUrl: s.sim.tokenUrl,
					apiBaseUrl: s.sim.apiBaseUrl,
				},
				{ userAgent: CLIENT_USER_AGENT },
			);
			try {
				const error = await caught(client.testConnection());
				expect(error).toMatchObject({ kind: 'auth', status: 400, retryable: false });
				expect(error.message).toContain('invalid_client');
				expect(client.stats().tokenRequests).toBe(1);
			} finally {
				client.close();
			}
		});
	});

	describe('secrets', () => {
		it('never shows the client secret, app key or a token in errors or logs', async () => {
			const lines: string[] = [];
			const log = (level: string, message: string, fields: Record<string, unknown>) => lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
			const failures: unknown[] = [];
			const grab = async (promise: Promise<unknown>) => {
				try {
					await promise;
				} catch (error: unknown) {
					failures.push(error);
				}
			};
			const client = s.client({ log, maxRetries: 1, timeoutMs: 100 });
			const id = s.sim.control.listIds('materials')[0];
			s.sim.control.failNext({ action: { kind: 'reset' }, times: 2 });
			await grab(client.get('materials', id));
			s.sim.control.failNext({ action: { kind: 'timeout' }, times: 2 });
			await grab(client.get('materials', id));
			s.sim.control.failNext({ action: { kind: 'malformed' }, times: 2 });
			await grab(client.get('materials', id));
			s.sim.control.failNext({ action: { kind: 'status', status: 503 }, times: 2 });
			await grab(client.get('materials', id));
			s.sim.control.failNext({ action: { kind: 'status', status: 401 }, times: 2 });
			await grab(client.get('materials', id));
			await grab(client.patch('materials', id, { primaryVendor: { vendorId: 424242, cost: 1, active: true } }));

			// Nothing listening: a connection refused on the token request.
			const closed = await new Promise<number>((resolve) => {
				const server = net.createServer().listen(0, '127.0.0.1', () => {
					const { port } = server.address() as net.AddressInfo;
					server.close(() => resolve(port));
				});
			});
			const offline = new ServiceTitanClient(
				{
					clientId: s.sim.clientId,
					clientSecret: s.sim.clientSecret,
					appKey: s.sim.appKey,
					tenantId: s.sim.tenantId,
					environment: 'integration',
					authUrl: `http://127.0.0.1:${closed}/connect/token`,
					apiBaseUrl: `http://127.0.0.1:${closed}`,
				},
				{ log, maxRetries: 1, backoffBaseMs: 1 },
			);
			await grab(offline.testConnection());
			offline.close();

			expect(failures).toHaveLength(7);
			expect(failures.every((f) => f instanceof StApiError)).toBe(true);
			expect(failures.map((f) => (f as StApiError).kind)).toEqual([
				'network',
				'timeout',
				'malformed_response',
				'server',
				'auth',
				'validation',
				'network',
			]);
			const secrets = [s.sim.clientSecret, s.sim.appKey, ...s.sim.control.issuedTokens()];
			expect(secrets.length).toBeGreaterThan(3);
			const outputs = [
				...failures.map((f) => JSON.stringify(f)),
				...failures.map((f) => inspect(f, { depth: 20, showHidden: true })),
				...failures.map((f) => String((f as Error).stack)),
				...lines,
				inspect(client, { depth: 20, showHidden: true }),
				JSON.stringify(client),
			].join('\n');
			expect(lines.length).toBeGreaterThan(3);
			for (const secret of secrets) expect(outputs).not.toContain(secret);
			for (const f of failures) {
				for (const key of ['config', 'request', 'response', 'cause']) expect(f).not.toHaveProperty(key);
			}
		});
	});

	it('made only requests the OpenAPI document declares, and got only answers that follow it', () => {
		expect(s.contract.violations()).toEqual([]);
		expect(s.contract.clientRequestsChecked()).toBeGreaterThan(40);
		expect(s.contract.responsesChecked()).toBeGreaterThan(40);
		// PATCH bodies were among the checked requests.
		expect(s.contract.exchanges.some((x) => x.method === 'PATCH' && x.userAgent === CLIENT_USER_AGENT && x.status === 200)).toBe(true);
	});
});
