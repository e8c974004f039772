import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { checkDatabaseSetting, withResources } from '../resources';
import { choiceOf, downloadFeed, importVendorPrices, loadVendorConfig, vendorConfigFor, wholeNumberOf, type VendorImportResult } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';

function readText(path: string, what: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}
}

/** Fails early, as usage, when the feed file cannot be read; the import itself reads it piece by piece. */
function checkReadable(path: string, what: string): void {
	try {
		if (statSync(path).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
		closeSync(openSync(path, 'r'));
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
	const where = r.runId !== null ? `sync_error_log, run ${r.runId}` : 'a real import (not a dry run) logs them all';
	if (r.badRowCount > r.badRows.length) ctx.stdout(`  ... and ${r.badRowCount - r.badRows.length} more bad rows (${where})`);
	for (const u of r.unmatched) ctx.stdout(`  unmatched, line ${u.line}: SKU ${u.sku} ${u.reason}`);
	if (r.unmatchedCount > r.unmatched.length) ctx.stdout(`  ... and ${r.unmatchedCount - r.unmatched.length} more unmatched (${where})`);
}

/**
 * The feed URL. A token in --url shows in `ps` to every user of the machine, so a URL with a query string or a
 * user name/password is refused there: give it by --url-env (an environment variable, e.g. from the .env file) or
 * --url-file (a file only the operator can read) instead.
 */
function feedUrl(f: ParsedArgs['flags'], env: NodeJS.ProcessEnv): string {
	if (typeof f['url-env'] === 'string') {
		const value = env[f['url-env']]?.trim();
		if (!value) throw new UsageError(`--url-env ${f['url-env']}: that environment variable is not set`);
		return value;
	}
	if (typeof f['url-file'] === 'string') {
		const value = readText(f['url-file'], 'the URL file').trim();
		if (!value) throw new UsageError(`--url-file ${f['url-file']} is empty: it should hold the feed URL`);
		return value;
	}
	const url = String(f.url);
	let parsed: URL | null = null;
	try {
		parsed = new URL(url);
	} catch {
		// Not a URL, or not http(s): left to downloadFeed, which says what is wrong with it.
	}
	if (parsed && /^https?:$/.test(parsed.protocol) && (parsed.search !== '' || parsed.username !== '' || parsed.password !== '')) {
		throw new UsageError(
			'--url holds a query string or credentials, which other users can read in ps: put the URL in an environment variable and give --url-env NAME, or in a file only you can read and give --url-file PATH',
		);
	}
	return url;
}

export const vendorPricesCommand = {
	name: 'vendor-prices',
	summary: 'import a vendor price feed (CSV or JSON) into vendor_prices: vendor-prices import --vendor ced --file feed.csv',
	usage: 'pricebook-sync vendor-prices import --vendor <ced|pool360|homedepot> (--file <path> | --url <url> | --url-env <name> | --url-file <path>) [--format csv|json] [--mapping <file>] [--dry-run] [--json]',
	positionals: 'own',
	flags: {
		vendor: { type: 'string', valueName: 'ced|pool360|homedepot', description: 'whose feed this is (decides the column mapping)' },
		file: { type: 'string', valueName: 'path', description: 'read the feed from this file' },
		url: { type: 'string', valueName: 'url', description: 'download the feed from this http(s) URL (no query string: it would show in ps)' },
		'url-env': {
			type: 'string',
			valueName: 'name',
			description: 'download the feed from the URL in this environment variable (for a URL holding a token)',
		},
		'url-file': { type: 'string', valueName: 'path', description: 'download the feed from the URL in this file (for a URL holding a token)' },
		format: { type: 'string', valueName: 'csv|json', description: 'the feed format (default: detected)' },
		mapping: { type: 'string', valueName: 'file', description: 'JSON file overriding or adding vendor column mappings' },
		timeout: { type: 'string', valueName: 'seconds', description: 'for a URL: the whole download must finish within this (default 60; 0: no limit)' },
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
		const sources = ['file', 'url', 'url-env', 'url-file'].filter((k) => typeof f[k] === 'string');
		if (sources.length !== 1) throw new UsageError('give exactly one of --file and --url (or --url-env / --url-file)');
		const format = f.format === undefined ? undefined : choiceOf(f.format, 'format', ['csv', 'json'] as const, '--format');
		const timeoutSeconds =
			f.timeout === undefined ? undefined : wholeNumberOf(f.timeout, 'timeout', { label: '--timeout', min: 0, max: 99_999, unit: 'seconds' });
		const vendors = loadVendors(f.mapping as string | undefined);
		vendorConfigFor(f.vendor, vendors);
		checkDatabaseSetting(ctx);
		const run = (file: string, source: string) =>
			withResources(ctx, { command: 'vendor-prices', maxConnections: 2 }, ({ db }) =>
				importVendorPrices(db, { vendor, file, source, format, dryRun: Boolean(f['dry-run']), vendors, trigger: 'cli' }),
			);
		let result: VendorImportResult;
		if (typeof f.file === 'string') {
			checkReadable(f.file, 'the feed file');
			result = await run(f.file, f.file);
		} else {
			const url = feedUrl(f, ctx.env);
			// A malformed URL is refused as validation (exit 2), a failed download as a failure (exit 1).
			const feed = await downloadFeed(url, { timeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : undefined });
			try {
				const u = new URL(url);
				result = await run(feed.file, `${u.origin}${u.pathname}`);
			} finally {
				await feed.remove();
			}
		}
		if (f.json) ctx.stdout(JSON.stringify(result));
		else printResult(result, ctx);
		return result.status === 'busy' ? exitCodeFor('busy') : result.success ? ExitCode.ok : ExitCode.failure;
	},
};
