import { createReadStream } from 'node:fs';
import type { ColumnMapping } from './config';
import { CsvFormatError, CsvReader, stripBom, type CsvRecord } from './csv';
import { JsonFeedError, JsonItemReader } from './json-items';

/**
 * Turns a vendor feed (CSV or a JSON array) into validated price rows and bad rows, as the text arrives (FeedReader),
 * so a feed is never held whole. A feed that is not the expected format at all (no SKU or price column, not CSV or
 * a JSON array of objects) throws FeedFormatError: the import then writes no price.
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

function asText(value: unknown): string {
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

export type FeedItem = FeedRow | BadRow;

export function isBad(item: FeedItem): item is BadRow {
	return 'reason' in item;
}

/**
 * Reads one feed's rows as its text arrives: push() each piece in order, end() after the last; each returns the rows
 * (good or bad) complete so far, in feed order. The format is the one given, else detected from the first character.
 */
export class FeedReader {
	format: 'csv' | 'json' | null;
	/** Records read, good and bad. */
	total = 0;
	private started = false;
	private pending = '';
	private csv: CsvReader | null = null;
	private json: JsonItemReader | null = null;
	private header: CsvRecord | null = null;
	private pos: Record<Field, number> | null = null;
	private has: Record<Field, boolean> | null = null;
	private jsonKeys = new Set<string>();
	private jsonObjects = 0;

	constructor(
		private readonly mapping: ColumnMapping,
		format?: 'csv' | 'json',
	) {
		this.format = format ?? null;
	}

	push(text: string): FeedItem[] {
		if (!this.started) {
			text = stripBom(text);
			this.started = text !== '';
		}
		if (text.includes('\u0000')) throw new FeedFormatError('not the expected feed format: the file is binary (a spreadsheet? export it as CSV)');
		if (this.format === null) {
			// Detected from the first character that is not white space, which may come in a later piece.
			this.pending += text;
			const first = /\S/.exec(this.pending);
			if (!first) return [];
			this.format = first[0] === '[' || first[0] === '{' ? 'json' : 'csv';
			text = this.pending;
			this.pending = '';
		}
		return this.read(text, false);
	}

	end(): FeedItem[] {
		if (this.format === null) this.format = 'csv';
		const items = this.read(this.pending, true);
		if (this.format === 'csv' && this.header === null) throw new FeedFormatError('the feed is empty: expected a header row and price rows');
		if (this.format === 'json' && this.total > 0) {
			if (this.jsonObjects === 0) throw new FeedFormatError('not the expected feed format: the JSON array holds no objects');
			missingColumns(locate([...this.jsonKeys], this.mapping), this.mapping, 'no JSON object');
		}
		return items;
	}

	private read(text: string, final: boolean): FeedItem[] {
		try {
			return this.format === 'json' ? this.readJson(text, final) : this.readCsv(text, final);
		} catch (error) {
			if (error instanceof CsvFormatError) throw new FeedFormatError(`not a readable CSV file: ${error.message}`);
			if (error instanceof JsonFeedError) throw new FeedFormatError(error.message);
			throw error;
		}
	}

	private readCsv(text: string, final: boolean): FeedItem[] {
		this.csv ??= new CsvReader();
		const records = this.csv.push(text);
		if (final) records.push(...this.csv.end());
		const items: FeedItem[] = [];
		for (const r of records) {
			if (this.header === null) {
				this.header = r;
				this.pos = locate(r.fields, this.mapping);
				missingColumns(this.pos, this.mapping, 'the header row');
				this.has = Object.fromEntries(Object.entries(this.pos).map(([f, i]) => [f, i !== -1])) as Record<Field, boolean>;
				continue;
			}
			const pos = this.pos as Record<Field, number>;
			this.total++;
			const width = this.header.fields.length;
			if (r.fields.length !== width) {
				const sku = r.fields[pos.sku]?.trim() || null;
				items.push({ line: r.line, sku, reason: `${r.fields.length} fields where the header has ${width}` });
				continue;
			}
			items.push(toRow(r.line, (f) => (pos[f] === -1 ? '' : r.fields[pos[f]]), this.has as Record<Field, boolean>));
		}
		return items;
	}

	private readJson(text: string, final: boolean): FeedItem[] {
		this.json ??= new JsonItemReader();
		const values = this.json.push(text);
		if (final) values.push(...this.json.end());
		const items: FeedItem[] = [];
		for (const item of values) {
			const line = ++this.total;
			if (!item || typeof item !== 'object' || Array.isArray(item)) {
				items.push({ line, sku: null, reason: 'not a JSON object' });
				continue;
			}
			this.jsonObjects++;
			// Keys are looked up per object: exports are not always consistent in case from one object to the next.
			const o = new Map(Object.entries(item as Record<string, unknown>).map(([k, v]) => [normalize(k), v]));
			for (const k of o.keys()) this.jsonKeys.add(k);
			const get = (f: Field) => {
				for (const name of this.mapping[f] ?? []) if (o.has(normalize(name))) return asText(o.get(normalize(name)));
				return '';
			};
			items.push(toRow(line, get, ALL_FIELDS));
		}
		return items;
	}
}

// JSON objects have no header: a field absent from an object reads as empty, which is the same as not present.
const ALL_FIELDS: Record<Field, boolean> = { sku: true, price: true, description: true, unit: true, packSize: true, effectiveDate: true };

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

/** Parses a whole feed held in memory (tests, small feeds); imports read theirs piece by piece (readFeed). */
export function parseFeed(content: string, mapping: ColumnMapping, format?: 'csv' | 'json'): ParsedFeed {
	const reader = new FeedReader(mapping, format);
	const items = [...reader.push(content), ...reader.end()];
	const feed: ParsedFeed = { format: reader.format ?? 'csv', rows: [], bad: [], total: reader.total };
	for (const item of items) {
		if (isBad(item)) feed.bad.push(item);
		else feed.rows.push(item);
	}
	return dropDuplicates(feed);
}

/** Where a feed's text comes from; opened anew for each pass over it (the import reads a feed twice). */
export type FeedSource = () => AsyncIterable<string>;

export function textSource(content: string): FeedSource {
	return async function* () {
		// Pieces, as a file would come: a large text is still read, validated and written chunk by chunk.
		for (let i = 0; i < content.length; i += READ_PIECE) yield content.slice(i, i + READ_PIECE);
	};
}

export function fileSource(path: string): FeedSource {
	return () => createReadStream(path, { encoding: 'utf8', highWaterMark: READ_PIECE });
}

const READ_PIECE = 256 * 1024;

/** Every row of a feed, good and bad, in feed order, read piece by piece; `reader` carries the format and total. */
export async function* readFeed(source: FeedSource, reader: FeedReader): AsyncGenerator<FeedItem> {
	for await (const piece of source()) yield* reader.push(piece);
	yield* reader.end();
}

/**
 * The first pass over a feed: checks it is the expected format (before anything is written) and finds the SKUs
 * that appear more than once, each with the reason its rows get. Holds one small entry per distinct SKU, never the rows.
 */
export async function scanFeed(
	source: FeedSource,
	mapping: ColumnMapping,
	format?: 'csv' | 'json',
): Promise<{ format: 'csv' | 'json'; total: number; duplicates: Map<string, string> }> {
	const reader = new FeedReader(mapping, format);
	const firstLine = new Map<string, number>();
	const repeated = new Map<string, { count: number; lines: number[] }>();
	for await (const item of readFeed(source, reader)) {
		if (isBad(item)) continue;
		const r = repeated.get(item.sku);
		if (r) {
			if (++r.count <= DUPLICATE_LINES_SHOWN) r.lines.push(item.line);
			continue;
		}
		const first = firstLine.get(item.sku);
		if (first === undefined) firstLine.set(item.sku, item.line);
		else repeated.set(item.sku, { count: 2, lines: [first, item.line] });
	}
	const duplicates = new Map<string, string>();
	for (const [sku, r] of repeated) duplicates.set(sku, duplicateReason(r.lines, r.count));
	return { format: reader.format ?? 'csv', total: reader.total, duplicates };
}
