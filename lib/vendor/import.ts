import type { Db } from '../db/connection';
import { finishRun, logErrors, recordBusyRun, startRun, type ErrorLogEntry, type RunProgress } from '../db/ledger';
import { acquireLockWithin, describeLockHolder, holderAdvice, lockHolder, LockIds, releaseLock } from '../db/locks';
import { inChunks, WRITE_CHUNK, type Task } from '../db/pricebook-store';
import { writeVendorPrices, type VendorPriceWrite } from '../db/vendor-prices';
import { loadVendorConfig, vendorConfigFor, type VendorConfig } from './config';
import { FeedFormatError, parseFeed, type BadRow, type FeedRow } from './feed';
import { matchSkus, type Unmatched } from './match';

/**
 * Imports one vendor's price feed into vendor_prices (local only: nothing here talks to ServiceTitan). Runs under
 * the vendor-import advisory lock so two imports cannot interleave their writes, is recorded in the run ledger,
 * and is idempotent: a row is written only when a value differs, and only a price change adds history.
 */
export interface VendorImportOptions {
	vendor: string;
	/** The feed's text (CSV or a JSON array). */
	content: string;
	format?: 'csv' | 'json';
	dryRun?: boolean;
	trigger?: string;
	/** Where the feed came from (file name or URL without query), kept in the run's details. */
	source?: string;
	vendors?: Record<string, VendorConfig>;
	/** How long to wait for another import to finish before reporting busy. */
	lockWaitMs?: number;
	now?: Date;
}

export interface VendorImportResult {
	vendor: string;
	runId: number | null;
	dryRun: boolean;
	status: 'succeeded' | 'failed' | 'busy';
	success: boolean;
	error: string | null;
	format: 'csv' | 'json' | null;
	rowsRead: number;
	inserted: number;
	updated: number;
	priceChanges: number;
	unchanged: number;
	matchedBy: { existing: number; stVendorData: number };
	unmatched: Unmatched[];
	badRows: BadRow[];
	importedAt: string;
}

class DryRunRollback extends Error {}

function emptyResult(vendor: string, dryRun: boolean, now: Date): VendorImportResult {
	return {
		vendor,
		runId: null,
		dryRun,
		status: 'succeeded',
		success: true,
		error: null,
		format: null,
		rowsRead: 0,
		inserted: 0,
		updated: 0,
		priceChanges: 0,
		unchanged: 0,
		matchedBy: { existing: 0, stVendorData: 0 },
		unmatched: [],
		badRows: [],
		importedAt: now.toISOString(),
	};
}

function progress(r: VendorImportResult): RunProgress {
	return {
		pagesRead: 0,
		itemsSeen: r.rowsRead,
		counts: {
			inserted: r.inserted,
			updated: r.updated,
			priceChanges: r.priceChanges,
			unchanged: r.unchanged,
			unmatched: r.unmatched.length,
			badRows: r.badRows.length,
		},
		itemsSynced: r.inserted + r.updated,
		itemsPushed: 0,
		conflictsDetected: 0,
		errors: r.unmatched.length + r.badRows.length,
	};
}

function errorEntries(vendor: string, unmatched: readonly Unmatched[], bad: readonly BadRow[]): ErrorLogEntry[] {
	return [
		...bad.map((b) => ({
			entityId: null,
			kind: 'vendor_row_invalid',
			message: `${vendor} line ${b.line}: ${b.reason}`,
			details: { vendor, line: b.line, sku: b.sku },
		})),
		...unmatched.map((u) => ({
			entityId: null,
			kind: 'vendor_sku_unmatched',
			message: `${vendor} line ${u.line}: SKU ${u.sku} ${u.reason}`,
			details: { vendor, line: u.line, sku: u.sku },
		})),
	];
}

async function importParsed(t: Task, config: VendorConfig, rows: readonly FeedRow[], result: VendorImportResult, now: Date): Promise<void> {
	const { matched, unmatched } = await matchSkus(t, config, rows);
	result.unmatched = unmatched;
	const writes: VendorPriceWrite[] = [];
	for (const r of rows) {
		const m = matched.get(r.sku);
		if (!m) continue;
		result.matchedBy[m.route]++;
		writes.push({
			vendor_sku: r.sku,
			material_id: m.materialId,
			price: r.price,
			description: r.description,
			unit: r.unit,
			pack_size: r.packSize,
			effective_date: r.effectiveDate,
		});
	}
	await inChunks(writes, WRITE_CHUNK, async (chunk) => {
		const c = await writeVendorPrices(t, config.vendor, chunk, result.runId, now);
		result.inserted += c.inserted;
		result.updated += c.updated;
		result.priceChanges += c.price_changes;
	});
	result.unchanged = writes.length - result.inserted - result.updated;
	await logErrors(t, result.runId, 'vendor_prices', errorEntries(config.vendor, result.unmatched, result.badRows), now);
}

export async function importVendorPrices(db: Db, options: VendorImportOptions): Promise<VendorImportResult> {
	const config = vendorConfigFor(options.vendor, options.vendors ?? loadVendorConfig());
	const now = options.now ?? new Date();
	const dryRun = options.dryRun ?? false;
	const result = emptyResult(config.vendor, dryRun, now);
	const run = {
		kind: 'vendor_import' as const,
		entityType: null,
		trigger: options.trigger ?? 'cli',
		dryRun,
		details: { vendor: config.vendor, source: options.source ?? null },
	};
	return db.task(async (t) => {
		if (!(await acquireLockWithin(t, LockIds.vendorImport, options.lockWaitMs ?? 60_000))) {
			const holder = await lockHolder(t, LockIds.vendorImport);
			const error = holder
				? `another vendor price import holds the lock: ${describeLockHolder(holder)}; ${holderAdvice(holder, 'try again when it has finished')}`
				: 'another vendor price import is in progress';
			if (!dryRun) result.runId = await recordBusyRun(t, run, now, error);
			return { ...result, status: 'busy', success: false, error };
		}
		try {
			if (!dryRun) result.runId = await startRun(t, run, now);
			try {
				const feed = parseFeed(options.content, config.columns, options.format);
				Object.assign(result, { format: feed.format, rowsRead: feed.total, badRows: feed.bad });
				await t
					.tx(async (tx) => {
						await importParsed(tx, config, feed.rows, result, now);
						// A dry run does all the work, so its counts are exact, and then rolls it back.
						if (dryRun) throw new DryRunRollback();
					})
					.catch((error: unknown) => {
						if (!(error instanceof DryRunRollback)) throw error;
					});
			} catch (error) {
				const message = error instanceof Error ? error.message : String(error);
				Object.assign(result, { status: 'failed', success: false, error: message });
				if (result.runId !== null) {
					await finishRun(t, result.runId, { status: 'failed', error: message }, progress(result), new Date(Math.max(Date.now(), now.getTime())));
				}
				if (error instanceof FeedFormatError) return result;
				throw error;
			}
			if (result.runId !== null) await finishRun(t, result.runId, { status: 'succeeded' }, progress(result), now);
			return result;
		} finally {
			await releaseLock(t, LockIds.vendorImport);
		}
	});
}
