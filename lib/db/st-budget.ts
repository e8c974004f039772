import type { Queryable } from './connection';

/** The answer to one request for a slot: granted (start in waitMs), or not yet (ask again in retryMs). */
export interface SlotAnswer {
	granted: boolean;
	/** Until the reserved slot (granted). Never negative. */
	waitMs: number;
	/** Not granted: until the queue has drained to what the lane may reach and no higher lane holds it back. */
	retryMs: number;
}

export interface SlotRequest {
	ratePerSecond: number;
	/** How far ahead of now the slot may lie. */
	horizonS: number;
	lane: string;
	/** A lane that yields: no slot while a higher lane was served within the last `holdS` seconds. */
	yields: boolean;
	/** A lane others yield to: after its grant they hold back this many seconds. 0: none. */
	holdS: number;
	/**
	 * Whether a grant counts as a request in the lane's figures: false when the request takes a new slot because it
	 * was too late for its first (it goes out once, and is counted once).
	 */
	counts: boolean;
}

/**
 * Reserves the next free slot of the budget when it lies within `horizonS` seconds of now (the database's clock):
 * the slot after it moves on by 1/rate, or 1/(rate x lowered_factor) while a 429 has lowered it. One row lock per
 * request keeps every process's requests spaced out. Null when the budget has no row yet (see ensureBudget).
 */
export async function takeSlot(q: Queryable, budgetKey: string, r: SlotRequest): Promise<SlotAnswer | null> {
	const row = await q.oneOrNone<{ wait_ms: number; retry_ms: number; granted: boolean }>(
		`WITH cur AS (
			SELECT budget_key, clock_timestamp() AS now, greatest(next_slot, clock_timestamp()) AS at, minute_start,
				CASE WHEN $5 AND priority_until > clock_timestamp() THEN priority_until END AS held_until,
				CASE WHEN lowered_until > clock_timestamp() THEN $2 * lowered_factor ELSE $2 END AS rate
			FROM st_request_budget WHERE budget_key = $1 FOR UPDATE
		), upd AS (
			UPDATE st_request_budget b SET
				next_slot = cur.at + make_interval(secs => 1.0 / cur.rate),
				rate_per_second = $2,
				minute_start = CASE WHEN cur.now - b.minute_start >= interval '1 minute' THEN cur.now ELSE b.minute_start END,
				last_minute = CASE WHEN cur.now - b.minute_start >= interval '1 minute' THEN b.this_minute ELSE b.last_minute END,
				this_minute = CASE WHEN cur.now - b.minute_start >= interval '1 minute' THEN
						CASE WHEN $7 THEN jsonb_build_object($4::text, 1) ELSE '{}'::jsonb END
					WHEN $7 THEN jsonb_set(b.this_minute, ARRAY[$4::text], to_jsonb(coalesce((b.this_minute ->> $4::text)::int, 0) + 1))
					ELSE b.this_minute END,
				priority_until = CASE WHEN $6 > 0 THEN greatest(b.priority_until, cur.now + make_interval(secs => $6)) ELSE b.priority_until END,
				updated_at = cur.now
			FROM cur WHERE b.budget_key = cur.budget_key AND cur.held_until IS NULL AND cur.at <= cur.now + make_interval(secs => $3)
			RETURNING 1
		)
		SELECT greatest(0, extract(epoch FROM greatest(cur.at - make_interval(secs => $3), cur.held_until) - cur.now) * 1000)::float8 AS retry_ms,
			greatest(0, extract(epoch FROM cur.at - cur.now) * 1000)::float8 AS wait_ms, EXISTS (SELECT 1 FROM upd) AS granted FROM cur`,
		[budgetKey, r.ratePerSecond, r.horizonS, r.lane, r.yields, r.holdS, r.counts],
	);
	return row ? { granted: row.granted, waitMs: Number(row.wait_ms), retryMs: Number(row.retry_ms) } : null;
}

/** Creates the budget's row if it is missing (first request of a tenant on this database). */
export async function ensureBudget(q: Queryable, budgetKey: string, tenantId: string, ratePerSecond: number): Promise<void> {
	await q.none('INSERT INTO st_request_budget (budget_key, tenant_id, rate_per_second) VALUES ($1, $2, $3) ON CONFLICT (budget_key) DO NOTHING', [
		budgetKey,
		tenantId,
		ratePerSecond,
	]);
}

/**
 * ServiceTitan answered 429: no slot is handed out before the wait it named has passed, and the rate is lowered by a
 * fifth for `lowerForS` seconds, by another fifth for each further 429 while lowered (down to a quarter). Several
 * 429s answered within a second of each other lower it once: they are one burst, seen by several requests in flight.
 * A fifth, not a half: a lone 429 is most often a second that ran over by one request, and halving the rate for a
 * while cost a 10,000-edit push about 35 s.
 */
export async function lowerBudget(q: Queryable, budgetKey: string, waitMs: number, lowerForS: number): Promise<void> {
	await q.none(
		`UPDATE st_request_budget SET
			lowered_factor = CASE
				WHEN last_rate_limited_at > clock_timestamp() - interval '1 second' THEN lowered_factor
				WHEN lowered_until > clock_timestamp() THEN greatest(0.25, lowered_factor * 0.8)
				ELSE 0.8 END,
			lowered_until = clock_timestamp() + make_interval(secs => $3),
			next_slot = greatest(next_slot, clock_timestamp() + make_interval(secs => $2 / 1000.0)),
			rate_limited_count = rate_limited_count + 1,
			last_rate_limited_at = clock_timestamp(),
			updated_at = clock_timestamp()
		WHERE budget_key = $1`,
		[budgetKey, waitMs, lowerForS],
	);
}

export interface BudgetRecord {
	tenant_id: string;
	rate_per_second: number;
	effective_rate: number;
	lowered_until: Date | null;
	rate_limited_count: number;
	last_rate_limited_at: Date | null;
	/** Requests per lane in the last full minute (the current one while it is the first). */
	last_minute: Record<string, number>;
	this_minute: Record<string, number>;
	minute_start: Date;
	queued_ms: number;
	updated_at: Date;
}

/** Every budget on this database, for status: its rate now, how deep its queue is, its use per lane. */
export async function readBudgets(q: Queryable): Promise<BudgetRecord[]> {
	const rows = await q.any<BudgetRecord>(
		`SELECT tenant_id, rate_per_second,
			CASE WHEN lowered_until > clock_timestamp() THEN rate_per_second * lowered_factor ELSE rate_per_second END AS effective_rate,
			CASE WHEN lowered_until > clock_timestamp() THEN lowered_until END AS lowered_until,
			rate_limited_count, last_rate_limited_at, last_minute, this_minute, minute_start, updated_at,
			greatest(0, extract(epoch FROM next_slot - clock_timestamp()) * 1000)::float8 AS queued_ms
		FROM st_request_budget ORDER BY tenant_id`,
	);
	return rows.map((r) => ({
		...r,
		rate_limited_count: Number(r.rate_limited_count),
		rate_per_second: Number(r.rate_per_second),
		effective_rate: Number(r.effective_rate),
		queued_ms: Number(r.queued_ms),
	}));
}
