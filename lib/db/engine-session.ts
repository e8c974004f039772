import type { ITask } from 'pg-promise';

/**
 * Marks the current transaction's writes as the sync engine's own, so the local-edit capture trigger does not
 * mistake them for a person's edit. Transaction-local: it ends with the transaction and cannot leak into a
 * pooled connection's next user.
 */
export async function markEngineWrites(t: ITask<unknown>): Promise<void> {
	await t.one("SELECT set_config('pricebook_sync.origin', 'engine', true)");
}
