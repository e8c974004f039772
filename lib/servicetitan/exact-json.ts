import { randomBytes } from 'node:crypto';

/**
 * A decimal that goes into a request body as its exact text, as a JSON number: `12.857142857142857143`, never
 * through a binary float (`Number()` would send 12.857142857142858, which ServiceTitan then stores, so the local
 * NUMERIC and ServiceTitan's value would differ forever). Anything else that serializes it gets the nearest number.
 */
export class ExactDecimal {
	constructor(readonly text: string) {
		if (!/^-?\d+(\.\d+)?$/.test(text)) throw new TypeError(`not a plain decimal: ${JSON.stringify(text.slice(0, 40))}`);
	}

	toJSON(): number {
		return Number(this.text);
	}
}

/** JSON text of a request body, with every ExactDecimal written as its exact digits. */
export function stringifyExact(value: unknown): string {
	// A marker no value can contain: a fresh random token per body.
	const token = `__exact_${randomBytes(12).toString('hex')}__`;
	const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
		const raw = key === '' ? v : this[key];
		return raw instanceof ExactDecimal ? `${token}${raw.text}` : v;
	});
	return text.replace(new RegExp(`"${token}(-?\\d+(?:\\.\\d+)?)"`, 'g'), '$1');
}
