import { canonicalFromRow, pick, rowValuesFromCanonical } from '../entities/canonical';
import { markEngineWrites } from '../db/engine-session';
import { logChanges } from '../db/ledger';
import { readLeaseForUpdate } from '../db/leases';
import { readSyncRowsByIds, type StoredRow, type Task } from '../db/pricebook-store';
import { stageRestores } from '../db/undo-store';
import { processBatch } from './apply';
import { SyncStateError } from './errors';
import type { StItem } from './prepare';
import type { RunScope } from './scope';
import { syncBase } from './sync-base';
import { stagedRow, type ItemPlan } from './undo-plan';

/**
 * The write half that undo and restore share: planned values go to the local rows as a pending edit, the sync's own
 * decide-and-verified-push path carries them to ServiceTitan, and what actually happened is read back into the
 * plans. One path, so a restore is exactly as safe as an undo.
 */

/** Which operation is writing, for the reasons listed to the admin ("while the undo ran"). */
export type RestoreOperation = 'undo' | 'restore';

/**
 * An n8n run of the type works step by step under a lease, not the advisory lock: while it is alive, the undo or
 * restore waits its turn like a second run would. (A run that starts after this check waits for the lock they hold.)
 */
export async function refuseIfLeased(t: Task, entityType: string, at: Date): Promise<void> {
	const lease = await t.tx((tx) => readLeaseForUpdate(tx, entityType));
	if (lease.lease_run_id !== null && lease.lease_mode === 'staged' && lease.lease_expires_at !== null && lease.lease_expires_at > at) {
		throw new SyncStateError('busy', `an n8n ${entityType} sync (run ${lease.lease_run_id}) is under way; try again when it has finished`);
	}
}

/**
 * Stages every plan's restores, pushes them through processBatch against ServiceTitan as read when planning (`st`),
 * and settles the plans: a restore not staged (the row was edited meanwhile) or not taken by ServiceTitan is moved
 * to the plan's skipped list with the reason, so the answer never claims a value went back when it did not.
 * Needs a scope of a real run (runId set, not a dry run).
 */
export async function stageAndPush(
	run: RunScope,
	operation: RestoreOperation,
	plans: ItemPlan[],
	rows: ReadonlyMap<number, StoredRow>,
	st: ReadonlyMap<number, StItem>,
): Promise<void> {
	const staged = await stage(run, plans, rows, st);
	// Edited between the check and the write: listed as skipped, like any later edit.
	for (const p of plans) {
		if (p.restore.length > 0 && !staged.has(p.entityId)) {
			p.skipped.push(...p.restore.map((r) => ({ field: r.field, reason: `edited locally while the ${operation} ran; kept` })));
			p.restore = [];
		}
	}
	// The sync's own decision and verified push for these items, against ServiceTitan as it was read.
	await processBatch(
		run,
		[...staged].map((id) => ({ id, st: st.get(id) ?? null })),
	);
	await settleOutcomes(run, operation, plans, staged);
}

/**
 * What the sync did with each staged item, read back from its row: a restore ServiceTitan did not take (held, or
 * refused) or one the sync turned into a conflict (ServiceTitan changed meanwhile) is not reported as restored,
 * but listed as skipped with what happened.
 */
async function settleOutcomes(scope: RunScope, operation: RestoreOperation, plans: ItemPlan[], staged: ReadonlySet<number>): Promise<void> {
	const { def } = scope;
	const rows = new Map((await readSyncRowsByIds(scope.t, def, [...staged])).map((r) => [Number(r.id), r]));
	for (const p of plans) {
		if (!staged.has(p.entityId) || p.restore.length === 0) continue;
		const row = rows.get(p.entityId);
		if (row?.sync_status === 'synced') continue;
		// Held: ServiceTitan took the other fields, and kept its own value for those in push_refused.
		const refused = row?.sync_status === 'conflict' ? null : row?.push_refused;
		const missed = (field: string) => !refused || field in refused;
		const why =
			row?.sync_status === 'conflict'
				? `ServiceTitan changed it while the ${operation} ran: it is a conflict now, for a person to resolve`
				: `not in ServiceTitan yet (${row?.push_error ?? 'the push did not go through'}); the restored value waits locally as a pending edit`;
		p.skipped.push(...p.restore.filter((r) => missed(r.field)).map((r) => ({ field: r.field, reason: why })));
		p.restore = p.restore.filter((r) => !missed(r.field));
	}
}

/**
 * Writes the restored values to the local rows (a pending edit; see stagedRow), with change-log entries per item:
 * what was restored, and what was taken from ServiceTitan on the way (not undone by a later undo: that was a
 * ServiceTitan user's edit). Returns the ids written.
 */
async function stage(scope: RunScope, plans: readonly ItemPlan[], rows: ReadonlyMap<number, StoredRow>, st: ReadonlyMap<number, StItem>): Promise<Set<number>> {
	const { def } = scope;
	const items = plans
		.filter((p) => p.restore.length > 0)
		.map((p) => {
			const row = rows.get(p.entityId)!;
			const current = canonicalFromRow(def, row);
			const staged = stagedRow(def, current, syncBase(def, row, st.get(p.entityId)!.canonical), st.get(p.entityId)!.canonical, p);
			return {
				plan: p,
				id: p.entityId,
				rowVersion: Number(row.row_version),
				values: rowValuesFromCanonical(def, staged.values),
				base: staged.base,
				current,
				staged,
			};
		});
	return scope.t.tx('restore-stage', async (tx) => {
		await markEngineWrites(tx);
		const written = new Set(
			await stageRestores(
				tx,
				def.table,
				def.fields.map((f) => f.column),
				items,
				scope.now(),
			),
		);
		const done = items.filter((i) => written.has(i.id));
		// The same actions for undo and restore: undo-plan.ts reverses `undo_restored_locally` either way, which is
		// what lets `pricebook-sync undo` take back a restore run.
		await logChanges(
			tx,
			scope.runId,
			def.type,
			[
				...done.map((i) => ({
					entityId: i.id,
					action: 'undo_restored_locally',
					before: Object.fromEntries(i.plan.restore.map((r) => [r.field, r.now])),
					after: Object.fromEntries(i.plan.restore.map((r) => [r.field, r.afterUndo])),
				})),
				...done
					.filter((i) => i.staged.tookFromSt.length > 0)
					.map((i) => ({
						entityId: i.id,
						action: 'undo_took_st_value',
						before: pick(i.current, i.staged.tookFromSt),
						after: pick(i.staged.values, i.staged.tookFromSt),
					})),
			],
			scope.now(),
		);
		return written;
	});
}
