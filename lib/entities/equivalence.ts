import type { CanonicalValue, FieldDef } from './types';

/**
 * Whether ServiceTitan stored an equivalent form of what was pushed rather than the value itself (reported by
 * practitioners): money rounded to fewer decimals, text trimmed or with whitespace collapsed, HTML normalized or
 * stripped, '' stored as null. Such a push landed; the local row adopts ServiceTitan's form. Anything else that
 * differs did not land.
 */
export function isNormalizedForm(field: FieldDef, sent: CanonicalValue | undefined, stored: CanonicalValue | undefined): boolean {
	if (sent === stored) return false;
	if (field.kind === 'decimal') return typeof sent === 'string' && typeof stored === 'string' && roundsTo(sent, stored);
	if (field.kind !== 'text') return false;
	const a = typeof sent === 'string' ? sent : '';
	const b = typeof stored === 'string' ? stored : '';
	if (a === b) return true; // '' and null
	// A stripped tag may leave a space or nothing ("A<br/>B" as "A B" or "AB"): both are ServiceTitan's form of it.
	return plain(a) === plain(b) || [' ', ''].some((gap) => plain(stripTags(a, gap)) === plain(stripTags(b, gap)));
}

/** `stored` is `sent` rounded half away from zero to the decimals `stored` has (fewer than `sent` has). */
function roundsTo(sent: string, stored: string): boolean {
	const places = (stored.split('.')[1] ?? '').length;
	if ((sent.split('.')[1] ?? '').length <= places) return false;
	return roundDecimal(sent, places) === stored;
}

function roundDecimal(text: string, places: number): string {
	const negative = text.startsWith('-');
	const [whole, fraction = ''] = text.replace(/^-/, '').split('.');
	const digits = BigInt(whole + fraction.slice(0, places).padEnd(places, '0'));
	const rounded = Number(fraction[places] ?? '0') >= 5 ? digits + 1n : digits;
	const s = rounded.toString().padStart(places + 1, '0');
	const body = places > 0 ? `${s.slice(0, -places)}.${s.slice(-places)}`.replace(/\.?0+$/, '') : s;
	return negative && body !== '0' ? `-${body}` : body;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/** Whitespace collapsed, trimmed, tags in one spelling (`<BR>`, `<br>`, `<br />` → `<br/>`). */
function plain(text: string): string {
	return text
		.replace(/<\s*([a-zA-Z][a-zA-Z0-9]*)\s*\/?\s*>/g, (_m, tag: string) => `<${tag.toLowerCase()}/>`)
		.replace(/\s+/g, ' ')
		.trim();
}

function stripTags(text: string, gap: string): string {
	return text.replace(/<[^>]*>/g, gap).replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (m) => ENTITIES[m] ?? m);
}
