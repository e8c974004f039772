import { LockIds, withLockOrBusy } from '../db/locks';
import type { Task } from '../db/pricebook-store';
import type { EntityType } from '../entities/types';

/**
 * Runs `work` holding the entity type's sync lock, which a person's resolve, undo and restore take like a run does,
 * so none of them interleaves its writes with a sync of the same type; busy (naming the holder) after `waitMs`.
 */
export function withEntityLock<T>(t: Task, type: EntityType, waitMs: number | undefined, work: () => Promise<T>): Promise<T> {
	return withLockOrBusy(t, LockIds.entity[type], waitMs ?? 30_000, { what: `a ${type} sync is running`, waitAdvice: 'try again in a minute' }, work);
}
