import type { Db } from '../db/connection';
import type { FailureKind } from '../failures';
import type { EntityType } from '../entities/types';
import type { Category } from './categorize';
import type { StApi, SyncLog } from './ports';
import type { PlannedItem, PushCounts, Summary } from './tally';

export type SyncKind = 'full' | 'incremental' | 'entity';

export interface SyncSettings {
	/** ServiceTitan page size (max 5000). */
	pageSize: number;
	/** Incremental runs re-read this many seconds before the cursor (clock skew, late commits in ST). */
	overlapSeconds: number;
	/** A full-sync sweep that would soft-delete more than this share of live rows stops unless confirmed. */
	massDeleteMaxShare: number;
	/** ...and more than this many rows (small tables are not blocked by one delete). */
	massDeleteMinCount: number;
	/** An incremental run whose last success is older than this runs as a full sync. */
	staleAfterHours: number;
	/** An incremental run after this many failed runs in a row runs as a full sync. */
	fullAfterFailures: number;
	pushConcurrency: number;
	/** Lease of a run split across n8n nodes; renewed by every node of the run. */
	leaseTtlMs: number;
}

export const DEFAULT_SETTINGS: SyncSettings = {
	pageSize: 5000,
	overlapSeconds: 300,
	massDeleteMaxShare: 0.1,
	massDeleteMinCount: 5,
	staleAfterHours: 24,
	fullAfterFailures: 3,
	pushConcurrency: 4,
	leaseTtlMs: 10 * 60_000,
};

export interface RunRequest {
	entityType: EntityType;
	kind: SyncKind;
	trigger?: string;
	dryRun?: boolean;
	confirmMassDelete?: boolean;
	/** Incremental: read from here instead of the stored cursor (ISO-8601). */
	since?: string;
	/** Single entity. */
	entityId?: number;
}

export interface RunProgressEvent {
	entityType: EntityType;
	kind: SyncKind;
	pagesRead: number;
	itemsSeen: number;
	totalCount: number | null;
	/**
	 * After the listing: local edits ServiceTitan's listing did not bring (a Retool backlog, e.g. a mass price
	 * change) decided and pushed so far, of `editsToPush`.
	 */
	editsPushed?: number;
	editsToPush?: number;
}

/** The CLI's and webhooks' result contract (see README). */
export interface RunResult {
	entityType: EntityType;
	runId: number | null;
	kind: SyncKind;
	/** Set when an incremental run was promoted to a full sync, with the reason. */
	ranAsFullBecause?: string;
	dryRun: boolean;
	success: boolean;
	status: 'succeeded' | 'failed' | 'busy';
	summary: Summary;
	itemsSynced: number;
	itemsPushed: number;
	/**
	 * Pushes read back from ServiceTitan: stored exactly as sent (verified), stored in its own equivalent form that the
	 * local row adopted (normalized), or answered but not applied for some field (ignored: the edit is held locally).
	 * itemsPushed = verified + normalized.
	 */
	pushes: PushCounts;
	conflictsDetected: number;
	errors: number;
	syncedAt: string;
	message?: string;
	/** Why a failed or busy run did not succeed, in the library's one failure vocabulary. */
	failureKind?: FailureKind;
	/** Full runs: the sweep was withheld by the mass-delete guard. */
	massDeleteBlocked?: { wouldDelete: number; live: number };
	/** Dry runs: what would happen, per category (at most 1000 items each; counts are complete). */
	plan?: Record<Category, PlannedItem[]>;
}

export interface RunDeps {
	db: Db;
	st: StApi;
	now: () => Date;
	log: SyncLog;
	settings: SyncSettings;
	onProgress?: (event: RunProgressEvent) => void;
}
