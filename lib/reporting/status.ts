import { DateTime } from 'luxon';
import type { Db } from '../db/connection';
import { countOpenConflicts } from '../db/conflict-store';
import {
	countErrorsSince,
	countPushErrorsStartingWith,
	countPushErrorsStartingWithByType,
	readEntityStatuses,
	readRecentErrors,
	sumPushesSince,
} from '../db/reports';
import type { PushCounts } from '../db/ledger';
import { listHeldPushes, type HeldPush } from './held-pushes';
import { readBudgetUse, type BudgetUse } from './budget-use';
import { PUSH_FORBIDDEN } from '../sync/push';
import { UNREADABLE_VALUE } from '../sync/unreadable';
import type { EntityType } from '../entities/types';

export interface EntityStatus {
	total: number;
	synced: number;
	pending: number;
	conflicts: number;
	deleted: number;
	pushErrors: number;
	/** Edits ServiceTitan did not take (kept its own value, or refused with a 400): held until edited or retried. */
	pushesHeld: number;
	/** Pushes of the last 24 hours, read back: stored as sent, stored in ServiceTitan's own form, or not applied. */
	pushes24h: PushCounts;
	lastFullSync: string | null;
	lastIncrementalSync: string | null;
	lastSuccess: string | null;
	lastRunStatus: string | null;
	lastRunError: string | null;
	consecutiveFailures: number;
}

export interface RecentError {
	id: number;
	runId: number | null;
	entityType: string | null;
	entityId: number | null;
	kind: string;
	message: string;
	occurredAt: string;
}

export type Health = 'green' | 'yellow' | 'red';

/** The seed spec's SyncStatus, plus the health light and why it has that colour. */
export interface SyncStatus {
	health: Health;
	healthReasons: string[];
	lastFullSync: string | null;
	lastIncrementalSync: string | null;
	nextScheduledSync: string;
	nextIncrementalSync: string;
	nextFullSync: string;
	/**
	 * When each kind of change reaches the other side at the latest: ServiceTitan edits and deletes come in, and
	 * Retool edits go out, with the next incremental run (the nightly full run is a second look, not the first).
	 */
	changesArriveBy: { serviceTitanEdits: string; serviceTitanDeletes: string; retoolEdits: string };
	services: EntityStatus;
	materials: EntityStatus;
	equipment: EntityStatus;
	categories: EntityStatus;
	openConflicts: number;
	/** Local edits waiting because the ServiceTitan app may not write (403); 0 when it may. */
	pushForbidden: number;
	/** The longest-waiting held edits (at most 20; the view pricebook_held_pushes_v has them all). */
	heldPushes: HeldPush[];
	/** The ServiceTitan request budget every process shares, per tenant (empty until a request went through it). */
	apiBudget: BudgetUse[];
	recentErrors: RecentError[];
	generatedAt: string;
}

export interface StatusOptions {
	now?: Date;
	/** Time zone of the n8n schedules (default: this machine's). */
	zone?: string;
	/** Minutes between incremental runs (default 15) and the daily full-sync hour (default 2). */
	incrementalEveryMinutes?: number;
	fullSyncHour?: number;
	/** A type whose last success is older than this is red (default 60 min: four missed 15-minute runs). */
	staleAfterMinutes?: number;
	recentErrorLimit?: number;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function nextRuns(now: Date, options: StatusOptions = {}): { incremental: Date; full: Date } {
	const every = options.incrementalEveryMinutes ?? 15;
	const zone = options.zone ?? 'system';
	const t = DateTime.fromJSDate(now, { zone });
	const startOfHour = t.startOf('hour');
	const minutes = Math.floor(t.diff(startOfHour, 'minutes').minutes / every + 1) * every;
	const incremental = startOfHour.plus({ minutes });
	let full = t.set({ hour: options.fullSyncHour ?? 2, minute: 0, second: 0, millisecond: 0 });
	if (full <= t) full = full.plus({ days: 1 });
	return { incremental: incremental.toJSDate(), full: full.toJSDate() };
}

/**
 * The health rule (README, "Sync status"):
 * - red: an entity type never synced, its last full/incremental run failed, or its last success is older than
 *   `staleAfterMinutes` (default 60);
 * - yellow: otherwise, when conflicts wait for a decision, ServiceTitan refused pushes, or errors were logged in
 *   the last 24 hours;
 * - green: otherwise.
 */
export function healthOf(
	entities: Record<EntityType, EntityStatus>,
	recentErrors24h: number,
	now: Date,
	staleAfterMinutes: number,
	pushForbidden = 0,
	unreadable: Partial<Record<string, number>> = {},
): { health: Health; reasons: string[] } {
	const red: string[] = [];
	if (pushForbidden > 0) {
		red.push(
			`the ServiceTitan app lacks write permission: ${pushForbidden} local edit(s) wait until an administrator grants the app write scope for the pricebook`,
		);
	}
	const yellow: string[] = [];
	for (const [type, e] of Object.entries(entities)) {
		if (!e.lastSuccess) red.push(`${type} never synced`);
		else if (now.getTime() - Date.parse(e.lastSuccess) > staleAfterMinutes * 60_000) red.push(`${type} last synced more than ${staleAfterMinutes} min ago`);
		if (e.lastRunStatus === 'failed') red.push(`${type} last run failed: ${e.lastRunError ?? 'unknown error'}`);
		if (e.conflicts > 0) yellow.push(`${e.conflicts} ${type} conflict(s) to resolve`);
		if (e.pushesHeld > 0)
			yellow.push(`${e.pushesHeld} ${type} edit(s) not taken by ServiceTitan, held locally (fix the cause, then: pricebook-sync retry-push ${type})`);
		// Rows the sync cannot read carry their reason in push_error too, but ServiceTitan never saw them.
		const unreadableRows = unreadable[type] ?? 0;
		if (unreadableRows > 0)
			yellow.push(
				`${unreadableRows} ${type} row(s) hold a value the sync cannot read and are skipped until corrected in Retool (push_error names the column and the shape expected)`,
			);
		if (e.pushErrors - unreadableRows > e.pushesHeld)
			yellow.push(`${e.pushErrors - unreadableRows - e.pushesHeld} ${type} edit(s) refused by ServiceTitan`);
	}
	if (recentErrors24h > 0) yellow.push(`${recentErrors24h} error(s) logged in the last 24 h`);
	if (red.length > 0) return { health: 'red', reasons: [...red, ...yellow] };
	if (yellow.length > 0) return { health: 'yellow', reasons: yellow };
	return { health: 'green', reasons: ['all entity types synced recently, nothing waiting'] };
}

export async function getSyncStatus(db: Db, options: StatusOptions = {}): Promise<SyncStatus> {
	const now = options.now ?? new Date();
	const rows = await readEntityStatuses(db);
	const pushes = new Map((await sumPushesSince(db, new Date(now.getTime() - 24 * 3600_000))).map((p) => [p.entity_type, p]));
	const entities = {} as Record<EntityType, EntityStatus>;
	for (const r of rows) {
		const p = pushes.get(r.entity_type);
		entities[r.entity_type as EntityType] = {
			total: r.total,
			synced: r.synced,
			pending: r.pending,
			conflicts: r.conflicts,
			deleted: r.deleted,
			pushErrors: r.push_errors,
			pushesHeld: r.pushes_held,
			pushes24h: { verified: p?.pushes_verified ?? 0, normalized: p?.pushes_normalized ?? 0, ignored: p?.pushes_ignored ?? 0 },
			lastFullSync: iso(r.last_full_sync_at),
			lastIncrementalSync: iso(r.last_incremental_sync_at),
			lastSuccess: iso(r.last_success_at),
			lastRunStatus: r.last_run_status,
			lastRunError: r.last_run_error,
			consecutiveFailures: r.consecutive_failures,
		};
	}
	const errors = await readRecentErrors(db, options.recentErrorLimit ?? 20);
	const errors24h = await countErrorsSince(db, new Date(now.getTime() - 24 * 3600_000));
	const openConflicts = await countOpenConflicts(db);
	const pushForbidden = await countPushErrorsStartingWith(db, PUSH_FORBIDDEN);
	const unreadable = await countPushErrorsStartingWithByType(db, UNREADABLE_VALUE);
	const latest = (key: 'lastFullSync' | 'lastIncrementalSync') =>
		Object.values(entities)
			.map((e) => e[key])
			.filter((v): v is string => v !== null)
			.sort()
			.pop() ?? null;
	const next = nextRuns(now, options);
	const { health, reasons } = healthOf(entities, errors24h, now, options.staleAfterMinutes ?? 60, pushForbidden, unreadable);
	return {
		health,
		healthReasons: reasons,
		lastFullSync: latest('lastFullSync'),
		lastIncrementalSync: latest('lastIncrementalSync'),
		nextScheduledSync: (next.incremental < next.full ? next.incremental : next.full).toISOString(),
		nextIncrementalSync: next.incremental.toISOString(),
		nextFullSync: next.full.toISOString(),
		changesArriveBy: {
			serviceTitanEdits: next.incremental.toISOString(),
			serviceTitanDeletes: next.incremental.toISOString(),
			retoolEdits: next.incremental.toISOString(),
		},
		services: entities.services,
		materials: entities.materials,
		equipment: entities.equipment,
		categories: entities.categories,
		openConflicts,
		pushForbidden,
		heldPushes: await listHeldPushes(db, { limit: 20 }),
		apiBudget: await readBudgetUse(db),
		recentErrors: errors.map((e) => ({
			id: e.id,
			runId: e.run_id,
			entityType: e.entity_type,
			entityId: e.entity_id,
			kind: e.kind,
			message: e.message,
			occurredAt: e.occurred_at.toISOString(),
		})),
		generatedAt: now.toISOString(),
	};
}
