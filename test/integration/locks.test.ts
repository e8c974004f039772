import { pgp } from '../../lib/db/connection';
import { describeLockHolder, holderAdvice, LockIds, type LockHolder } from '../../lib/db/locks';
import { migrate } from '../../lib/db/migrate';
import { SyncFailure } from '../../lib/failures';
import { runCliCaptured } from '../support/cli';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

const NAMESPACE = 0x5052_4243;

type RawClient = { connect(): Promise<void>; query<R>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>; end(): Promise<void> };

/** Another login's session (a person's psql, a crashed client whose connection stayed open) holding one of our locks. */
async function holdLock(url: string, lockId: number, applicationName: string): Promise<{ pid: number; end(): Promise<void> }> {
	const Client = pgp().pg.Client as unknown as new (config: { connectionString: string; application_name: string }) => RawClient;
	const client = new Client({ connectionString: url, application_name: applicationName });
	await client.connect();
	const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_advisory_lock($1, $2)', [NAMESPACE, lockId]);
	return { pid: rows[0].pid, end: () => client.end() };
}

let h: SyncHarness;
beforeAll(async () => {
	h = await startHarness();
});
afterAll(async () => h?.close());

describe('a session holding the migration lock', () => {
	it('fails migrate after a bounded wait, naming the session and what to do (instead of hanging every command)', async () => {
		const holder = await holdLock(h.t.url, LockIds.migrate, 'stuck psql');
		try {
			const started = Date.now();
			const outcome = await Promise.race([
				migrate(h.t.db, { lockWaitMs: 300 }).then(
					() => 'migrated',
					(error: unknown) => error,
				),
				new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000)),
			]);
			expect(outcome).toBeInstanceOf(SyncFailure);
			const failure = outcome as SyncFailure;
			expect(failure.kind).toBe('busy');
			expect(failure.message).toMatch(/^the schema migration lock is held by another session pid \d+/);
			expect(failure.message).toContain(`pid ${holder.pid}`);
			expect(failure.message).toContain('user postgres');
			expect(failure.message).toContain('application "stuck psql"');
			expect(failure.message).toMatch(/from (127\.0\.0\.1|::1|a local socket)/);
			expect(failure.message).toMatch(/connected \d{4}-\d\d-\d\dT/);
			expect(failure.message).toMatch(/idle for \d+ s/);
			expect(failure.message).toContain(`SELECT pg_terminate_backend(${holder.pid})`);
			expect(Date.now() - started).toBeLessThan(5_000);
		} finally {
			await holder.end();
		}
		// Once the holder is gone, migrating works again.
		await expect(migrate(h.t.db, { lockWaitMs: 300 })).resolves.toMatchObject({ applied: [] });
	});
});

describe('a session holding a run lock', () => {
	it('makes a run busy with a message naming the holder, in the result, the run log and the CLI', async () => {
		const holder = await holdLock(h.t.url, LockIds.entity.materials, 'stuck worker');
		try {
			const result = await h.engine.run({ kind: 'full', entityType: 'materials' });
			expect(result).toMatchObject({ status: 'busy', failureKind: 'busy' });
			expect(result.message).toMatch(/^another materials sync holds the lock: session pid \d+/);
			expect(result.message).toContain(`pid ${holder.pid}`);
			expect(result.message).toContain('application "stuck worker"');
			expect(result.message).toMatch(/holding the lock for at most \d+ s/);
			expect(result.message).toContain(`if that session is stuck, end it with SELECT pg_terminate_backend(${holder.pid})`);
			expect(await h.t.db.one('SELECT error FROM sync_runs WHERE id = $1', [result.runId])).toEqual({ error: result.message });

			const cli = await runCliCaptured(['full', '--entity', 'materials'], h.env);
			expect(cli.code).toBe(3);
			expect(cli.stdout).toContain(`pid ${holder.pid}`);
		} finally {
			await holder.end();
		}
		expect(await h.engine.run({ kind: 'full', entityType: 'materials' })).toMatchObject({ status: 'succeeded' });
	});

	it('calls a holder idle past the threshold probably stuck and says to end it', () => {
		const now = new Date('2025-01-10T12:00:00Z');
		const holder: LockHolder = {
			pid: 4242,
			user: 'retool',
			application: 'psql',
			clientAddr: '10.0.0.7',
			connectedAt: new Date('2025-01-10T09:00:00Z'),
			state: 'idle',
			stateSince: new Date('2025-01-10T11:00:00Z'),
			now,
		};
		expect(describeLockHolder(holder)).toBe(
			'session pid 4242, user retool, application "psql", from 10.0.0.7, connected 2025-01-10T09:00:00.000Z (holding the lock for at most 3 h), idle for 1 h',
		);
		expect(holderAdvice(holder, 'wait')).toBe(
			'it has been idle for 1 h, so it is probably stuck: unless that program is still working, end the session with SELECT pg_terminate_backend(4242) and run again',
		);
		const working = { ...holder, state: 'active', stateSince: new Date('2025-01-10T11:59:00Z') };
		expect(holderAdvice(working, 'wait')).toBe('wait; if that session is stuck, end it with SELECT pg_terminate_backend(4242)');
		expect(describeLockHolder({ ...holder, state: null, clientAddr: null, stateSince: null })).toMatch(
			/not visible to this login \(grant it pg_read_all_stats/,
		);
	});
});
