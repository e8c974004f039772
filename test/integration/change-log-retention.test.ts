import { pruneChangeLog, retentionDaysOf } from '../../lib/retention';
import { runCliCaptured } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(60_000);

/** Retention on real PostgreSQL: prune deletes only change-log entries older than the window, in batches. */
let t: TestDatabase;
beforeEach(async () => {
	t = await createTestDatabase();
});
afterEach(async () => t.drop());

const DAY = 86_400_000;
/** Change-log entries `ages` days old (by `now`), one per age, for material 7 so the history view sees them too. */
async function entriesAged(ages: number[], now: Date): Promise<void> {
	for (const age of ages)
		await t.db.none(
			"INSERT INTO sync_change_log (entity_type, entity_id, action, before, after, changed_at) VALUES ('materials', 7, 'updated_from_st', $1, $2, $3)",
			[{ price: String(age) }, { price: String(age + 1) }, new Date(now.getTime() - age * DAY)],
		);
}
const ages = async (now: Date) =>
	(await t.db.any('SELECT changed_at FROM sync_change_log ORDER BY changed_at DESC')).map((r) => Math.round((now.getTime() - r.changed_at.getTime()) / DAY));

describe('change-log retention', () => {
	it('prune deletes only entries older than the window, in batches', async () => {
		const now = new Date('2026-12-01T02:00:00Z');
		await entriesAged([1, 29, 31, 45, 60, 90, 200], now);
		const r = await pruneChangeLog(t.db, { retentionDays: 30, now, batchSize: 2 });
		expect(r).toEqual({ retentionDays: 30, cutoff: '2026-11-01T02:00:00.000Z', deleted: 5, oldestKept: new Date(now.getTime() - 29 * DAY).toISOString() });
		expect(await ages(now)).toEqual([1, 29]);
		expect(await pruneChangeLog(t.db, { retentionDays: 30, now, batchSize: 2 })).toMatchObject({ deleted: 0 });
	});

	it('pricebook-sync prune takes CHANGE_LOG_RETENTION_DAYS (default 90) and refuses a bad value', async () => {
		const now = new Date();
		await entriesAged([5, 89, 91, 400], now);
		const env = { DATABASE_URL: t.url };
		const byDefault = await runCliCaptured(['prune'], env);
		expect(byDefault).toMatchObject({ code: 0, stderr: '' });
		expect(byDefault.stdout).toMatch(/^deleted 2 change-log entries older than \S+ \(90-day retention\)/);
		expect(await ages(now)).toEqual([5, 89]);

		const shorter = await runCliCaptured(['prune', '--json'], { ...env, CHANGE_LOG_RETENTION_DAYS: '30' });
		expect(JSON.parse(shorter.stdout)).toMatchObject({ retentionDays: 30, deleted: 1 });
		expect(await ages(now)).toEqual([5]);

		const bad = await runCliCaptured(['prune'], { ...env, CHANGE_LOG_RETENTION_DAYS: '0' });
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(
			/CHANGE_LOG_RETENTION_DAYS must be a whole number of days from 1 to 36500 \(unset: 90\); fix it in the environment or .env$/,
		);
		expect(await ages(now)).toEqual([5]);
	});

	it('reads the setting: unset or empty is 90', () => {
		expect(retentionDaysOf({})).toBe(90);
		expect(retentionDaysOf({ CHANGE_LOG_RETENTION_DAYS: ' ' })).toBe(90);
		expect(retentionDaysOf({ CHANGE_LOG_RETENTION_DAYS: '365' })).toBe(365);
		for (const bad of ['-5', '0', '1.5', '90d', '36501'])
			expect(() => retentionDaysOf({ CHANGE_LOG_RETENTION_DAYS: bad })).toThrow(/CHANGE_LOG_RETENTION_DAYS/);
	});
});
