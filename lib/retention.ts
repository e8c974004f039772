import type { Db } from './db/connection';
import { deleteChangeLogBefore, oldestChangeLogEntry } from './db/change-log-retention';
import { SyncFailure } from './failures';

/**
 * How long the change log keeps its entries (CHANGE_LOG_RETENTION_DAYS, default 90): item history, undo and restore
 * work from the change log, so this is also how far back they reach. Older entries are deleted by `prune`.
 */
export const DEFAULT_RETENTION_DAYS = 90;
export const RETENTION_SETTING = 'CHANGE_LOG_RETENTION_DAYS';
/** Rows per DELETE: small enough that each batch is a short transaction next to running syncs. */
export const PRUNE_BATCH = 5000;

const MAX_RETENTION_DAYS = 36_500;

/**
 * The retention window in days from the environment; unset or empty is the default. A bad value is a configuration
 * failure (exit 2, naming the setting), not a guess: a typo must never shorten the window and let prune delete history.
 */
export function retentionDaysOf(env: Record<string, string | undefined>): number {
	const value = env[RETENTION_SETTING]?.trim();
	if (!value) return DEFAULT_RETENTION_DAYS;
	const days = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
	if (!(days >= 1 && days <= MAX_RETENTION_DAYS))
		throw new SyncFailure(
			'configuration',
			`${RETENTION_SETTING} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (unset: ${DEFAULT_RETENTION_DAYS}); fix it in the environment or .env`,
		);
	return days;
}

/** The oldest time still inside the window. */
export function retentionCutoff(days: number, now: Date): Date {
	return new Date(now.getTime() - days * 86_400_000);
}

/** Whether `at` lies before the window, i.e. its change-log entries may already be pruned. */
export function isBeyondRetention(at: Date, days: number, now: Date): boolean {
	return at.getTime() < retentionCutoff(days, now).getTime();
}

/** The words every refusal of something too old uses, so an admin recognises them. */
export function beyondRetentionMessage(what: string, days: number): string {
	return `${what} is beyond the ${days}-day retention window (${RETENTION_SETTING}): its change-log entries may be pruned, so it cannot be undone or restored safely; change the values by hand in Retool instead`;
}

export interface PruneResult {
	retentionDays: number;
	cutoff: string;
	deleted: number;
	oldestKept: string | null;
}

/** Deletes change-log entries older than the window, in batches (see deleteChangeLogBefore). */
export async function pruneChangeLog(db: Db, options: { retentionDays: number; now?: Date; batchSize?: number }): Promise<PruneResult> {
	const cutoff = retentionCutoff(options.retentionDays, options.now ?? new Date());
	const deleted = await deleteChangeLogBefore(db, cutoff, options.batchSize ?? PRUNE_BATCH);
	const oldest = await oldestChangeLogEntry(db);
	return { retentionDays: options.retentionDays, cutoff: cutoff.toISOString(), deleted, oldestKept: oldest ? oldest.toISOString() : null };
}
