import { readFileSync } from 'node:fs';
import { withMigratedDb } from '../database';
import { choiceOf, fetchFeed, importVendorPrices, loadVendorConfig, vendorConfigFor, wholeNumberOf, type VendorImportResult } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, requireDatabaseUrl, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';

function readText(path: string, what: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}
}

/** The vendor mappings, with the --mapping file's overrides; a bad mapping is a VendorConfigError (configuration, exit 2). */
function loadVendors(mappingFile: string | undefined) {
	if (mappingFile === undefined) return loadVendorConfig();
	let parsed: unknown;
	try {
		parsed = JSON.parse(readText(mappingFile, 'the mapping file'));
	} catch (error) {
		if (error instanceof UsageError) throw error;
		throw new UsageError(`the mapping file ${mappingFile} is not valid JSON`);
	}
	return loadVendorConfig(parsed);
}

function printResult(r: VendorImportResult, ctx: CliContext): void {
	const prefix = r.dryRun ? 'dry run: would import' : 'imported';
	if (r.status === 'busy') ctx.stdout(`vendor ${r.vendor}: busy, ${r.error}`);
	else if (r.status === 'failed') ctx.stdout(`vendor ${r.vendor}: import failed (nothing written): ${r.error}`);
	else {
		ctx.stdout(
			`vendor ${r.vendor}${r.runId !== null ? ` (run ${r.runId})` : ''}: ${prefix} ${r.rowsRead} rows: ${r.inserted} new, ${r.updated} updated (${r.priceChanges} price changes), ${r.unchanged} unchanged, ${r.unmatched.length} unmatched, ${r.badRows.length} bad`,
		);
	}
	for (const b of r.badRows) ctx.stdout(`  bad row, line ${b.line}${b.sku ? ` (SKU ${b.sku})` : ''}: ${b.reason}`);
	for (const u of r.unmatched) ctx.stdout(`  unmatched, line ${u.line}: SKU ${u.sku} ${u.reason}`);
}

export const vendorPricesCommand = {
	name: 'vendor-prices',
	summary: 'import a vendor price feed (CSV or JSON) into vendor_prices: vendor-prices import --vendor ced --file feed.csv',
	usage: 'pricebook-sync vendor-prices import --vendor <ced|pool360|homedepot> (--file <path> | --url <url>) [--format csv|json] [--mapping <file>] [--dry-run] [--json]',
	positionals: 'own',
	flags: {
		vendor: { type: 'string', valueName: 'ced|pool360|homedepot', description: 'whose feed this is (decides the column mapping)' },
		file: { type: 'string', valueName: 'path', description: 'read the feed from this file' },
		url: { type: 'string', valueName: 'url', description: 'download the feed from this http(s) URL' },
		format: { type: 'string', valueName: 'csv|json', description: 'the feed format (default: detected)' },
		mapping: { type: 'string', valueName: 'file', description: 'JSON file overriding or adding vendor column mappings' },
		timeout: { type: 'string', valueName: 'seconds', description: 'for --url: give up after this long (default 60)' },
		'dry-run': { type: 'boolean', description: 'report what would change; write nothing' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [action, ...extra] = args.positionals;
		if (action !== 'import' || extra.length > 0)
			throw new UsageError('the only action is "import": pricebook-sync vendor-prices import --vendor <name> --file <path>');
		const f = args.flags;
		if (typeof f.vendor !== 'string') throw new UsageError('--vendor is required (ced, pool360 or homedepot)');
		const vendor = f.vendor;
		if ((typeof f.file === 'string') === (typeof f.url === 'string')) throw new UsageError('give exactly one of --file and --url');
		const format = f.format === undefined ? undefined : choiceOf(f.format, 'format', ['csv', 'json'] as const, '--format');
		const timeoutSeconds =
			f.timeout === undefined ? undefined : wholeNumberOf(f.timeout, 'timeout', { label: '--timeout', min: 0, max: 99_999, unit: 'seconds' });
		const vendors = loadVendors(f.mapping as string | undefined);
		vendorConfigFor(f.vendor, vendors);
		const databaseUrl = requireDatabaseUrl(ctx.env);
		let content: string;
		let source: string;
		if (typeof f.file === 'string') {
			content = readText(f.file, 'the feed file');
			source = f.file;
		} else {
			const url = String(f.url);
			// A malformed URL is refused as validation (exit 2), a failed download as a failure (exit 1).
			content = await fetchFeed(url, { timeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : undefined });
			const u = new URL(url);
			source = `${u.origin}${u.pathname}`;
		}
		const result = await withMigratedDb(databaseUrl, 2, (db) =>
			importVendorPrices(db, { vendor, content, source, format, dryRun: Boolean(f['dry-run']), vendors, trigger: 'cli' }),
		);
		if (f.json) ctx.stdout(JSON.stringify(result));
		else printResult(result, ctx);
		return result.status === 'busy' ? exitCodeFor('busy') : result.success ? ExitCode.ok : ExitCode.failure;
	},
};
