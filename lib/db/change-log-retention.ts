import type { Db } from './connection';

/**
 * Deletes change-log entries older than `cutoff`, `batchSize` at a time, each batch its own statement (and
 * transaction): a first prune of a year's log never holds one long lock or one huge transaction on the table the
 * sync writes to. Returns how many were deleted.
 */
export async function deleteChangeLogBefore(db: Db, cutoff: Date, batchSize: number): Promise<number> {
	let total = 0;
	for (;;) {
		const { n } = await db.one<{ n: number }>(
			`WITH doomed AS (SELECT id FROM sync_change_log WHERE changed_at < $1 ORDER BY id LIMIT $2),
			 gone AS (DELETE FROM sync_change_log l USING doomed d WHERE l.id = d.id RETURNING 1)
			 SELECT count(*)::int AS n FROM gone`,
			[cutoff, batchSize],
		);
		total += n;
		if (n < batchSize) return total;
	}
}

/** The oldest entry's time, or null for an empty log (what the prune reports as still kept). */
export async function oldestChangeLogEntry(db: Db): Promise<Date | null> {
	const row = await db.one<{ at: Date | null }>('SELECT min(changed_at) AS at FROM sync_change_log');
	return row.at;
}
