import type { PushCounts } from '../db/ledger';
import { CATEGORIES, type Category, type Decision } from './categorize';

export type Summary = Record<Category, number>;

export type { PushCounts };

export const noPushes = (): PushCounts => ({ verified: 0, normalized: 0, ignored: 0 });

export interface PlannedItem {
	id: number;
	action: Decision['action'];
	reason: string;
	fields?: string[];
}

/** Items kept per category in a dry-run plan; the counts are always complete. */
export const PLAN_LIMIT = 1000;

/** Counts of one run; kept in memory only for reporting (the ledger row holds the durable copy). */
export class Tally {
	summary: Summary = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Summary;
	itemsSynced = 0;
	itemsPushed = 0;
	pushes = noPushes();
	conflictsDetected = 0;
	errors = 0;
	pagesRead = 0;
	itemsSeen = 0;
	plan: Record<Category, PlannedItem[]> | null = null;

	constructor(collectPlan: boolean) {
		if (collectPlan) this.plan = Object.fromEntries(CATEGORIES.map((c) => [c, []])) as unknown as Record<Category, PlannedItem[]>;
	}

	count(decision: Decision): void {
		this.summary[decision.category]++;
		if (decision.action === 'insert' || decision.action === 'undelete' || decision.action === 'update_from_st') this.itemsSynced++;
		if (decision.action === 'conflict' || decision.action === 'refresh_conflict') this.conflictsDetected++;
		const list = this.plan?.[decision.category];
		if (list && list.length < PLAN_LIMIT) list.push({ id: decision.id, action: decision.action, reason: decision.reason, fields: decision.fields });
	}

	/** Adds another tally's counts (and plan entries, up to the limit) to this one. */
	add(other: Tally): void {
		for (const c of CATEGORIES) {
			this.summary[c] += other.summary[c];
			const list = this.plan?.[c];
			for (const item of other.plan?.[c] ?? []) if (list && list.length < PLAN_LIMIT) list.push(item);
		}
		this.itemsSynced += other.itemsSynced;
		this.itemsPushed += other.itemsPushed;
		for (const k of Object.keys(this.pushes) as (keyof PushCounts)[]) this.pushes[k] += other.pushes[k];
		this.conflictsDetected += other.conflictsDetected;
		this.errors += other.errors;
		this.pagesRead += other.pagesRead;
		this.itemsSeen += other.itemsSeen;
	}

	progress() {
		return {
			pagesRead: this.pagesRead,
			itemsSeen: this.itemsSeen,
			counts: { ...this.summary },
			itemsSynced: this.itemsSynced,
			itemsPushed: this.itemsPushed,
			pushes: { ...this.pushes },
			conflictsDetected: this.conflictsDetected,
			errors: this.errors,
		};
	}
}
