import { DEFAULT_VENDORS, loadVendorConfig, VendorConfigError } from '../../../lib/vendor/config';
import { parseCsv, sniffDelimiter } from '../../../lib/vendor/csv';
import { FeedFormatError, FeedReader, parseDate, parseFeed, parsePrice } from '../../../lib/vendor/feed';

describe('vendor feed CSV reader', () => {
	it('reads RFC 4180 quoting: delimiters, doubled quotes and line breaks inside quotes, CRLF, a BOM', () => {
		const text = '\uFEFFsku,desc,price\r\n"A-1","Wire, 12 AWG ""THHN""",1.50\r\n"B-2","two\nlines",2\r\n\r\n';
		expect(parseCsv(text)).toEqual([
			{ line: 1, fields: ['sku', 'desc', 'price'] },
			{ line: 2, fields: ['A-1', 'Wire, 12 AWG "THHN"', '1.50'] },
			{ line: 3, fields: ['B-2', 'two\nlines', '2'] },
		]);
	});

	it('sniffs , ; tab and | from the header line, ignoring delimiters inside quotes', () => {
		expect(sniffDelimiter('a,b,c\n1;2')).toBe(',');
		expect(sniffDelimiter('"a,b";c;d\n')).toBe(';');
		expect(sniffDelimiter('a\tb\tc')).toBe('\t');
		expect(sniffDelimiter('a|b|c')).toBe('|');
		expect(parseCsv('x|y\n1|"2|3"')).toEqual([
			{ line: 1, fields: ['x', 'y'] },
			{ line: 2, fields: ['1', '2|3'] },
		]);
	});

	it('parses prices and dates strictly', () => {
		expect(parsePrice('$1,234.50')).toBe('1234.50');
		expect(parsePrice(' 7 ')).toBe('7');
		expect(parsePrice('12,5')).toBeNull();
		expect(parsePrice('abc')).toBeNull();
		expect(parseDate('12/01/2024')).toBe('2024-12-01');
		expect(parseDate('2024-02-30')).toBeNull();
	});
});

describe('parseFeed', () => {
	const ced = DEFAULT_VENDORS.ced.columns;

	it('skips bad rows with their line numbers, duplicates included', () => {
		const feed = parseFeed(
			['Catalog Number,Description,Net Price', 'A,"a, b",1', ',missing sku,2', 'C,x,abc', 'D,x,-3', 'E,x,4', 'E,x,5', 'F,x'].join('\n'),
			ced,
		);
		expect(feed.rows.map((r) => r.sku)).toEqual(['A']);
		expect(feed.bad.map((b) => [b.line, b.reason.split(' ')[0]])).toEqual([
			[3, 'missing'],
			[4, 'price'],
			[5, 'negative'],
			[6, 'duplicate'],
			[7, 'duplicate'],
			[8, '2'],
		]);
		expect(feed.total).toBe(7);
	});

	it('handles a feed repeating one SKU 20,000 times in linear work: every row bad, each reason short', () => {
		// A 180 KB feed like this once ran out of memory: each row's reason listed all 20,000 lines.
		const csv = ['Catalog Number,Net Price', ...Array.from({ length: 20_000 }, () => 'SAME,1.00'), 'OTHER,2'].join('\n');
		const feed = parseFeed(csv, ced);
		expect(feed.rows.map((r) => r.sku)).toEqual(['OTHER']);
		expect(feed.bad).toHaveLength(20_000);
		expect(feed.bad[0]).toEqual({ line: 2, sku: 'SAME', reason: 'duplicate vendor SKU (20000 rows: lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 19990 more)' });
		expect(Math.max(...feed.bad.map((b) => b.reason.length))).toBeLessThan(200);
	});

	it('fails the whole feed when it is not the expected format', () => {
		expect(() => parseFeed('Part,Cost\nA,1', ced)).toThrow(FeedFormatError);
		expect(() => parseFeed('Part,Cost\nA,1', ced)).toThrow(/no vendor SKU column .* and no price column/);
		expect(() => parseFeed('{"sku": "A"}', ced)).toThrow(/array of price objects/);
		expect(() => parseFeed('<html><body>Login</body></html>', ced)).toThrow(FeedFormatError);
		expect(() => parseFeed('', ced)).toThrow(/empty/);
	});

	it('reads JSON arrays with the same mapping, case-insensitively', () => {
		const feed = parseFeed(
			JSON.stringify([
				{ 'catalog number': 'A', 'NET PRICE': 2.5, UOM: 'EA' },
				{ 'Catalog Number': 'B', 'Net Price': null },
			]),
			ced,
		);
		expect(feed.format).toBe('json');
		expect(feed.rows).toEqual([{ line: 1, sku: 'A', price: '2.5', description: null, unit: 'EA', packSize: null, effectiveDate: null }]);
		expect(feed.bad).toEqual([{ line: 2, sku: 'B', reason: 'missing price' }]);
	});
});

describe('vendor configuration', () => {
	it('overrides a default vendor column by column and refuses a vendor without sku/price', () => {
		const vendors = loadVendorConfig({
			ced: { columns: { price: 'Contract Price' } },
			ferguson: { stVendorNames: 'Ferguson', columns: { sku: 'Part', price: 'Cost' } },
		});
		expect(vendors.ced.columns.price).toEqual(['Contract Price']);
		expect(vendors.ced.columns.sku).toEqual(DEFAULT_VENDORS.ced.columns.sku);
		expect(vendors.ferguson.stVendorNames).toEqual(['Ferguson']);
		expect(() => loadVendorConfig({ acme: { stVendorNames: 'Acme', columns: { sku: 'Part' } } })).toThrow(VendorConfigError);
	});
});

describe('reading a feed piece by piece', () => {
	const ced = DEFAULT_VENDORS.ced.columns;
	/** Feeds `text` in pieces of `size` characters, as a download or file stream would. */
	function inPieces(text: string, size: number, format?: 'csv' | 'json') {
		const reader = new FeedReader(ced, format);
		const items = [];
		for (let i = 0; i < text.length; i += size) items.push(...reader.push(text.slice(i, i + size)));
		items.push(...reader.end());
		return { format: reader.format, total: reader.total, items };
	}
	function whole(text: string, format?: 'csv' | 'json') {
		return inPieces(text, Math.max(text.length, 1), format);
	}

	it('reads the same CSV rows whatever the piece boundaries (quotes, CRLF, BOM, the header line)', () => {
		const csv = '\uFEFF  Catalog Number;"Net Price";"Desc;ription"\r\nA;1.5;"say ""hi""\r\nthere"\r\nB;2;x\r\n\r\nC;"3"\r\n';
		const expected = whole(csv);
		expect(expected.items.map((i) => ('reason' in i ? i.line : i.sku))).toEqual(['A', 'B', 6]);
		for (const size of [1, 2, 3, 5, 7]) expect(inPieces(csv, size)).toEqual(expected);
	});

	it('reads the same JSON items whatever the piece boundaries, wrapped or not', () => {
		const items = [{ 'Catalog Number': 'A', 'Net Price': 1.5, x: [1, { y: '"]}' }] }, 7, 'str', null, { 'Catalog Number': 'B', 'Net Price': '2e0' }];
		for (const json of [JSON.stringify(items, null, 1), JSON.stringify({ count: 5, meta: { a: [1] }, items })]) {
			const expected = whole(json);
			expect(expected.format).toBe('json');
			expect(expected.total).toBe(5);
			expect(expected.items.map((i) => ('reason' in i ? i.reason : i.sku))).toEqual([
				'A',
				'not a JSON object',
				'not a JSON object',
				'not a JSON object',
				expect.stringMatching(/price/),
			]);
			for (const size of [1, 2, 3, 7]) expect(inPieces(json, size)).toEqual(expected);
		}
	});

	it('refuses invalid JSON and JSON that is not an array of objects, with a line', () => {
		expect(() => whole('[{"a": 1},\n{"a" 2}]')).toThrow(/not valid JSON: expected ":" but found "2" on line 2/);
		expect(() => whole('[{"a": 1}, ]')).toThrow(/not valid JSON/);
		expect(() => whole('[{"a": 1}')).toThrow(/ends too early/);
		expect(() => whole('[1] x')).toThrow(/after the end/);
		expect(() => whole('[tru]')).toThrow(/not a JSON value/);
		expect(() => whole('{"a": [], "b": []}')).toThrow(/must be an array of price objects/);
		expect(() => whole('"ced"', 'json')).toThrow(/must be an array of price objects/);
		expect(() => whole('[1, 2]')).toThrow(/holds no objects/);
		expect(() => whole('[]')).not.toThrow();
	});
});
