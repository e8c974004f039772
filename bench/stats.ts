/** Order statistics of a few runs (nearest rank; the median of an even count is the mean of the middle two). */
export interface Spread {
	median: number;
	min: number;
	max: number;
	runs: number;
	samples: number[];
}

export function median(values: readonly number[]): number {
	if (values.length === 0) return NaN;
	const s = [...values].sort((a, b) => a - b);
	const mid = Math.floor(s.length / 2);
	return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values: readonly number[], p: number): number {
	if (values.length === 0) return NaN;
	const s = [...values].sort((a, b) => a - b);
	const rank = Math.ceil((p / 100) * s.length);
	return s[Math.min(s.length, Math.max(1, rank)) - 1];
}

export function spread(values: readonly number[], digits = 3): Spread {
	return {
		median: round(median(values), digits),
		min: round(Math.min(...values), digits),
		max: round(Math.max(...values), digits),
		runs: values.length,
		samples: values.map((v) => round(v, digits)),
	};
}

export function round(value: number, digits = 3): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}
