import type { Task } from '../db/pricebook-store';

/**
 * A lease per entity type in sync_state: the lock for runs that span several n8n nodes (and so several
 * connections), next to the advisory lock that single-process runs hold. Every run first takes the advisory lock
 * (staged runs only for the moment of starting), then the lease:
 * - a lease held by a 'library' run is dead when its advisory lock was free, so it is taken over;
 * - a lease held by a 'staged' run is taken over only once it expired (its n8n execution stopped).
 * The run taken over is reported so the caller can mark it abandoned.
 */
export type LeaseMode = 'library' | 'staged';

export interface LeaseGrant {
	granted: boolean;
	abandonedRunId?: number;
	holderRunId?: number;
}

export async function acquireLease(t: Task, entityType: string, runId: number, mode: LeaseMode, now: Date, ttlMs: number): Promise<LeaseGrant> {
	const state = await t.one<{ lease_run_id: number | null; lease_expires_at: Date | null; lease_mode: LeaseMode | null }>(
		'SELECT lease_run_id, lease_expires_at, lease_mode FROM sync_state WHERE entity_type = $1 FOR UPDATE',
		[entityType],
	);
	const holder = state.lease_run_id;
	const alive = holder !== null && holder !== runId && state.lease_mode === 'staged' && state.lease_expires_at !== null && state.lease_expires_at > now;
	if (alive) return { granted: false, holderRunId: holder };
	await t.none('UPDATE sync_state SET lease_run_id = $2, lease_expires_at = $3, lease_mode = $4 WHERE entity_type = $1', [
		entityType,
		runId,
		new Date(now.getTime() + ttlMs),
		mode,
	]);
	return holder !== null && holder !== runId ? { granted: true, abandonedRunId: holder } : { granted: true };
}

/** Keeps the lease while a run makes progress; false when the run no longer holds it. */
export async function renewLease(t: Task, entityType: string, runId: number, now: Date, ttlMs: number): Promise<boolean> {
	const result = await t.result('UPDATE sync_state SET lease_expires_at = $3 WHERE entity_type = $1 AND lease_run_id = $2', [entityType, runId, new Date(now.getTime() + ttlMs)]);
	return result.rowCount === 1;
}

export async function releaseLease(t: Task, entityType: string, runId: number): Promise<void> {
	await t.none('UPDATE sync_state SET lease_run_id = NULL, lease_expires_at = NULL, lease_mode = NULL WHERE entity_type = $1 AND lease_run_id = $2', [entityType, runId]);
}

/** Marks a run whose holder died as failed and drops what it staged. */
export async function abandonRun(t: Task, entityType: string, runId: number, now: Date): Promise<void> {
	const result = await t.result(
		`UPDATE sync_runs SET status = 'failed', finished_at = $2,
		   error = 'abandoned: the process or n8n execution running it stopped before it finished; a later run took over'
		 WHERE id = $1 AND status = 'running'`,
		[runId, now],
	);
	if (result.rowCount === 1) await t.none('UPDATE sync_state SET consecutive_failures = consecutive_failures + 1 WHERE entity_type = $1', [entityType]);
	await t.none('DELETE FROM sync_page_stage WHERE run_id = $1', [runId]);
	await t.none('DELETE FROM sync_run_seen WHERE run_id = $1', [runId]);
}
