import type { ITask } from 'pg-promise';

// Advisory locks live in one namespace (the first key) so they never collide with another application's locks.
const NAMESPACE = 0x5052_4243; // "PRBC"

export const LockIds = {
	migrate: 1,
	entity: { categories: 11, materials: 12, equipment: 13, services: 14 } as const,
	vendorImport: 21,
} as const;

/** Waits for a session-level advisory lock. Use only inside a task so lock and unlock share one connection. */
export async function acquireLock(t: ITask<unknown>, lockId: number): Promise<void> {
	await t.one('SELECT pg_advisory_lock($1, $2)', [NAMESPACE, lockId]);
}

/** Takes a session-level advisory lock if free; false when another session holds it. */
export async function tryAcquireLock(t: ITask<unknown>, lockId: number): Promise<boolean> {
	const row = await t.one<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [NAMESPACE, lockId]);
	return row.locked;
}

export async function releaseLock(t: ITask<unknown>, lockId: number): Promise<void> {
	await t.one('SELECT pg_advisory_unlock($1, $2)', [NAMESPACE, lockId]);
}

/** Waits up to `waitMs` for the lock, polling; false when it stayed taken. */
export async function acquireLockWithin(t: ITask<unknown>, lockId: number, waitMs: number, pollMs = 100): Promise<boolean> {
	const deadline = Date.now() + waitMs;
	for (;;) {
		if (await tryAcquireLock(t, lockId)) return true;
		if (Date.now() >= deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, pollMs));
	}
}
