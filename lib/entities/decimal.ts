/**
 * Money and quantities travel as JSON numbers from ServiceTitan and as NUMERIC strings from PostgreSQL. Both are
 * compared and stored as one canonical decimal string ("12.5", "0", "-3.25"): no trailing zeros, no exponent,
 * never a float in between.
 */
const DECIMAL = /^[+-]?(\d+)(?:\.(\d+))?$/;

export function canonicalDecimal(value: unknown): string | null {
	if (value === null || value === undefined) return null;
	let text: string;
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
		text = Math.abs(value) < 1e-6 && value !== 0 ? value.toFixed(12) : String(value);
		if (/e/i.test(text)) text = value.toFixed(12);
	} else if (typeof value === 'string') {
		text = value.trim();
	} else {
		throw new TypeError(`not a decimal: ${typeof value}`);
	}
	const match = DECIMAL.exec(text);
	if (!match) throw new TypeError(`not a decimal: ${JSON.stringify(text.slice(0, 40))}`);
	const negative = text.startsWith('-');
	const whole = match[1].replace(/^0+(?=\d)/, '');
	const fraction = (match[2] ?? '').replace(/0+$/, '');
	const body = fraction ? `${whole}.${fraction}` : whole;
	return negative && body !== '0' ? `-${body}` : body;
}
