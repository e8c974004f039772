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

/**
 * The wait a 429 body names, as milliseconds: ServiceTitan's gateway is reported to say it only in the body
 * (`"title": "Rate limit is exceeded. Try again in 7 seconds."`), as JSON (`title`, or `message`) or as plain
 * text. Undefined when the body names no number of seconds.
 */
export function parseBodyWaitMs(body: string): number | undefined {
	const text = body.slice(0, 4000);
	let candidates = [text];
	try {
		const parsed: unknown = JSON.parse(text);
		if (typeof parsed === 'object' && parsed !== null) {
			const record = parsed as Record<string, unknown>;
			candidates = [record.title, record.message, record.detail].filter((v): v is string => typeof v === 'string');
		}
	} catch {
		// Not JSON: the text itself.
	}
	for (const candidate of candidates) {
		const match = /try again in (\d+(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b/i.exec(candidate) ?? /(\d+(?:\.\d+)?) ?(?:seconds?|secs?)\b/i.exec(candidate);
		if (match) return Math.round(Number(match[1]) * 1000);
	}
	return undefined;
}

/** Where a named wait came from, for messages and logs. */
export type WaitSource = 'Retry-After' | 'body';

/** The wait a 429 answer names: Retry-After first, else the body's title. */
export function namedWaitOf(headers: Record<string, string | undefined>, body: string, nowMs: number): { ms: number; source: WaitSource } | undefined {
	const header = parseRetryAfterMs(headers['retry-after'], nowMs);
	if (header !== undefined) return { ms: header, source: 'Retry-After' };
	const fromBody = parseBodyWaitMs(body);
	return fromBody === undefined ? undefined : { ms: fromBody, source: 'body' };
}
