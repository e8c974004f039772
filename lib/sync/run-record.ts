import { openConflictSides, type OpenConflictSides } from '../db/conflict-store';
import { addRunProgress, readRun, saveListingStart } from '../db/ledger';
import type { EntityDefinition } from '../entities/types';
import {
	countLive,
	countPendingPushes,
	countSeen,
	countUnseen,
	liveIds,
	pendingPushIds,
	recheckIds,
	recordSeen,
	unseenIds,
	type Task,
} from '../db/pricebook-store';
import type { Tally } from './tally';

/**
 * What a run remembers between its steps: the ids it has read from ServiceTitan (to drop an item a listing
 * repeats, to leave them out of the pending pushes, and for the sweep) and its counts. A recorded run keeps both
 * in PostgreSQL (sync_run_seen and its ledger row), so the n8n steps of one run, on any worker, share them; a dry
 * run writes nothing, so it keeps them in memory. The lifecycle talks only to this interface.
 */
export interface RunRecord {
	readonly runId: number | null;
	/**
	 * Records ids read from ServiceTitan; returns those this run had not read before. `recheck`: ids to look up by
	 * id before deciding on them (the export feed listed them inactive: deactivated, or deleted).
	 */
	markSeen(t: Task, ids: readonly number[], recheck?: readonly number[]): Promise<Set<number>>;
	/** The ids marked to look up again, in id order, after `afterId`. */
	recheckAfter(t: Task, afterId: number, limit: number): Promise<number[]>;
	/** Where the listing starts and ServiceTitan's clock then (kept for the run's later steps and its cursor). */
	saveListingStart(t: Task, windowFrom: string | null, stClock: string | null): Promise<void>;
	/** Adds one step's counts (and the newest ServiceTitan stamp it read, and the listing's totalCount on its page). */
	addProgress(t: Task, tally: Tally, maxModifiedOn: string | null, listedTotal?: number | null): Promise<void>;
	/** How many distinct ids the run has read, and the totalCount ServiceTitan gave on the last listing page. */
	coverage(t: Task): Promise<{ seen: number; listedTotal: number | null }>;
	/** A page of pending local edits that this run has not read from ServiceTitan; `next` is null at the end. */
	pendingUnseen(t: Task, table: string, afterId: number, limit: number): Promise<{ ids: number[]; next: number | null }>;
	/** How many ids pendingUnseen hands out in all (for progress). */
	countPendingUnseen(t: Task, table: string): Promise<number>;
	/** A page of open conflicts whose items this run has not read, with their rows; `next` is null at the end. */
	openConflictsUnseen(t: Task, def: EntityDefinition, afterId: number, limit: number): Promise<{ rows: OpenConflictSides[]; next: number | null }>;
	/** Live rows and how many of them the run has not read (the sweep's candidates). */
	countUnseen(t: Task, table: string): Promise<{ unseen: number; live: number }>;
	unseenAfter(t: Task, table: string, afterId: number, limit: number): Promise<number[]>;
}

export function ledgerRecord(runId: number): RunRecord {
	return {
		runId,
		async markSeen(t, ids, recheck = []) {
			return new Set(await recordSeen(t, runId, ids, recheck));
		},
		recheckAfter: (t, afterId, limit) => recheckIds(t, runId, afterId, limit),
		saveListingStart: (t, windowFrom, stClock) => saveListingStart(t, runId, windowFrom, stClock),
		addProgress: (t, tally, maxModifiedOn, listedTotal) => addRunProgress(t, runId, tally.progress(), maxModifiedOn, listedTotal ?? null),
		async coverage(t) {
			const run = await readRun(t, runId);
			return { seen: await countSeen(t, runId), listedTotal: run?.listed_total ?? null };
		},
		async pendingUnseen(t, table, afterId, limit) {
			const ids = await pendingPushIds(t, table, afterId, limit, runId);
			return { ids, next: ids.length > 0 ? ids[ids.length - 1] : null };
		},
		countPendingUnseen: (t, table) => countPendingPushes(t, table, runId),
		async openConflictsUnseen(t, def, afterId, limit) {
			const rows = await openConflictSides(t, def, afterId, limit, runId);
			return { rows, next: rows.length > 0 ? rows[rows.length - 1].entity_id : null };
		},
		countUnseen: (t, table) => countUnseen(t, table, runId),
		unseenAfter: (t, table, afterId, limit) => unseenIds(t, table, runId, afterId, limit),
	};
}

/** A dry run's record: the same answers from memory, nothing written. */
export class MemoryRecord implements RunRecord {
	readonly runId = null;
	private readonly seen = new Set<number>();
	maxModifiedOn: string | null = null;

	constructor(readonly totals: Tally) {}

	private readonly recheck = new Set<number>();

	async markSeen(_t: Task, ids: readonly number[], recheck: readonly number[] = []): Promise<Set<number>> {
		const fresh = new Set<number>();
		for (const id of ids) if (!this.seen.has(id)) fresh.add(id);
		for (const id of ids) this.seen.add(id);
		for (const id of recheck) this.recheck.add(id);
		return fresh;
	}

	async recheckAfter(_t: Task, afterId: number, limit: number): Promise<number[]> {
		return [...this.recheck]
			.filter((id) => id > afterId)
			.sort((a, b) => a - b)
			.slice(0, limit);
	}

	async saveListingStart(): Promise<void> {
		// A dry run keeps them on its ActiveRun only.
	}

	private listedTotal: number | null = null;

	async addProgress(_t: Task, tally: Tally, maxModifiedOn: string | null, listedTotal?: number | null): Promise<void> {
		this.totals.add(tally);
		if (listedTotal !== undefined && listedTotal !== null) this.listedTotal = listedTotal;
		if (maxModifiedOn && (!this.maxModifiedOn || maxModifiedOn > this.maxModifiedOn)) this.maxModifiedOn = maxModifiedOn;
	}

	async coverage(): Promise<{ seen: number; listedTotal: number | null }> {
		return { seen: this.seen.size, listedTotal: this.listedTotal };
	}

	async pendingUnseen(t: Task, table: string, afterId: number, limit: number): Promise<{ ids: number[]; next: number | null }> {
		const page = await pendingPushIds(t, table, afterId, limit);
		return { ids: page.filter((id) => !this.seen.has(id)), next: page.length > 0 ? page[page.length - 1] : null };
	}

	async countPendingUnseen(t: Task, table: string): Promise<number> {
		return (await pendingPushIds(t, table, 0, Number.MAX_SAFE_INTEGER)).filter((id) => !this.seen.has(id)).length;
	}

	async openConflictsUnseen(t: Task, def: EntityDefinition, afterId: number, limit: number): Promise<{ rows: OpenConflictSides[]; next: number | null }> {
		const page = await openConflictSides(t, def, afterId, limit, null);
		return { rows: page.filter((r) => !this.seen.has(r.entity_id)), next: page.length > 0 ? page[page.length - 1].entity_id : null };
	}

	async countUnseen(t: Task, table: string): Promise<{ unseen: number; live: number }> {
		return { unseen: (await this.unseenAfter(t, table, 0, Number.POSITIVE_INFINITY)).length, live: await countLive(t, table) };
	}

	async unseenAfter(t: Task, table: string, afterId: number, limit: number): Promise<number[]> {
		const out: number[] = [];
		let after = afterId;
		while (out.length < limit) {
			const page = await this.unseenPage(t, table, after);
			if (page.all.length === 0) break;
			out.push(...page.unseen);
			after = page.all[page.all.length - 1];
		}
		return out;
	}

	private async unseenPage(t: Task, table: string, after: number): Promise<{ all: number[]; unseen: number[] }> {
		const all = await liveIds(t, table, after, 5000);
		return { all, unseen: all.filter((id) => !this.seen.has(id)) };
	}
}
