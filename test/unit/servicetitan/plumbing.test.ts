import { backoffDelayMs, parseRetryAfterMs } from '../../../lib/servicetitan/backoff';
import { flattenCategories } from '../../../lib/servicetitan/categories';
import { RateLimiter } from '../../../lib/servicetitan/rate-limiter';
import { TokenCache, type AccessToken } from '../../../lib/servicetitan/token';
import type { StRecord } from '../../../lib/servicetitan/types';
import { fakeTime } from '../../support/st-client-helpers';

describe('backoff', () => {
	it('doubles per retry with equal jitter, capped', () => {
		expect(backoffDelayMs(1, 500, 60_000, () => 0)).toBe(250);
		expect(backoffDelayMs(1, 500, 60_000, () => 0.999999)).toBe(500);
		expect(backoffDelayMs(3, 500, 60_000, () => 0.5)).toBe(1500);
		expect(backoffDelayMs(20, 500, 60_000, () => 1)).toBe(60_000);
	});

	it('reads Retry-After as seconds or as an HTTP date', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');
		expect(parseRetryAfterMs('3', now)).toBe(3000);
		expect(parseRetryAfterMs('0.5', now)).toBe(500);
		expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
		expect(parseRetryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
		expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
		expect(parseRetryAfterMs('soon', now)).toBeUndefined();
	});
});

describe('RateLimiter', () => {
	it('lets at most N requests start in any second, queuing the rest in order', async () => {
		const clock = fakeTime();
		const limiter = new RateLimiter(3, clock.now, clock.sleep);
		const starts: number[] = [];
		await Promise.all(Array.from({ length: 7 }, () => limiter.acquire().then(() => starts.push(clock.now()))));
		const t0 = starts[0];
		expect(starts.map((t) => t - t0)).toEqual([0, 0, 0, 1000, 1000, 1000, 2000]);
	});

	it('refuses a non-positive rate', () => {
		const clock = fakeTime();
		expect(() => new RateLimiter(0, clock.now, clock.sleep)).toThrow(RangeError);
	});
});

describe('TokenCache', () => {
	it('shares one pending request between concurrent callers and reuses the token until shortly before expiry', async () => {
		const clock = fakeTime();
		let issued = 0;
		const cache = new TokenCache(
			async (): Promise<AccessToken> => {
				issued += 1;
				await Promise.resolve();
				return { value: `t${issued}`, expiresAt: clock.now() + 900_000 };
			},
			clock.now,
			60_000,
		);
		const tokens = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
		expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['t1']));
		await clock.sleep(839_000);
		expect((await cache.get()).value).toBe('t1');
		await clock.sleep(2_000); // inside the renewal margin
		expect((await cache.get()).value).toBe('t2');
		expect(issued).toBe(2);
	});

	it('invalidates only the rejected token, so a burst of 401s renews once', async () => {
		const clock = fakeTime();
		let issued = 0;
		const cache = new TokenCache(async () => ({ value: `t${++issued}`, expiresAt: clock.now() + 900_000 }), clock.now, 60_000);
		const stale = await cache.get();
		cache.invalidate(stale);
		const fresh = await cache.get();
		cache.invalidate(stale); // a late 401 for the old token
		expect((await cache.get()).value).toBe(fresh.value);
		expect(issued).toBe(2);
	});

	it('does not cache a failed request', async () => {
		const clock = fakeTime();
		let calls = 0;
		const cache = new TokenCache(
			async () => {
				calls += 1;
				if (calls === 1) throw new Error('auth down');
				return { value: 'ok', expiresAt: clock.now() + 900_000 };
			},
			clock.now,
			60_000,
		);
		await expect(cache.get()).rejects.toThrow('auth down');
		expect((await cache.get()).value).toBe('ok');
	});
});

describe('flattenCategories', () => {
	const rec = (id: number, extra: Record<string, unknown> = {}): StRecord => ({ id, modifiedOn: '2024-01-01T00:00:00Z', ...extra });

	it('flattens nested lists, each child carrying its parentId, without subcategories', () => {
		const nested = [
			rec(1, { parentId: null, subcategories: [rec(2, { subcategories: [rec(3, { parentId: 2, subcategories: [] })] }), rec(4)] }),
			rec(5, { parentId: null, subcategories: null }),
		];
		const flat = flattenCategories(nested);
		expect(flat.map((c) => [c.id, c.parentId])).toEqual([
			[1, null],
			[2, 1],
			[3, 2],
			[4, 1],
			[5, null],
		]);
		expect(flat.every((c) => !('subcategories' in c))).toBe(true);
	});

	it('passes flat lists through and lists a category seen twice once', () => {
		const flat = flattenCategories([rec(1, { parentId: null, subcategories: [rec(2, { parentId: 1 })] }), rec(2, { parentId: 1 })]);
		expect(flat.map((c) => c.id)).toEqual([1, 2]);
	});
});
