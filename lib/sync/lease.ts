import { clearLease, extendLease, readLeaseForUpdate, writeLease, type LeaseMode } from '../db/leases';
import type { Task } from '../db/pricebook-store';

/**
 * A lease per entity type in sync_state: the lock for runs that span several n8n nodes (and so several
 * connections), next to the advisory lock that single-process runs hold. Every run first takes the advisory lock
 * (staged runs only for the moment of starting), then the lease:
 * - a lease held by a 'library' run is dead when its advisory lock was free, so it is taken over;
 * - a lease held by a 'staged' run is taken over only once it expired (its n8n execution stopped).
 * The run taken over is reported so the caller can mark it abandoned.
 */
export type { LeaseMode };

export interface LeaseGrant {
	granted: boolean;
	abandonedRunId?: number;
	holderRunId?: number;
}

/** Call inside a transaction: the lease row stays locked until it commits. */
export async function acquireLease(tx: Task, entityType: string, runId: number, mode: LeaseMode, now: Date, ttlMs: number): Promise<LeaseGrant> {
	const state = await readLeaseForUpdate(tx, entityType);
	const holder = state.lease_run_id;
	const alive = holder !== null && holder !== runId && state.lease_mode === 'staged' && state.lease_expires_at !== null && state.lease_expires_at > now;
	if (alive) return { granted: false, holderRunId: holder };
	await writeLease(tx, entityType, runId, mode, new Date(now.getTime() + ttlMs));
	return holder !== null && holder !== runId ? { granted: true, abandonedRunId: holder } : { granted: true };
}

/** Keeps the lease while a run makes progress; false when the run no longer holds it. */
export function renewLease(t: Task, entityType: string, runId: number, now: Date, ttlMs: number): Promise<boolean> {
	return extendLease(t, entityType, runId, new Date(now.getTime() + ttlMs));
}

export const releaseLease = clearLease;
