import type { Task } from './pricebook-store';

/**
 * The lease columns of sync_state (migration 0004): which run holds an entity type, until when, and whether it is
 * a one-process ('library') or a multi-step n8n ('staged') run. The rule for taking a lease over lives in
 * lib/sync/lease.ts; this module only reads and writes it.
 */
export type LeaseMode = 'library' | 'staged';

export interface LeaseRow {
	lease_run_id: number | null;
	lease_expires_at: Date | null;
	lease_mode: LeaseMode | null;
}

/** The lease of an entity type, row-locked until the caller's transaction ends. */
export async function readLeaseForUpdate(t: Task, entityType: string): Promise<LeaseRow> {
	return t.one<LeaseRow>('SELECT lease_run_id, lease_expires_at, lease_mode FROM sync_state WHERE entity_type = $1 FOR UPDATE', [entityType]);
}

export async function writeLease(t: Task, entityType: string, runId: number, mode: LeaseMode, expiresAt: Date): Promise<void> {
	await t.none('UPDATE sync_state SET lease_run_id = $2, lease_expires_at = $3, lease_mode = $4 WHERE entity_type = $1', [
		entityType,
		runId,
		expiresAt,
		mode,
	]);
}

/** False when the run no longer holds the lease. */
export async function extendLease(t: Task, entityType: string, runId: number, expiresAt: Date): Promise<boolean> {
	const result = await t.result('UPDATE sync_state SET lease_expires_at = $3 WHERE entity_type = $1 AND lease_run_id = $2', [entityType, runId, expiresAt]);
	return result.rowCount === 1;
}

export async function clearLease(t: Task, entityType: string, runId: number): Promise<void> {
	await t.none('UPDATE sync_state SET lease_run_id = NULL, lease_expires_at = NULL, lease_mode = NULL WHERE entity_type = $1 AND lease_run_id = $2', [
		entityType,
		runId,
	]);
}
