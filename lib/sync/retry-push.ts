import { entityDefinition } from '../entities/definitions';
import type { Db } from '../db/connection';
import { markEngineWrites } from '../db/engine-session';
import { logChanges } from '../db/ledger';
import { releaseHeldPushes } from '../db/pricebook-store';
import type { EntityType } from '../servicetitan/types';
import { SyncValidationError } from './errors';

export interface RetryPushRequest {
	entityType: EntityType;
	/** The rows to retry; absent (with `all`) every held row of the entity type. */
	ids?: readonly number[];
	all?: boolean;
	/** Who asked: recorded in the change log. */
	requestedBy: string;
}

export interface RetryPushResult {
	entityType: EntityType;
	/** Rows whose held edit the next run pushes again, with the fields and reason they were held for. */
	released: { id: number; fields: string[]; reason: string | null }[];
	/** Ids asked for that held nothing (not held, unknown or deleted): nothing was done to them. */
	notHeld: number[];
	message: string;
}

/**
 * A person's answer to a held push (ServiceTitan kept its own value, or refused the values with a 400): after they
 * fixed the cause in ServiceTitan (a field made editable, a rule changed), the same values may be sent once more.
 * Clears the hold; the next run pushes the row and verifies it again, so a push ServiceTitan still does not take is
 * held again with a fresh reason, never looped. Sends nothing itself.
 */
export async function retryHeldPushes(deps: { db: Db; now?: () => Date }, request: RetryPushRequest): Promise<RetryPushResult> {
	const def = entityDefinition(request.entityType);
	if (!request.all && (!request.ids || request.ids.length === 0))
		throw new SyncValidationError('ids', 'name the rows to retry (their ids), or ask for all held rows of the entity type');
	if (request.all && request.ids && request.ids.length > 0) throw new SyncValidationError('ids', 'give either ids or all, not both');
	const at = (deps.now ?? (() => new Date()))();
	const released = await deps.db.tx('retry-held-pushes', async (tx) => {
		await markEngineWrites(tx);
		const rows = await releaseHeldPushes(tx, def.table, request.all ? null : [...new Set(request.ids)]);
		await logChanges(
			tx,
			null,
			def.type,
			rows.map((r) => ({
				entityId: r.id,
				action: 'push_retry_requested',
				before: { held: r.held, reason: r.reason },
				after: { requestedBy: request.requestedBy },
			})),
			at,
		);
		return rows;
	});
	const releasedIds = new Set(released.map((r) => r.id));
	const notHeld = request.all ? [] : [...new Set(request.ids)].filter((id) => !releasedIds.has(id)).sort((a, b) => a - b);
	const what = `${released.length} held ${def.type} edit(s) released`;
	return {
		entityType: def.type,
		released: released.map((r) => ({ id: r.id, fields: Object.keys(r.held ?? {}).sort(), reason: r.reason })),
		notHeld,
		message:
			released.length === 0
				? `no held ${def.type} edit to retry${notHeld.length > 0 ? ` (not held: ${notHeld.join(', ')})` : ''}`
				: `${what}; the next ${def.type} run pushes them again${notHeld.length > 0 ? ` (not held: ${notHeld.join(', ')})` : ''}`,
	};
}
