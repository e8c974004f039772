/**
 * ServiceTitan timestamps (`modifiedOn`, `createdOn`) carry 0 to 7 fractional digits (.NET ticks of 100 ns).
 * A JS Date keeps only milliseconds, so cursors built from Dates can skip rows that share a millisecond. Here
 * a timestamp is handled as a count of 100 ns ticks (BigInt) or as a fixed-width string whose lexical order is
 * its time order.
 */

const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
const FRACTION_DIGITS = 7;

// Date part, time part, 0..7 fractional digits, then Z, an offset, or nothing (ST only speaks UTC, so a missing
// zone is read as UTC rather than as the local zone of whatever machine runs the sync).
const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:?\d{2})?$/i;

export class StTimestampError extends Error {
	constructor(value: unknown, reason: string) {
		const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
		super(`Invalid ServiceTitan timestamp ${shown}: ${reason}`);
		this.name = 'StTimestampError';
	}
}

/** Ticks (100 ns) since the Unix epoch, exact to the 7th fractional digit. */
export function stTimestampToTicks(value: string): bigint {
	if (typeof value !== 'string') throw new StTimestampError(value, 'expected a string');
	const m = PATTERN.exec(value.trim());
	if (!m) throw new StTimestampError(value, 'expected ISO-8601 like 2024-01-31T12:00:00.1234567Z');
	const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
	const year = Number(y);
	const month = Number(mo);
	const day = Number(d);
	const hour = Number(h);
	const minute = Number(mi);
	const second = Number(s);
	const ms = Date.UTC(year, month - 1, day, hour, minute, second);
	const check = new Date(ms);
	// Date.UTC rolls over silently (Feb 30 → Mar 2); a round trip catches impossible dates and times. Years below
	// 100 are mapped to 19xx by Date.UTC, which the round trip also refuses.
	if (
		check.getUTCFullYear() !== year ||
		check.getUTCMonth() !== month - 1 ||
		check.getUTCDate() !== day ||
		check.getUTCHours() !== hour ||
		check.getUTCMinutes() !== minute ||
		check.getUTCSeconds() !== second
	) {
		throw new StTimestampError(value, 'date or time out of range');
	}
	const fractionTicks = BigInt(frac.padEnd(FRACTION_DIGITS, '0'));
	return BigInt(ms) * TICKS_PER_MS + fractionTicks - zoneOffsetTicks(value, zone);
}

function zoneOffsetTicks(value: string, zone: string): bigint {
	if (zone.toUpperCase() === 'Z') return 0n;
	const sign = zone[0] === '-' ? -1n : 1n;
	const digits = zone.slice(1).replace(':', '');
	const hours = Number(digits.slice(0, 2));
	const minutes = Number(digits.slice(2, 4));
	if (hours > 14 || minutes > 59) throw new StTimestampError(value, 'zone offset out of range');
	return sign * BigInt(hours * 60 + minutes) * 60n * TICKS_PER_SECOND;
}

/** The fixed-width form `YYYY-MM-DDTHH:mm:ss.fffffffZ` of a tick count. */
export function ticksToStTimestamp(ticks: bigint): string {
	if (ticks < 0n) throw new StTimestampError(String(ticks), 'before 1970');
	const date = new Date(Number((ticks / TICKS_PER_SECOND) * 1000n));
	if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) throw new StTimestampError(String(ticks), 'after the year 9999');
	const fraction = (ticks % TICKS_PER_SECOND).toString().padStart(FRACTION_DIGITS, '0');
	return `${date.toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * Fixed width, 7 fractional digits, UTC: plain string comparison of two normalized values is time order.
 * Throws StTimestampError on anything that is not an ISO-8601 timestamp.
 */
export function normalizeStTimestamp(value: string): string {
	return ticksToStTimestamp(stTimestampToTicks(value));
}

/** -1, 0 or 1, at full 100 ns precision, whatever the number of fractional digits of either side. */
export function compareStTimestamps(a: string, b: string): -1 | 0 | 1 {
	const ta = stTimestampToTicks(a);
	const tb = stTimestampToTicks(b);
	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/**
 * For PostgreSQL TIMESTAMPTZ, which keeps microseconds. The 7th digit is cut, not rounded: a cut value is never
 * later than the original, so a cursor stored this way can only re-read a row, never skip one.
 */
export function stTimestampToPg(value: string): string {
	const normalized = normalizeStTimestamp(value);
	return `${normalized.slice(0, 26)}Z`;
}

/** `normalized` minus `seconds` (may be fractional, down to 100 ns), normalized: the incremental overlap. */
export function subtractSeconds(normalized: string, seconds: number): string {
	if (!Number.isFinite(seconds) || seconds < 0) {
		throw new RangeError(`subtractSeconds expects a finite, non-negative number of seconds, got ${seconds}`);
	}
	const delta = BigInt(Math.round(seconds * 1e7));
	return ticksToStTimestamp(stTimestampToTicks(normalized) - delta);
}

/** `normalized` plus `seconds` (non-negative), normalized. */
export function addSeconds(normalized: string, seconds: number): string {
	if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`addSeconds expects a finite, non-negative number of seconds, got ${seconds}`);
	return ticksToStTimestamp(stTimestampToTicks(normalized) + BigInt(Math.round(seconds * 1e7)));
}

/** Whether `value` parses as a ServiceTitan timestamp. */
export function isStTimestamp(value: unknown): value is string {
	if (typeof value !== 'string') return false;
	try {
		stTimestampToTicks(value);
		return true;
	} catch {
		return false;
	}
}

/** A record's own `modifiedOn` text, or null when it carries none (categories on a live tenant). */
export function recordStamp(record: Record<string, unknown>): string | null {
	return typeof record.modifiedOn === 'string' ? record.modifiedOn : null;
}

/** stTimestampToPg for a stamp that may be missing. */
export function stampForPg(stamp: string | null): string | null {
	return stamp === null ? null : stTimestampToPg(stamp);
}
