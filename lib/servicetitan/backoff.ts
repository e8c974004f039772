/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so clients that failed together
 * spread out but none retries immediately.
 */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
	const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
	return Math.round(step / 2 + random() * (step / 2));
}

/**
 * `Retry-After` as milliseconds from now: delta seconds or an HTTP date. Undefined when absent or unreadable,
 * so the caller falls back to its own backoff.
 */
export function parseRetryAfterMs(header: string | undefined, nowMs: number): number | undefined {
	if (header === undefined) return undefined;
	const value = header.trim();
	if (value === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
	const date = Date.parse(value);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - nowMs);
}
