/**
 * Vendor feed figures (`npm run bench:vendor [-- --rows 100000,400000,1600000]`): for each size, a CSV feed (half
 * its SKUs matching a material, the rest unmatched, plus 20,000 rows repeating one SKU) is served over HTTP on
 * loopback and imported by a fresh process of its own (download, two passes, chunked writes), which reports its
 * peak RSS. Prints a table of figures beside targets on stderr and one JSON object on stdout. Memory is measured
 * here, not in the unit tests, because it depends on the machine; the tests assert the bounded behaviour itself.
 */
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { closeDb, connectDb } from '../lib/db/connection';
import { markEngineWrites } from '../lib/db/engine-session';
import { downloadFeed } from '../lib/vendor/fetch';
import { importVendorPrices } from '../lib/vendor/import';
import { BenchDatabases } from './db';

/** Peak RSS an import may reach at any size: memory must not grow with the feed (it used 3.2 GB for 99 MB). */
const TARGET_PEAK_RSS_MB = 300;
/** The result an import returns (n8n's item, the CLI's --json) stays small whatever the feed. */
const TARGET_RESULT_KB = 100;

interface ChildFigures {
	rowsRead: number;
	seconds: number;
	peakRssMb: number;
	resultKb: number;
	unmatchedCount: number;
	badRowCount: number;
}

async function child(dbUrl: string, feedUrl: string): Promise<void> {
	const db = connectDb({ connectionString: dbUrl, max: 2 });
	const started = Date.now();
	try {
		const feed = await downloadFeed(feedUrl, { timeoutMs: 600_000 });
		try {
			const r = await importVendorPrices(db, { vendor: 'ced', file: feed.file, source: feedUrl });
			if (!r.success) throw new Error(`import failed: ${r.error}`);
			const figures: ChildFigures = {
				rowsRead: r.rowsRead,
				seconds: (Date.now() - started) / 1000,
				peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
				resultKb: Math.round(JSON.stringify(r).length / 1024),
				unmatchedCount: r.unmatchedCount,
				badRowCount: r.badRowCount,
			};
			process.stdout.write(JSON.stringify(figures));
		} finally {
			await feed.remove();
		}
	} finally {
		await closeDb(db);
	}
}

function writeFeed(file: string, rows: number): void {
	const lines = ['Catalog Number,Description,Net Price,UOM'];
	for (let i = 0; i < rows; i++) lines.push(`BENCH-${i},"Part ${i}, bench",${(i % 997) + 0.25},EA`);
	for (let i = 0; i < 20_000; i++) lines.push('BENCH-DUP,repeated,1.00,EA');
	writeFileSync(file, `${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args[0] === '--child') return child(args[1], args[2]);
	const rowsFlag = args.indexOf('--rows');
	const sizes = rowsFlag >= 0 ? args[rowsFlag + 1].split(',').map(Number) : [100_000, 400_000];
	const log = (line: string) => process.stderr.write(`${line}\n`);
	const dbs = await BenchDatabases.open(log);
	const dir = mkdtempSync(path.join(tmpdir(), 'vendor-bench-'));
	const server = createServer((req, res) => {
		const file = path.join(dir, path.basename(req.url ?? ''));
		res.writeHead(200, { 'content-type': 'text/csv' });
		createReadStream(file).pipe(res);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const results: (ChildFigures & { rows: number; feedMb: number })[] = [];
	try {
		for (const rows of sizes) {
			const url = await dbs.create(`vendor${rows}`);
			const db = connectDb({ connectionString: url, max: 1 });
			try {
				// Half the SKUs are a material's CED vendor part (as a sync brought them in); the rest match nothing.
				await db.tx(async (tx) => {
					await markEngineWrites(tx);
					await tx.none(
						`INSERT INTO pricebook_materials (id, code, st_data)
						 SELECT i, 'M-' || i, jsonb_build_object('primaryVendor', jsonb_build_object('vendorName', 'CED', 'vendorPart', 'BENCH-' || i))
						 FROM generate_series(1, $1) AS i`,
						[Math.floor(rows / 2)],
					);
				});
			} finally {
				await closeDb(db);
			}
			const name = `feed-${rows}.csv`;
			writeFeed(path.join(dir, name), rows);
			const feedMb = statSync(path.join(dir, name)).size / 1024 / 1024;
			log(`importing ${rows.toLocaleString('en-US')} rows (${feedMb.toFixed(1)} MB) in a fresh process...`);
			// Asynchronously: this process serves the feed the child downloads.
			const { stdout } = await promisify(execFile)(process.execPath, [__filename, '--child', url, `${base}/${name}`], { encoding: 'utf8' });
			results.push({ rows, feedMb: Math.round(feedMb * 10) / 10, ...(JSON.parse(stdout) as ChildFigures) });
			await dbs.drop(url);
		}
	} finally {
		server.close();
		rmSync(dir, { recursive: true, force: true });
		await dbs.close();
	}
	log('\nrows       feed MB  seconds  peak RSS MB (target <= ' + TARGET_PEAK_RSS_MB + ')  result KB (target <= ' + TARGET_RESULT_KB + ')');
	for (const r of results) {
		const rss = `${r.peakRssMb} ${r.peakRssMb <= TARGET_PEAK_RSS_MB ? 'ok' : 'MISSED'}`;
		const kb = `${r.resultKb} ${r.resultKb <= TARGET_RESULT_KB ? 'ok' : 'MISSED'}`;
		log(`${String(r.rows).padEnd(10)} ${String(r.feedMb).padEnd(8)} ${r.seconds.toFixed(1).padEnd(8)} ${rss.padEnd(29)} ${kb}`);
	}
	process.stdout.write(`${JSON.stringify({ targets: { peakRssMb: TARGET_PEAK_RSS_MB, resultKb: TARGET_RESULT_KB }, results })}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
	process.exitCode = 1;
});
