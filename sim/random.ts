/** Seeded pseudo-random numbers (mulberry32): the same seed gives the same data and the same faults. */
export type Rng = () => number;

export function createRng(seed: number): Rng {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Inclusive on both ends. */
export function randInt(rng: Rng, min: number, max: number): number {
	return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
	return items[Math.floor(rng() * items.length)];
}

export function chance(rng: Rng, p: number): boolean {
	return rng() < p;
}

/** A money amount with 2 decimals. */
export function money(rng: Rng, min: number, max: number): number {
	return Math.round((min + rng() * (max - min)) * 100) / 100;
}

/** A stable 32-bit hash (FNV-1a) for orderings that must not change between requests. */
export function hash32(...parts: Array<string | number>): number {
	let h = 0x811c9dc5;
	for (const ch of parts.join('|')) {
		h ^= ch.charCodeAt(0);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return h >>> 0;
}

export function randomHex(rng: Rng, bytes: number): string {
	let out = '';
	for (let i = 0; i < bytes; i++) out += randInt(rng, 0, 255).toString(16).padStart(2, '0');
	return out;
}
