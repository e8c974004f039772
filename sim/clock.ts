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

/** Ticks at a random precision (0..7 digits), as ST's stored values have. */
export function randomPrecisionTicks(rng: Rng, ms: number): bigint {
	const ticks = BigInt(Math.floor(ms)) * 10_000n + BigInt(randInt(rng, 0, 9_999));
	const digits = randInt(rng, 0, 7);
	const unit = 10n ** BigInt(7 - digits);
	return (ticks / unit) * unit;
}

export function parseTicks(value: string): bigint {
	return stTimestampToTicks(value);
}
