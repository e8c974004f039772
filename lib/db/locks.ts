import type { ITask } from 'pg-promise';
import { SyncFailure } from '../failures';

// Advisory locks live in one namespace (the first key) so they never collide with another application's locks.
const NAMESPACE = 0x5052_4243; // "PRBC"

export const LockIds = {
	migrate: 1,
	entity: { categories: 11, materials: 12, equipment: 13, services: 14 } as const,
	vendorImport: 21,
} as const;

/**
 * How long a session may sit idle while holding one of our locks before it is called probably stuck: a sync run's
 * connection is idle while it waits for ServiceTitan (pages, retries, rate-limit back-off), which takes seconds to
 * a few minutes, never this long.
 */
export const STUCK_IDLE_MS = 15 * 60_000;

/** How long `migrate` waits for another session's migration before it gives up naming that session. */
export const MIGRATION_LOCK_WAIT_MS = 60_000;

/** Takes a session-level advisory lock if free; false when another session holds it. */
export async function tryAcquireLock(t: ITask<unknown>, lockId: number): Promise<boolean> {
	const row = await t.one<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [NAMESPACE, lockId]);
	return row.locked;
}

export async function releaseLock(t: ITask<unknown>, lockId: number): Promise<void> {
	await t.one('SELECT pg_advisory_unlock($1, $2)', [NAMESPACE, lockId]);
}

/**
 * Waits up to `waitMs` for the lock, polling; false when it stayed taken. Never a blocking pg_advisory_lock: a
 * session that holds the lock and never lets go (a crashed client whose connection stays open, a person's psql)
 * would hang the caller forever.
 */
export async function acquireLockWithin(t: ITask<unknown>, lockId: number, waitMs: number, pollMs = 100): Promise<boolean> {
	const deadline = Date.now() + waitMs;
	for (;;) {
		if (await tryAcquireLock(t, lockId)) return true;
		if (Date.now() >= deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
	}
}

/** The session holding one of our locks, as pg_stat_activity shows it (fields it hides from this login are null). */
export interface LockHolder {
	pid: number;
	user: string | null;
	application: string | null;
	clientAddr: string | null;
	connectedAt: Date | null;
	/** active, idle, idle in transaction, ... */
	state: string | null;
	/** When `state` began: for an idle session, when its last statement ended. */
	stateSince: Date | null;
	/** The server's clock, so durations do not depend on this machine's. */
	now: Date;
}

/** Who holds the lock now (in this database; advisory locks are per database); undefined when nobody does. */
export async function lockHolder(t: ITask<unknown>, lockId: number): Promise<LockHolder | undefined> {
	// pg_advisory_lock(int4, int4) appears in pg_locks as classid = first key, objid = second, objsubid = 2.
	const row = await t.oneOrNone<LockHolder>(
		`SELECT a.pid, a.usename AS user, a.application_name AS application, host(a.client_addr) AS "clientAddr",
			a.backend_start AS "connectedAt", a.state, a.state_change AS "stateSince", now() AS now
		 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		 LIMIT 1`,
		[NAMESPACE, lockId],
	);
	return row ?? undefined;
}

export function formatDuration(ms: number): string {
	const s = Math.max(0, Math.round(ms / 1000));
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min`;
	const h = Math.floor(m / 60);
	return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Idle (not running a statement) for longer than STUCK_IDLE_MS while holding the lock. */
export function holderLooksStuck(holder: LockHolder, stuckIdleMs = STUCK_IDLE_MS): boolean {
	return holder.state !== null && holder.state !== 'active' && holder.stateSince !== null && idleMs(holder) > stuckIdleMs;
}

function idleMs(holder: LockHolder): number {
	return holder.stateSince ? holder.now.getTime() - holder.stateSince.getTime() : 0;
}

/**
 * One line naming the holding session: pid, login, application, client address, since when, what it is doing.
 * The lock's own start time is not recorded by PostgreSQL; the session's connect time bounds it.
 */
export function describeLockHolder(holder: LockHolder): string {
	const parts = [`pid ${holder.pid}`];
	parts.push(`user ${holder.user ?? '?'}`);
	if (holder.application) parts.push(`application "${holder.application}"`);
	// A null address with a visible state is a Unix-socket session; a hidden state means this login may not see it.
	parts.push(holder.clientAddr ? `from ${holder.clientAddr}` : holder.state !== null ? 'from a local socket' : 'from an address this login may not see');
	if (holder.connectedAt) {
		parts.push(
			`connected ${holder.connectedAt.toISOString()} (holding the lock for at most ${formatDuration(holder.now.getTime() - holder.connectedAt.getTime())})`,
		);
	}
	if (holder.state === null) parts.push('state not visible to this login (grant it pg_read_all_stats to see it)');
	else if (holder.state === 'active') parts.push('running a statement now');
	else parts.push(`${holder.state} for ${formatDuration(idleMs(holder))}`);
	return `session ${parts.join(', ')}`;
}

/** What to do about a holder: end it when it looks stuck, else wait; both name the pid. */
export function holderAdvice(holder: LockHolder, waitAdvice: string): string {
	const terminate = `SELECT pg_terminate_backend(${holder.pid})`;
	if (holderLooksStuck(holder)) {
		return `it has been idle for ${formatDuration(idleMs(holder))}, so it is probably stuck: unless that program is still working, end the session with ${terminate} and run again`;
	}
	return `${waitAdvice}; if that session is stuck, end it with ${terminate}`;
}

/**
 * Takes the lock, waiting at most `waitMs`; otherwise fails ('busy') with a message naming the session that holds
 * it and what to do. `what` names the lock for the message ("the schema migration lock").
 */
export async function acquireLockOrFail(t: ITask<unknown>, lockId: number, what: string, waitMs: number, waitAdvice: string): Promise<void> {
	if (await acquireLockWithin(t, lockId, waitMs)) return;
	const holder = await lockHolder(t, lockId);
	// Released between the last try and the look-up: take it now rather than report a holder that is gone.
	if (!holder && (await tryAcquireLock(t, lockId))) return;
	const waited = `waited ${formatDuration(waitMs)}`;
	if (!holder) throw new SyncFailure('busy', `${what} is held by another session (${waited}); run again`);
	throw new SyncFailure('busy', `${what} is held by another ${describeLockHolder(holder)} (${waited}); ${holderAdvice(holder, waitAdvice)}`);
}

/**
 * Runs `fn` holding the lock, waiting at most `waitMs` for it; otherwise fails ('busy') with `busy` followed by the
 * session that holds it and what to do. Resolve, undo, restore and the vendor price undo all take their lock this way,
 * so a busy answer reads the same everywhere and the lock is always released.
 */
export async function withLockOrBusy<T>(
	t: ITask<unknown>,
	lockId: number,
	waitMs: number,
	busy: { what: string; waitAdvice: string },
	fn: () => Promise<T>,
): Promise<T> {
	if (!(await acquireLockWithin(t, lockId, waitMs))) {
		const holder = await lockHolder(t, lockId);
		const who = holder ? ` (${describeLockHolder(holder)}); ${holderAdvice(holder, busy.waitAdvice)}` : `; ${busy.waitAdvice}`;
		throw new SyncFailure('busy', `${busy.what}${who}`);
	}
	try {
		return await fn();
	} finally {
		await releaseLock(t, lockId);
	}
}
