import type { Queryable } from '../db/connection';
import { readBudgets } from '../db/st-budget';

/** How one tenant's shared ServiceTitan request budget is used (status): its rate, a 429's effect, requests per lane. */
export interface BudgetUse {
	tenantId: string;
	/** The rate the processes are configured with. */
	ratePerSecond: number;
	/** The rate now: lower than ratePerSecond for a while after a 429. */
	effectiveRatePerSecond: number;
	loweredUntil: string | null;
	/** 429 answers seen by any process since the budget was created. */
	rateLimited: number;
	lastRateLimitedAt: string | null;
	/** Requests per lane in the last full minute and in the minute under way. */
	lastMinute: Record<string, number>;
	thisMinute: Record<string, number>;
	/** How far ahead requests are already booked: the wait a new full-run request would have. */
	queuedMs: number;
	lastRequestAt: string;
}

export async function readBudgetUse(q: Queryable): Promise<BudgetUse[]> {
	return (await readBudgets(q)).map((b) => ({
		tenantId: b.tenant_id,
		ratePerSecond: b.rate_per_second,
		effectiveRatePerSecond: Math.round(b.effective_rate * 100) / 100,
		loweredUntil: b.lowered_until?.toISOString() ?? null,
		rateLimited: b.rate_limited_count,
		lastRateLimitedAt: b.last_rate_limited_at?.toISOString() ?? null,
		lastMinute: b.last_minute,
		thisMinute: b.this_minute,
		queuedMs: Math.round(b.queued_ms),
		lastRequestAt: b.updated_at.toISOString(),
	}));
}

/** One line for people: "tenant 123: 50 requests/s (...); last minute 2400 requests (bulk 2390, incremental 10)". */
export function describeBudgetUse(b: BudgetUse): string {
	const total = (m: Record<string, number>) => Object.values(m).reduce((n, v) => n + v, 0);
	const lanes = (m: Record<string, number>) =>
		Object.entries(m)
			.sort(([a], [b]) => a.localeCompare(b))
			.map(([lane, n]) => `${lane} ${n}`)
			.join(', ');
	const rate =
		b.loweredUntil !== null
			? `${b.effectiveRatePerSecond} requests/s, lowered from ${b.ratePerSecond} until ${b.loweredUntil} after a 429`
			: `${b.ratePerSecond} requests/s`;
	const minute = total(b.lastMinute) > 0 ? b.lastMinute : b.thisMinute;
	return `tenant ${b.tenantId}: ${rate}; last minute ${total(minute)} request(s)${total(minute) > 0 ? ` (${lanes(minute)})` : ''}; ${b.rateLimited} 429(s) in all; last request ${b.lastRequestAt}`;
}
