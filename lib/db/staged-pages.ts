import { bound, type Task } from './pricebook-store';

/**
 * Pages of a run split across n8n nodes (sync_page_stage): what ST Fetch Page read, what Categorize Changes
 * decided, and what Apply Changes / Store Conflicts did, so each step can run on another worker and run again
 * without doing its work twice. Rows are dropped when the run finishes or is taken over.
 */
export type StagePhase = 'applied' | 'conflicts_stored';

export interface StageMeta {
	page: number;
	item_count: number;
	has_more: boolean;
	max_modified_on: string | null;
	has_plan: boolean;
	applied: Record<string, unknown> | null;
	conflicts_stored: Record<string, unknown> | null;
	/** Ids the changes phase left to the conflicts phase (null until it ran). */
	conflict_ids: number[] | null;
	/** Unique to this staging of the page. */
	token: string;
	/** Export-feed listings: where the next page goes on (ServiceTitan's continuation token). */
	continue_from: string | null;
}

export interface NewStage {
	runId: number;
	page: number;
	/** Validated items, serialized by the caller. */
	items: readonly unknown[];
	itemCount: number;
	hasMore: boolean;
	maxModifiedOn: string | null;
	continueFrom?: string | null;
}

/** Stores a fetched page once; a second fetch of the same page keeps the first (n8n may retry a node). Returns the new staging's token, null when it was there already. */
export async function stagePage(t: Task, stage: NewStage): Promise<string | null> {
	const row = await t.oneOrNone<{ token: string }>(
		bound(
			`INSERT INTO sync_page_stage (run_id, page, items, item_count, has_more, max_modified_on, continue_from) VALUES ($1, $2, $3, $4, $5, $6, $7)
			 ON CONFLICT (run_id, page) DO NOTHING RETURNING token`,
			[stage.runId, stage.page, JSON.stringify(stage.items), stage.itemCount, stage.hasMore, stage.maxModifiedOn, stage.continueFrom ?? null],
		),
	);
	return row?.token ?? null;
}

export async function readStageMeta(t: Task, runId: number, page: number): Promise<StageMeta | null> {
	return t.oneOrNone<StageMeta>(
		`SELECT page, item_count, has_more, max_modified_on, plan IS NOT NULL AS has_plan, applied, conflicts_stored, conflict_ids, token, continue_from
		 FROM sync_page_stage WHERE run_id = $1 AND page = $2`,
		[runId, page],
	);
}

/** Every page of a run, in page order (without their items). */
export async function readStageMetas(t: Task, runId: number): Promise<StageMeta[]> {
	return t.any<StageMeta>(
		`SELECT page, item_count, has_more, max_modified_on, plan IS NOT NULL AS has_plan, applied, conflicts_stored, conflict_ids, token, continue_from
		 FROM sync_page_stage WHERE run_id = $1 ORDER BY page`,
		[runId],
	);
}

/** The staged items of a page, or only those of `onlyIds` (filtered in PostgreSQL, so a few conflicts read little). */
export async function readStagedItems<T>(t: Task, runId: number, page: number, onlyIds?: readonly number[]): Promise<T[]> {
	if (onlyIds === undefined) {
		const row = await t.oneOrNone<{ items: string }>('SELECT items FROM sync_page_stage WHERE run_id = $1 AND page = $2', [runId, page]);
		return row ? (JSON.parse(row.items) as T[]) : [];
	}
	if (onlyIds.length === 0) return [];
	const rows = await t.any<{ i: T }>(
		`SELECT i FROM sync_page_stage s, json_array_elements(s.items::json) i
		 WHERE s.run_id = $1 AND s.page = $2 AND (i ->> 'id')::bigint = ANY($3::bigint[])`,
		[runId, page, onlyIds],
	);
	return rows.map((r) => r.i);
}

/** Keeps the first plan made for a page: a re-run of Categorize Changes returns that one. */
export async function savePlan(t: Task, runId: number, page: number, plan: readonly unknown[]): Promise<void> {
	await t.none(bound('UPDATE sync_page_stage SET plan = $3::json WHERE run_id = $1 AND page = $2 AND plan IS NULL', [runId, page, JSON.stringify(plan)]));
}

export async function readPlan<T>(t: Task, runId: number, page: number): Promise<T[] | null> {
	const row = await t.oneOrNone<{ plan: T[] | null }>('SELECT plan FROM sync_page_stage WHERE run_id = $1 AND page = $2', [runId, page]);
	return row?.plan ?? null;
}

/**
 * Marks a phase of a page done with what it counted; false when it was already done (then the caller's
 * transaction must not count it again).
 */
export async function markPhaseDone(
	t: Task,
	runId: number,
	page: number,
	phase: StagePhase,
	counts: Record<string, unknown>,
	conflictIds: readonly number[] | null = null,
): Promise<boolean> {
	const result = await t.result(
		`UPDATE sync_page_stage SET $3:name = $4, $5:name = now(), conflict_ids = COALESCE($6::bigint[], conflict_ids)
		 WHERE run_id = $1 AND page = $2 AND $3:name IS NULL`,
		[runId, page, phase, counts, `${phase}_at`, conflictIds],
	);
	return result.rowCount === 1;
}

export async function dropStagedPages(t: Task, runId: number): Promise<void> {
	await t.none('DELETE FROM sync_page_stage WHERE run_id = $1', [runId]);
}
