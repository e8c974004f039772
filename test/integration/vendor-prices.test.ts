import { markEngineWrites } from '../../lib/db/engine-session';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LockIds, releaseLock, tryAcquireLock } from '../../lib/db/locks';
import { importVendorPrices, RESULT_LIST_CAP } from '../../lib/vendor/import';
import { runCliCaptured } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startHarness } from '../support/sync-harness';

let t: TestDatabase;
const dir = mkdtempSync(path.join(tmpdir(), 'vendor-feeds-'));
const BOM = '\uFEFF';

function link(vendorName: string, vendorPart: string) {
	return { id: 1, vendorId: 101, vendorName, vendorPart, cost: 1, active: true, memo: null };
}

/** A material as a sync brought it in from ServiceTitan (the engine's write: a person's INSERT would be a new item). */
async function material(id: number, stData: Record<string, unknown>): Promise<void> {
	await t.db.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none('INSERT INTO pricebook_materials (id, code, st_data) VALUES ($1, $2, $3)', [id, `M-${id}`, stData]);
	});
}

function feedFile(name: string, content: string): string {
	const file = path.join(dir, name);
	writeFileSync(file, content);
	return file;
}

async function priceOf(vendor: string, sku: string) {
	return t.db.oneOrNone('SELECT * FROM vendor_prices WHERE vendor = $1 AND vendor_sku = $2', [vendor, sku]);
}

beforeAll(async () => {
	t = await createTestDatabase();
	await material(1001, { primaryVendor: link('CED', 'CED-111'), otherVendors: [link('Pool360', 'P360-9')] });
	await material(1002, { primaryVendor: link('Pool360', 'P360-222'), otherVendors: [] });
	await material(1003, { primaryVendor: null, otherVendors: [link('Home Depot', 'HD-333'), link('CED', 'CED-333')] });
	await material(1004, { primaryVendor: link('Home Depot', 'HD-444') });
	// Two materials naming the same CED part: matching must not pick one.
	await material(1005, { primaryVendor: link('CED', 'CED-DUP') });
	await material(1006, { otherVendors: [link('CED', 'CED-DUP')] });
	await material(1007, { primaryVendor: link('CED', 'CED-777') });
});
afterAll(async () => t.drop());

describe('vendor price import', () => {
	it('imports a CED CSV (BOM, quoted commas) matching by ST vendor data, skipping bad rows with line numbers', async () => {
		const csv =
			`${BOM}Catalog Number,Description,Net Price,UOM,Std Pack,Effective Date\r\n` +
			'CED-111,"Wire, THHN 12 AWG ""black""",12.50,FT,500,2024-12-01\r\n' +
			'CED-333,"Breaker, 20A",$1,234.5,EA,1,12/01/2024\r\n'.replace('$1,234.5', '"$1,234.5"') +
			',No SKU,3.00,EA,,\r\n' +
			'CED-BAD,Bad price,call us,EA,,\r\n' +
			'CED-NEG,Negative,-1,EA,,\r\n' +
			'CED-999,Unknown part,4.00,EA,,\r\n' +
			'CED-DUP,Ambiguous part,5.00,EA,,\r\n' +
			'CED-777,twice,1.00,EA,,\r\n' +
			'CED-777,twice,1.10,EA,,\r\n';
		const r = await importVendorPrices(t.db, { vendor: 'ced', content: csv, now: new Date('2024-12-10T03:00:00Z') });
		expect(r).toMatchObject({
			status: 'succeeded',
			format: 'csv',
			rowsRead: 9,
			inserted: 2,
			updated: 0,
			priceChanges: 0,
			matchedBy: { existing: 0, stVendorData: 2 },
		});
		expect(r.badRows.map((b) => [b.line, b.sku])).toEqual([
			[4, null],
			[5, 'CED-BAD'],
			[6, 'CED-NEG'],
			[9, 'CED-777'],
			[10, 'CED-777'],
		]);
		expect(r.unmatched.map((u) => [u.line, u.sku])).toEqual([
			[7, 'CED-999'],
			[8, 'CED-DUP'],
		]);
		expect(r.unmatched[1].reason).toMatch(/several materials \(1005, 1006\)/);
		expect(await priceOf('ced', 'CED-111')).toMatchObject({
			material_id: 1001,
			price: '12.5000',
			description: 'Wire, THHN 12 AWG "black"',
			unit: 'FT',
			pack_size: '500',
		});
		expect(await priceOf('ced', 'CED-333')).toMatchObject({ material_id: 1003, price: '1234.5000' });
		expect(await priceOf('ced', 'CED-999')).toBeNull();

		const run = await t.db.one('SELECT * FROM sync_runs WHERE id = $1', [r.runId]);
		expect(run).toMatchObject({ kind: 'vendor_import', status: 'succeeded', errors_count: 7, items_synced: 2 });
		expect(run.details).toMatchObject({ vendor: 'ced' });
		const errors = await t.db.any('SELECT kind, message FROM sync_error_log WHERE run_id = $1 ORDER BY id', [r.runId]);
		expect(errors.filter((e) => e.kind === 'vendor_sku_unmatched').map((e) => e.message)).toEqual([
			expect.stringMatching(/line 7: SKU CED-999/),
			expect.stringMatching(/line 8: SKU CED-DUP/),
		]);
		expect(errors.filter((e) => e.kind === 'vendor_row_invalid')).toHaveLength(5);
	});

	it('imports a Pool360 semicolon CSV matching by otherVendors, and a Home Depot JSON feed by an existing vendor_prices row', async () => {
		const pool = 'Item Number;Item Description;Your Price\nP360-222;"Chlorine; 50 lb";89.99\nP360-9;"Pump, 1HP";450\n';
		const p = await importVendorPrices(t.db, { vendor: 'pool360', content: pool });
		expect(p).toMatchObject({ status: 'succeeded', inserted: 2, matchedBy: { stVendorData: 2 } });
		expect(await priceOf('pool360', 'P360-9')).toMatchObject({ material_id: 1001, price: '450.0000' });

		// Linked by hand in Retool to material 1004, though ST data does not name this SKU.
		await t.db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES (1004, 'homedepot', 'HD-HAND', 9)`);
		const hd = JSON.stringify([
			{ 'Internet #': 'HD-HAND', 'Product Name': 'PVC elbow', 'Unit Price': 1.25 },
			{ 'Internet #': 'HD-333', 'Product Name': 'Tape', 'Unit Price': '3.10' },
			{ 'Internet #': 'HD-X', 'Unit Price': 'n/a' },
		]);
		const h = await importVendorPrices(t.db, { vendor: 'homedepot', content: hd });
		expect(h).toMatchObject({ status: 'succeeded', format: 'json', inserted: 1, updated: 1, priceChanges: 1, matchedBy: { existing: 1, stVendorData: 1 } });
		expect(h.badRows).toEqual([{ line: 3, sku: 'HD-X', reason: 'price "n/a" is not a number' }]);
		expect(await priceOf('homedepot', 'HD-HAND')).toMatchObject({ material_id: 1004, price: '1.2500', description: 'PVC elbow' });
		expect(await priceOf('homedepot', 'HD-333')).toMatchObject({ material_id: 1003 });
	});

	it('keeps the old price with its validity span on a change, and the same file twice changes nothing', async () => {
		const day1 = new Date('2024-12-11T03:00:00Z');
		const day2 = new Date('2024-12-12T03:00:00Z');
		const day3 = new Date('2024-12-13T03:00:00Z');
		const v1 = 'Catalog Number,Net Price\nCED-777,20.00\n';
		const v2 = 'Catalog Number,Net Price\nCED-777,21.5\n';
		await importVendorPrices(t.db, { vendor: 'ced', content: v1, now: day1 });
		const changed = await importVendorPrices(t.db, { vendor: 'ced', content: v2, now: day2 });
		expect(changed).toMatchObject({ updated: 1, priceChanges: 1 });
		const row = await priceOf('ced', 'CED-777');
		expect(row).toMatchObject({ price: '21.5000', price_valid_from: day2 });
		const history = await t.db.any('SELECT price, valid_from, valid_to, run_id FROM vendor_price_history WHERE vendor_price_id = $1', [row.id]);
		expect(history).toEqual([{ price: '20.0000', valid_from: day1, valid_to: day2, run_id: changed.runId }]);

		const again = await importVendorPrices(t.db, { vendor: 'ced', content: v2, now: day3 });
		expect(again).toMatchObject({ status: 'succeeded', inserted: 0, updated: 0, priceChanges: 0, unchanged: 1 });
		expect(await priceOf('ced', 'CED-777')).toEqual(row);
		expect(await t.db.one('SELECT count(*)::int AS n FROM vendor_price_history WHERE vendor_price_id = $1', [row.id])).toEqual({ n: 1 });
	});

	it('keeps and still updates the prices of a soft-deleted material', async () => {
		// Deleted in ServiceTitan, as the sync records it.
		await t.db.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none('UPDATE pricebook_materials SET deleted_at = now(), deleted_in_st = TRUE WHERE id = 1002');
		});
		const r = await importVendorPrices(t.db, { vendor: 'pool360', content: 'Item Number,Your Price\nP360-222,95\n' });
		expect(r).toMatchObject({ updated: 1, priceChanges: 1, matchedBy: { existing: 1 } });
		expect(await priceOf('pool360', 'P360-222')).toMatchObject({ material_id: 1002, price: '95.0000' });
	});

	it('fails a file that is not the expected format with one message, writing no price', async () => {
		const before = await t.db.one('SELECT count(*)::int AS prices, (SELECT count(*)::int FROM vendor_price_history) AS history FROM vendor_prices');
		const r = await importVendorPrices(t.db, { vendor: 'ced', content: 'Part;Cost\nCED-111;1\n' });
		expect(r).toMatchObject({ status: 'failed', success: false, inserted: 0 });
		expect(r.error).toMatch(/not the expected feed format: the header row has no vendor SKU column/);
		expect(await t.db.one('SELECT count(*)::int AS prices, (SELECT count(*)::int FROM vendor_price_history) AS history FROM vendor_prices')).toEqual(
			before,
		);
		expect(await t.db.one('SELECT status, error FROM sync_runs WHERE id = $1', [r.runId])).toEqual({ status: 'failed', error: r.error });
	});

	it('reports busy while another import holds the vendor-import lock', async () => {
		await t.db.task(async (other) => {
			expect(await tryAcquireLock(other, LockIds.vendorImport)).toBe(true);
			try {
				const r = await importVendorPrices(t.db, { vendor: 'ced', content: 'Catalog Number,Net Price\nCED-111,1\n', lockWaitMs: 0 });
				expect(r).toMatchObject({ status: 'busy', success: false, inserted: 0 });
				// The holder is named, so a session that never lets go can be found and ended.
				const { pid } = await other.one<{ pid: number }>('SELECT pg_backend_pid() AS pid');
				expect(r.error).toContain(`another vendor price import holds the lock: session pid ${pid}`);
				expect(await t.db.one('SELECT status FROM sync_runs WHERE id = $1', [r.runId])).toEqual({ status: 'busy' });
			} finally {
				await releaseLock(other, LockIds.vendorImport);
			}
		});
		expect(await priceOf('ced', 'CED-111')).toMatchObject({ price: '12.5000' });
	});

	it('a dry run reports the changes and writes nothing', async () => {
		const runsBefore = await t.db.one('SELECT count(*)::int AS n FROM sync_runs');
		const r = await importVendorPrices(t.db, { vendor: 'ced', content: 'Catalog Number,Net Price\nCED-111,99\n', dryRun: true });
		expect(r).toMatchObject({ dryRun: true, runId: null, updated: 1, priceChanges: 1 });
		expect(await priceOf('ced', 'CED-111')).toMatchObject({ price: '12.5000' });
		expect(await t.db.one('SELECT count(*)::int AS n FROM sync_runs')).toEqual(runsBefore);
	});
});

describe('vendor feeds of hostile size', () => {
	it('imports a feed repeating one SKU 20,000 times: every such row bad, logged in full, listed up to the cap', async () => {
		// A 180 KB feed like this once ran the importer out of memory (and in n8n took the n8n process down).
		const csv = `Catalog Number,Net Price\n${'CED-777,3.00\n'.repeat(20_000)}CED-111,12.5\n`;
		const r = await importVendorPrices(t.db, { vendor: 'ced', content: csv });
		expect(r).toMatchObject({ status: 'succeeded', rowsRead: 20_001, badRowCount: 20_000, unmatchedCount: 0 });
		expect(r.inserted + r.updated + r.unchanged).toBe(1);
		expect(r.badRows).toHaveLength(RESULT_LIST_CAP);
		expect(r.badRows[0]).toEqual({
			line: 2,
			sku: 'CED-777',
			reason: expect.stringMatching(/^duplicate vendor SKU \(20000 rows: lines 2, 3, .* and 19990 more\)$/),
		});
		const logged = await t.db.one(
			"SELECT count(*)::int AS n, max(length(message))::int AS longest FROM sync_error_log WHERE run_id = $1 AND kind = 'vendor_row_invalid'",
			[r.runId],
		);
		expect(logged.n).toBe(20_000);
		expect(logged.longest).toBeLessThan(200);
		expect(await t.db.one('SELECT counts FROM sync_runs WHERE id = $1', [r.runId])).toMatchObject({ counts: { badRows: 20_000 } });
	});

	it('reads a large feed file in chunks: exact counts, every unmatched SKU in sync_error_log, capped lists in the result', async () => {
		const rows = 30_000;
		const file = feedFile('large.csv', `Catalog Number,Net Price\nCED-111,12.5\n${Array.from({ length: rows }, (_, i) => `NOPE-${i},1.00\n`).join('')}`);
		const r = await importVendorPrices(t.db, { vendor: 'ced', file });
		expect(r).toMatchObject({ status: 'succeeded', rowsRead: rows + 1, unmatchedCount: rows, badRowCount: 0 });
		expect(r.inserted + r.updated + r.unchanged).toBe(1);
		expect(r.unmatched).toHaveLength(RESULT_LIST_CAP);
		expect(r.unmatched.slice(0, 2).map((u) => [u.line, u.sku])).toEqual([
			[3, 'NOPE-0'],
			[4, 'NOPE-1'],
		]);
		expect(await t.db.one("SELECT count(*)::int AS n FROM sync_error_log WHERE run_id = $1 AND kind = 'vendor_sku_unmatched'", [r.runId])).toEqual({
			n: rows,
		});
		expect(await t.db.one('SELECT errors_count FROM sync_runs WHERE id = $1', [r.runId])).toEqual({ errors_count: rows });
	});
});

describe('pricebook-sync vendor-prices import', () => {
	let server: Server;
	let base: string;
	beforeAll(async () => {
		server = createServer((req, res) => {
			if (req.url === '/slow') return; // never answers: the timeout must end the command
			if (req.url === '/missing') {
				res.writeHead(404).end();
				return;
			}
			res.writeHead(200, { 'content-type': 'text/csv' }).end(`${BOM}Internet #|Unit Price\nHD-444|"7.25"\n`);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});

	it('imports from --file and --url with --json, exit 0', async () => {
		const file = feedFile('ced.csv', 'Catalog Number,Net Price\nCED-111,12.5\nCED-404,1\n');
		const fromFile = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'ced', '--file', file, '--json'], { DATABASE_URL: t.url });
		expect(fromFile.code).toBe(0);
		expect(JSON.parse(fromFile.stdout)).toMatchObject({ vendor: 'ced', status: 'succeeded', unchanged: 1, unmatched: [{ line: 3, sku: 'CED-404' }] });

		// A token in the URL comes from the environment, never the command line (where ps shows it).
		const fromUrl = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'homedepot', '--url-env', 'HD_FEED_URL'], {
			DATABASE_URL: t.url,
			HD_FEED_URL: `${base}/feed.csv?token=s3cret`,
		});
		expect(fromUrl.code).toBe(0);
		expect(fromUrl.stdout).toMatch(/vendor homedepot \(run \d+\): imported 1 rows: 1 new/);
		expect(await priceOf('homedepot', 'HD-444')).toMatchObject({ material_id: 1004, price: '7.2500' });
		const run = await t.db.one("SELECT details FROM sync_runs WHERE kind = 'vendor_import' ORDER BY id DESC LIMIT 1");
		expect(run.details.source).toBe(`${base}/feed.csv`);
	});

	it('refuses a --url holding a token (ps shows it to every user), and reads one from --url-file', async () => {
		const inArgs = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'homedepot', '--url', `${base}/feed.csv?token=s3cret`], {
			DATABASE_URL: t.url,
		});
		expect(inArgs.code).toBe(2);
		expect(inArgs.stderr).toMatch(/--url holds a query string or credentials, which other users can read in ps: .*--url-env NAME.*--url-file PATH/);
		const withUser = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'homedepot', '--url', base.replace('//', '//me:pw@') + '/feed.csv'], {
			DATABASE_URL: t.url,
		});
		expect(withUser.code).toBe(2);
		const fromFile = await runCliCaptured(
			['vendor-prices', 'import', '--vendor', 'homedepot', '--url-file', feedFile('url.txt', `${base}/feed.csv?token=s3cret\n`), '--json'],
			{ DATABASE_URL: t.url },
		);
		expect(fromFile.code).toBe(0);
		expect(JSON.parse(fromFile.stdout)).toMatchObject({ status: 'succeeded', rowsRead: 1 });
		const unset = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'homedepot', '--url-env', 'NO_SUCH_VAR'], { DATABASE_URL: t.url });
		expect(unset).toMatchObject({ code: 2 });
		expect(unset.stderr).toMatch(/--url-env NO_SUCH_VAR: that environment variable is not set/);
	});

	it('exits 1 on a fetch timeout or HTTP error, 2 on bad usage, 1 on a wrong format', async () => {
		const slow = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'ced', '--url', `${base}/slow`, '--timeout', '1'], { DATABASE_URL: t.url });
		expect(slow).toMatchObject({ code: 1 });
		expect(slow.stderr).toMatch(/timed out/);
		const missing = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'ced', '--url', `${base}/missing`], { DATABASE_URL: t.url });
		expect(missing.stderr).toMatch(/HTTP 404/);
		const unknown = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'acme', '--file', 'x.csv'], { DATABASE_URL: t.url });
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toMatch(/unknown vendor "acme"/);
		const both = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'ced'], { DATABASE_URL: t.url });
		expect(both.code).toBe(2);
		const wrong = await runCliCaptured(['vendor-prices', 'import', '--vendor', 'ced', '--file', feedFile('wrong.json', '{"a": 1}')], {
			DATABASE_URL: t.url,
		});
		expect(wrong.code).toBe(1);
		expect(wrong.stdout).toMatch(/import failed \(nothing written\): not the expected feed format/);
	});
});

describe('sync runs and vendor prices', () => {
	it('a full sync never touches vendor_prices, whose material links come from the synced ST vendor data', async () => {
		const h = await startHarness();
		try {
			await h.engine.runMany('full', ['categories', 'materials']);
			const parts = await h.t.db.any<{ id: number; part: string }>(
				"SELECT id, st_data->'primaryVendor'->>'vendorPart' AS part FROM pricebook_materials WHERE st_data->'primaryVendor'->>'vendorName' = 'CED' ORDER BY id LIMIT 3",
			);
			expect(parts.length).toBeGreaterThan(0);
			const csv = `Catalog Number,Net Price\n${parts.map((p, i) => `${p.part},${i + 1}.99`).join('\n')}\n`;
			const r = await importVendorPrices(h.t.db, { vendor: 'ced', content: csv });
			expect(r).toMatchObject({ inserted: parts.length, unmatched: [] });
			// Soft-delete one of them in ServiceTitan, then sync again: its vendor price must stay as it was.
			await fetch(`${h.sim.url}/__sim/items/materials/${parts[0].id}`, { method: 'DELETE' });
			const before = await h.t.db.any('SELECT * FROM vendor_prices ORDER BY id');
			await h.engine.runMany('full', ['categories', 'materials']);
			await h.engine.run({ kind: 'incremental', entityType: 'materials' });
			expect(await h.t.db.any('SELECT * FROM vendor_prices ORDER BY id')).toEqual(before);
			expect(await h.t.db.one('SELECT deleted_at IS NOT NULL AS deleted FROM pricebook_materials WHERE id = $1', [parts[0].id])).toEqual({
				deleted: true,
			});
		} finally {
			await h.close();
		}
	}, 30_000); // a whole simulated sync: seconds on a shared machine
});
