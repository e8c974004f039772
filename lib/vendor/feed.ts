import type { ColumnMapping } from './config';
import { CsvFormatError, parseCsv, stripBom } from './csv';

/**
 * Turns a vendor feed (CSV or a JSON array) into validated price rows and a list of bad rows. A feed that is not
 * the expected format at all (no SKU or price column, not CSV or a JSON array of objects) throws
 * FeedFormatError: the import then writes no price.
 */
export class FeedFormatError extends Error {}

export interface FeedRow {
	/** CSV: the line the record starts on; JSON: the element's position in the array (1-based). */
	line: number;
	sku: string;
	/** Decimal text, never a float: money stays exact up to numeric(12,4). */
	price: string;
	description: string | null;
	unit: string | null;
	packSize: string | null;
	effectiveDate: string | null;
}

export interface BadRow {
	line: number;
	sku: string | null;
	reason: string;
}

export interface ParsedFeed {
	format: 'csv' | 'json';
	rows: FeedRow[];
	bad: BadRow[];
	/** Records read, good and bad. */
	total: number;
}

type Field = keyof ColumnMapping;
// numeric(12,4): at most 8 digits before the point.
const MAX_PRICE = 1e8;

function normalize(name: string): string {
	return name.trim().toLowerCase();
}

/** The position of each mapped field among the headers (first matching name wins), or -1 when absent. */
function locate(headers: string[], mapping: ColumnMapping): Record<Field, number> {
	const index = new Map<string, number>();
	headers.forEach((h, i) => {
		if (!index.has(normalize(h))) index.set(normalize(h), i);
	});
	const find = (candidates: string[] | undefined) => {
		for (const c of candidates ?? []) {
			const i = index.get(normalize(c));
			if (i !== undefined) return i;
		}
		return -1;
	};
	return {
		sku: find(mapping.sku),
		price: find(mapping.price),
		description: find(mapping.description),
		unit: find(mapping.unit),
		packSize: find(mapping.packSize),
		effectiveDate: find(mapping.effectiveDate),
	};
}

/** "12.5", "$1,234.50", " 7 " → decimal text; anything else (including negatives) → null. */
export function parsePrice(raw: string): string | null {
	let s = raw.trim().replace(/^\$\s*/, '');
	if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
	if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s)) return null;
	return s;
}

/** ISO (2024-12-10, optionally with a time) or US (12/10/2024) dates → YYYY-MM-DD; otherwise null. */
export function parseDate(raw: string): string | null {
	const s = raw.trim();
	let y: number, m: number, d: number;
	let match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(s);
	if (match) [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
	else if ((match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s))) [m, d, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
	else return null;
	const date = new Date(Date.UTC(y, m - 1, d));
	if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
	return date.toISOString().slice(0, 10);
}

function text(value: unknown): string {
	if (value === null || value === undefined) return '';
	return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Validates one record given as a value getter per field. */
function toRow(line: number, get: (f: Field) => string, has: Record<Field, boolean>): FeedRow | BadRow {
	const sku = get('sku').trim();
	if (sku === '') return { line, sku: null, reason: 'missing vendor SKU' };
	const rawPrice = get('price');
	if (rawPrice.trim() === '') return { line, sku, reason: 'missing price' };
	if (/^\s*-/.test(rawPrice)) return { line, sku, reason: `negative price ${JSON.stringify(rawPrice.trim())}` };
	const price = parsePrice(rawPrice);
	if (price === null) return { line, sku, reason: `price ${JSON.stringify(rawPrice.trim())} is not a number` };
	if (Number(price) >= MAX_PRICE) return { line, sku, reason: `price ${price} is too large (at most 99999999.9999)` };
	const optional = (f: Field) => (has[f] && get(f).trim() !== '' ? get(f).trim() : null);
	let packSize = optional('packSize');
	if (packSize !== null) {
		const parsed = parsePrice(packSize);
		if (parsed === null || Number(parsed) <= 0) return { line, sku, reason: `pack size ${JSON.stringify(packSize)} is not a positive number` };
		packSize = parsed;
	}
	let effectiveDate = optional('effectiveDate');
	if (effectiveDate !== null) {
		const parsed = parseDate(effectiveDate);
		if (parsed === null) return { line, sku, reason: `effective date ${JSON.stringify(effectiveDate)} is not a date (YYYY-MM-DD or MM/DD/YYYY)` };
		effectiveDate = parsed;
	}
	return { line, sku, price, description: optional('description'), unit: optional('unit'), packSize, effectiveDate };
}

function missingColumns(pos: Record<Field, number>, mapping: ColumnMapping, what: string): void {
	const missing = (['sku', 'price'] as const).filter((f) => pos[f] === -1);
	if (missing.length > 0) {
		throw new FeedFormatError(
			`not the expected feed format: ${what} has no ${missing.map((f) => `${f === 'sku' ? 'vendor SKU' : 'price'} column (expected one of ${mapping[f].map((n) => JSON.stringify(n)).join(', ')})`).join(' and no ')}`,
		);
	}
}

function parseCsvFeed(content: string, mapping: ColumnMapping): Omit<ParsedFeed, 'bad'> & { bad: BadRow[] } {
	let records;
	try {
		records = parseCsv(content);
	} catch (error) {
		if (error instanceof CsvFormatError) throw new FeedFormatError(`not a readable CSV file: ${error.message}`);
		throw error;
	}
	if (records.length === 0) throw new FeedFormatError('the feed is empty: expected a header row and price rows');
	const [header, ...body] = records;
	const pos = locate(header.fields, mapping);
	missingColumns(pos, mapping, 'the header row');
	const has = Object.fromEntries(Object.entries(pos).map(([f, i]) => [f, i !== -1])) as Record<Field, boolean>;
	const rows: FeedRow[] = [];
	const bad: BadRow[] = [];
	for (const r of body) {
		if (r.fields.length !== header.fields.length) {
			const sku = r.fields[pos.sku]?.trim() || null;
			bad.push({ line: r.line, sku, reason: `${r.fields.length} fields where the header has ${header.fields.length}` });
			continue;
		}
		const row = toRow(r.line, (f) => (pos[f] === -1 ? '' : r.fields[pos[f]]), has);
		if ('reason' in row) bad.push(row);
		else rows.push(row);
	}
	return { format: 'csv', rows, bad, total: body.length };
}

function parseJsonFeed(content: string, mapping: ColumnMapping): ParsedFeed {
	let data: unknown;
	try {
		data = JSON.parse(content);
	} catch (error) {
		throw new FeedFormatError(`not valid JSON: ${(error as Error).message}`);
	}
	// Some exports wrap the array ({"items": [...]}); accept exactly one array property, never guess between several.
	if (data && typeof data === 'object' && !Array.isArray(data)) {
		const arrays = Object.values(data as Record<string, unknown>).filter(Array.isArray);
		if (arrays.length === 1) data = arrays[0];
	}
	if (!Array.isArray(data)) throw new FeedFormatError('not the expected feed format: JSON feeds must be an array of price objects');
	const objects = data.filter((d) => d && typeof d === 'object' && !Array.isArray(d)) as Record<string, unknown>[];
	if (data.length > 0 && objects.length === 0) throw new FeedFormatError('not the expected feed format: the JSON array holds no objects');
	const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
	const pos = locate(keys, mapping);
	if (data.length > 0) missingColumns(pos, mapping, 'no JSON object');
	const has = Object.fromEntries(Object.entries(pos).map(([f, i]) => [f, i !== -1])) as Record<Field, boolean>;
	const rows: FeedRow[] = [];
	const bad: BadRow[] = [];
	data.forEach((item: unknown, i: number) => {
		if (!item || typeof item !== 'object' || Array.isArray(item)) {
			bad.push({ line: i + 1, sku: null, reason: 'not a JSON object' });
			return;
		}
		// Keys are looked up per object: exports are not always consistent in case from one object to the next.
		const o = new Map(Object.entries(item as Record<string, unknown>).map(([k, v]) => [normalize(k), v]));
		const get = (f: Field) => {
			for (const name of mapping[f] ?? []) if (o.has(normalize(name))) return text(o.get(normalize(name)));
			return '';
		};
		const row = toRow(i + 1, get, has);
		if ('reason' in row) bad.push(row);
		else rows.push(row);
	});
	return { format: 'json', rows, bad, total: data.length };
}

/** How many of a duplicated SKU's lines its reason names: the full list of a SKU repeated 20,000 times, in each of its 20,000 reasons, was gigabytes. */
export const DUPLICATE_LINES_SHOWN = 10;

/** The reason given for each row of a SKU that appears on `lines` (the first few of them) `count` times in all. */
export function duplicateReason(lines: readonly number[], count: number): string {
	const shown = lines.slice(0, DUPLICATE_LINES_SHOWN).join(', ');
	return count > DUPLICATE_LINES_SHOWN
		? `duplicate vendor SKU (${count} rows: lines ${shown} and ${count - DUPLICATE_LINES_SHOWN} more)`
		: `duplicate vendor SKU (lines ${shown})`;
}

/**
 * Rows whose SKU appears more than once: all of them are bad (which one is right would be a guess). Linear: one
 * count and the first few lines per SKU, then one reason string per duplicated SKU shared by all its rows.
 */
function dropDuplicates(feed: ParsedFeed): ParsedFeed {
	const seen = new Map<string, { count: number; lines: number[] }>();
	for (const r of feed.rows) {
		const s = seen.get(r.sku);
		if (!s) seen.set(r.sku, { count: 1, lines: [r.line] });
		else if (++s.count <= DUPLICATE_LINES_SHOWN) s.lines.push(r.line);
	}
	const reasons = new Map<string, string>();
	const rows: FeedRow[] = [];
	const bad = [...feed.bad];
	for (const r of feed.rows) {
		const s = seen.get(r.sku);
		if (!s || s.count === 1) {
			rows.push(r);
			continue;
		}
		let reason = reasons.get(r.sku);
		if (reason === undefined) reasons.set(r.sku, (reason = duplicateReason(s.lines, s.count)));
		bad.push({ line: r.line, sku: r.sku, reason });
	}
	bad.sort((a, b) => a.line - b.line);
	return { ...feed, rows, bad };
}

export function parseFeed(content: string, mapping: ColumnMapping, format?: 'csv' | 'json'): ParsedFeed {
	const body = stripBom(content);
	if (body.includes('\u0000')) throw new FeedFormatError('not the expected feed format: the file is binary (a spreadsheet? export it as CSV)');
	const looksJson = /^\s*[[{]/.test(body);
	const chosen = format ?? (looksJson ? 'json' : 'csv');
	return dropDuplicates(chosen === 'json' ? parseJsonFeed(body, mapping) : parseCsvFeed(body, mapping));
}
