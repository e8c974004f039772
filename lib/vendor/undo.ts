import type { Db } from '../db/connection';
import { finishRun, readRun, startRun } from '../db/ledger';
import type { Task } from '../db/pricebook-store';
import { LockIds, withLockOrBusy } from '../db/locks';
import { findVendorImportUndo, readRunPriceChanges, restoreVendorPrices, type RunPriceChange } from '../db/vendor-prices';
import { beyondRetentionMessage, DEFAULT_RETENTION_DAYS, isBeyondRetention } from '../retention';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from '../sync/errors';
import { resolvedByOf } from '../api/validators';

/**
 * Undo of a vendor price import: every price the import changed goes back to the price it replaced, unless it has
 * changed since (a later import or undo, or a Retool edit), which is kept and reported with the reason. The undo is
 * a run of its own (kind vendor_import_undo, who asked, which run it undoes) whose price changes go to the price
 * history like an import's, so an undo can itself be undone. Prices an import added (new SKUs) stay: nothing had a
 * price there before, and deleting a vendor price is a person's decision.
 */
export interface VendorUndoOptions {
	dryRun?: boolean;
	/** Who asked for the undo: kept in the run's details. */
	by: string;
	trigger?: string;
	retentionDays?: number;
	lockWaitMs?: number;
	now?: Date;
}

export interface VendorUndoLine {
	vendor: string;
	vendorSku: string;
	materialId: number | null;
	/** The price now. */
	now: string | null;
	/** The price after the undo (the one the import replaced); for a skipped line, what it would have been. */
	after: string | null;
	/** Why a line is not undone; absent for a restored one. */
	skipped?: string;
}

export interface VendorUndoResult {
	undoes: number;
	runId: number | null;
	dryRun: boolean;
	restored: VendorUndoLine[];
	skipped: VendorUndoLine[];
}

const UNDOABLE_KINDS = ['vendor_import', 'vendor_import_undo'];

function skipReason(c: RunPriceChange): string | undefined {
	if (c.later_change)
		return c.later_run_id === null ? 'changed since by a later run (no longer recorded)' : `changed since by run ${c.later_run_id}: undo that run first`;
	if (c.set_price === null) return 'recorded before undo could check prices (before migration 0018): set it by hand if needed';
	if (c.current_price !== c.set_price) return `edited since (now ${c.current_price ?? 'empty'}, the import set ${c.set_price}): kept`;
	return undefined;
}

function lineOf(c: RunPriceChange, skipped?: string): VendorUndoLine {
	return {
		vendor: c.vendor,
		vendorSku: c.vendor_sku,
		materialId: c.material_id === null ? null : Number(c.material_id),
		now: c.current_price,
		after: c.before_price,
		...(skipped ? { skipped } : {}),
	};
}

async function checkUndoable(t: Task, runId: number, days: number, now: Date): Promise<void> {
	const run = await readRun(t, runId);
	if (!run) throw new SyncNotFoundError(`run ${runId} does not exist: find it with pricebook-sync logs`);
	if (!UNDOABLE_KINDS.includes(run.kind))
		throw new SyncValidationError(
			'runId',
			`run ${runId} is a ${run.kind} run, not a vendor price import: undo-vendor-import undoes only vendor imports (and their undos)`,
		);
	if (run.status !== 'succeeded')
		throw new SyncValidationError(
			'runId',
			`run ${runId} ${run.status === 'running' ? 'is still running' : `did not succeed (${run.status})`}: it changed no price to undo`,
		);
	if (isBeyondRetention(run.started_at, days, now))
		throw new SyncValidationError('runId', beyondRetentionMessage(`run ${runId} (${run.started_at.toISOString()})`, days));
	const undone = await findVendorImportUndo(t, runId);
	if (undone !== null) throw new SyncStateError('stale', `run ${runId} was already undone by run ${undone}; to take the undo back, undo run ${undone}`);
}

export async function undoVendorImport(deps: { db: Db }, runId: number, options: VendorUndoOptions): Promise<VendorUndoResult> {
	const by = resolvedByOf(options.by, 'by', '--by');
	const now = options.now ?? new Date();
	const dryRun = options.dryRun ?? false;
	const days = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
	return deps.db.task(async (t) => {
		// The import's lock: an import and an undo never interleave their writes to the same prices.
		const busy = { what: 'a vendor price import holds the lock', waitAdvice: 'try again when it has finished' };
		return withLockOrBusy(t, LockIds.vendorImport, options.lockWaitMs ?? 60_000, busy, async () => {
			return t.tx('vendor-import-undo', async (tx) => {
				await checkUndoable(tx, runId, days, now);
				const changes = await readRunPriceChanges(tx, runId);
				const restored: VendorUndoLine[] = [];
				const skipped: VendorUndoLine[] = [];
				for (const c of changes) {
					const reason = skipReason(c);
					(reason ? skipped : restored).push(lineOf(c, reason));
				}
				if (dryRun) return { undoes: runId, runId: null, dryRun, restored, skipped };
				const undoRun = await startRun(
					tx,
					{ kind: 'vendor_import_undo', entityType: null, trigger: options.trigger ?? 'cli', dryRun: false, details: { undoes: runId, by } },
					now,
				);
				const restore = changes.filter((c) => skipReason(c) === undefined).map((c) => ({ id: c.vendor_price_id, price: c.before_price }));
				const written = await restoreVendorPrices(tx, undoRun, restore, now);
				await finishRun(
					tx,
					undoRun,
					{ status: 'succeeded', details: { restored: written, skipped: skipped.length } },
					{
						pagesRead: 0,
						itemsSeen: changes.length,
						counts: { restored: written, skipped: skipped.length },
						itemsSynced: written,
						itemsPushed: 0,
						conflictsDetected: 0,
						errors: 0,
					},
					now,
				);
				return { undoes: runId, runId: undoRun, dryRun, restored, skipped };
			});
		});
	});
}
