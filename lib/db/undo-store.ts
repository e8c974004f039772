import { bound, ident, inChunks, WRITE_CHUNK, type Task } from './pricebook-store';

/** One change-log entry of a run, as undo reads it. */
export interface LoggedChange {
	entity_id: number;
	action: string;
	before: unknown;
	after: unknown;
}

/** Everything a run wrote to the change log, oldest first (the order the run made the changes in). */
export async function runChanges(t: Task, runId: number): Promise<LoggedChange[]> {
	const rows = await t.any<LoggedChange>('SELECT entity_id, action, before, after FROM sync_change_log WHERE run_id = $1 ORDER BY id', [runId]);
	return rows.map((r) => ({ ...r, entity_id: Number(r.entity_id) }));
}

/**
 * The undo that undid a run and still stands (restored something, and was not itself undone), if there is one: such
 * a run is not undone a second time, since the values its undo restored would count as "changed since" and be
 * skipped anyway. An undo that restored nothing (every field changed since) leaves the run undoable.
 */
export async function standingUndoOf(t: Task, runId: number): Promise<number | null> {
	const row = await t.oneOrNone<{ id: string }>(
		`SELECT u.id FROM sync_runs u
		 WHERE u.kind = 'undo' AND u.status = 'succeeded' AND NOT u.dry_run AND u.details ->> 'undoes' = $1::text
		   AND COALESCE((u.details ->> 'fieldsRestored')::int, 0) > 0
		   AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.kind = 'undo' AND r.status = 'succeeded' AND NOT r.dry_run
		                   AND r.details ->> 'undoes' = u.id::text AND COALESCE((r.details ->> 'fieldsRestored')::int, 0) > 0)
		 ORDER BY u.id DESC LIMIT 1`,
		[String(runId)],
	);
	return row ? Number(row.id) : null;
}

/**
 * Writes undo's restored values to the rows as an edit waiting to be pushed (compare-and-set on the row version
 * read when undo decided), with a new base where undo gives one (undo-plan.ts stagedRow), so the sync's own push path carries them to ServiceTitan with its checks, and a process
 * that dies before the push leaves an ordinary pending edit the next run pushes. Call with engine writes marked.
 * Returns the ids written; a row edited since it was read is missing.
 */
export async function stageRestores(
	t: Task,
	table: string,
	columns: readonly string[],
	items: readonly { id: number; rowVersion: number; values: Record<string, unknown>; base: unknown }[],
	now: Date,
): Promise<number[]> {
	if (items.length === 0) return [];
	const sets = columns.map((c) => `${ident(c)} = x.${ident(c)}`).join(', ');
	return inChunks(items, WRITE_CHUNK, async (chunk) => {
		const rows = await t.any<{ id: string }>(
			bound(
				`UPDATE ${ident(table)} AS t SET ${sets}, sync_base = COALESCE(x.sync_base, t.sync_base), sync_status = 'pending_push', sync_direction = 'to_st', local_modified_at = $2
				 FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb) AS x
				 WHERE t.id = x.id AND t.row_version = x.row_version
				 RETURNING t.id`,
				[JSON.stringify(chunk.map((i) => ({ ...i.values, id: i.id, row_version: i.rowVersion, sync_base: i.base }))), now],
			),
		);
		return rows.map((r) => Number(r.id));
	});
}

/**
 * Puts a row back in conflict as it was before a resolution (compare-and-set on the row version): the local values
 * and base from then, the conflict's data, and no decision. Call with engine writes marked. False: edited meanwhile.
 */
export async function restoreConflictRow(
	t: Task,
	table: string,
	columns: readonly string[],
	item: { id: number; rowVersion: number; values: Record<string, unknown>; base: unknown; conflictData: unknown },
): Promise<boolean> {
	const sets = columns.map((c) => `${ident(c)} = x.${ident(c)}`).join(', ');
	const rows = await t.any(
		bound(
			`UPDATE ${ident(table)} AS t SET ${sets}, sync_base = x.sync_base, conflict_data = x.conflict_data, has_conflict = TRUE,
			   sync_status = 'conflict', conflict_resolved_at = NULL, conflict_resolution = NULL, resolved_by = NULL
			 FROM jsonb_populate_record(NULL::${ident(table)}, $1::jsonb) AS x
			 WHERE t.id = x.id AND t.row_version = x.row_version
			 RETURNING t.id`,
			[JSON.stringify({ ...item.values, id: item.id, row_version: item.rowVersion, sync_base: item.base, conflict_data: item.conflictData })],
		),
	);
	return rows.length === 1;
}
