import { stTimestampToTicks, ticksToStTimestamp } from '../lib/servicetitan/timestamps';
import { randInt, type Rng } from './random';

/**
 * The simulator's notion of "now" (ServiceTitan's clock). Injectable, and movable with advance(), so tests
 * decide what `modifiedOn` values ST hands out.
 */
export class SimClock {
	private offsetMs = 0;

	constructor(private readonly base: () => number = Date.now) {}

	now(): number {
		return this.base() + this.offsetMs;
	}

	/** How far this clock is ahead of (or, negative, behind) its base: what a snapshot keeps of it. */
	offset(): number {
		return this.offsetMs;
	}

	advance(ms: number): void {
		if (!Number.isFinite(ms)) throw new RangeError(`advanceClock expects a number of ms, got ${ms}`);
		this.offsetMs += ms;
	}
}

/**
 * Renders ticks the way .NET serializes a DateTime: fractional digits with trailing zeros dropped, so ST's
 * values carry anywhere from 0 to 7 of them.
 */
export function formatStTicks(ticks: bigint): string {
	const full = ticksToStTimestamp(ticks); // ....ss.fffffffZ
	const fraction = full.slice(20, 27).replace(/0+$/, '');
	return `${full.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

/** The fewest fractional digits ST's timestamps have: a live tenant sends 3 to 7; the older default was 0 to 7. */
export function minFractionDigits(mode: 'live' | 'any'): number {
	return mode === 'live' ? 3 : 0;
}

/**
 * Ticks at a random precision (`minDigits`..7 fractional digits), as ST's stored values have. With `minDigits`
 * above 0 the last kept digit is never 0, so dropping trailing zeros cannot take the value below `minDigits`.
 */
export function randomPrecisionTicks(rng: Rng, ms: number, minDigits = 0): bigint {
	const ticks = BigInt(Math.floor(ms)) * 10_000n + BigInt(randInt(rng, 0, 9_999));
	const digits = randInt(rng, minDigits, 7);
	const unit = 10n ** BigInt(7 - digits);
	const kept = ticks / unit;
	return (minDigits > 0 && kept % 10n === 0n ? kept + 1n : kept) * unit;
}

/** `ticks`, or the next tick with at least `minDigits` fractional digits once trailing zeros are dropped. */
export function atLeastDigits(ticks: bigint, minDigits: number): bigint {
	if (minDigits === 0) return ticks;
	let out = ticks;
	while (fractionDigits(out) < minDigits) out += 1n;
	return out;
}

function fractionDigits(ticks: bigint): number {
	let fraction = ticks % 10_000_000n;
	if (fraction === 0n) return 0;
	let digits = 7;
	while (fraction % 10n === 0n) {
		fraction /= 10n;
		digits -= 1;
	}
	return digits;
}

export function parseTicks(value: string): bigint {
	return stTimestampToTicks(value);
}
