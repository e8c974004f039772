import type { EntityDefinition } from '../entities/types';
import { readSyncRowsByIds, type StoredRow, type StWrite, type Task } from './pricebook-store';

/**
 * Rows a person inserted (temporary negative ids, migration 0011) on their way to ServiceTitan: found, marked while
 * a POST is under way, and re-keyed to ServiceTitan's id once it created the item.
 */

/**
 * Ids of rows waiting to be created in ServiceTitan, below `beforeId` (0 to start), newest-last: the ids count down,
 * so a parent category inserted before its child is created first. Soft-deleted ones are left alone (nothing to
 * create); `only` narrows to given ids (the single-entity call).
 */
export async function localCreateIds(t: Task, table: string, beforeId: number, limit: number, only: readonly number[] | null = null): Promise<number[]> {
	const rows = await t.any<{ id: number }>(
		`SELECT id FROM $1:name WHERE id < LEAST($2, 0) AND deleted_at IS NULL AND sync_status = 'pending_push'
		   AND ($4::bigint[] IS NULL OR id = ANY($4::bigint[]))
		 ORDER BY id DESC LIMIT $3`,
		[table, beforeId, limit, only],
	);
	return rows.map((r) => Number(r.id));
}

/** Rows whose create was sent and whose answer was not recorded (push_in_flight set), soft-deleted ones included. */
export async function createsInFlightIds(t: Task, table: string): Promise<number[]> {
	const rows = await t.any<{ id: number }>('SELECT id FROM $1:name WHERE id < 0 AND push_in_flight IS NOT NULL ORDER BY id DESC', [table]);
	return rows.map((r) => Number(r.id));
}

export async function readLocalCreate(t: Task, def: EntityDefinition, id: number): Promise<StoredRow | null> {
	return (await readSyncRowsByIds(t, def, [id]))[0] ?? null;
}

/** The row of a create being written back, locked for the rest of the transaction (a Retool edit waits for it). */
export async function lockLocalCreate(t: Task, def: EntityDefinition, id: number): Promise<StoredRow | null> {
	const columns = ['id', 'row_version', ...def.fields.map((f) => f.column)];
	return t.oneOrNone<StoredRow>('SELECT $1:name FROM $2:name WHERE id = $3 FOR UPDATE', [columns, def.table, id]);
}

/**
 * Marks a create as sent (before the POST), if the row is still at `rowVersion`: a run that dies before recording
 * the answer leaves this mark, and the next run looks the item up in ServiceTitan before it sends again. Returns the
 * row's new version, or null when the row moved (it is decided again next run).
 */
export async function markCreateInFlight(t: Task, table: string, id: number, rowVersion: number, sent: unknown): Promise<number | null> {
	const row = await t.oneOrNone<{ row_version: string }>(`UPDATE $1:name SET push_in_flight = $4 WHERE id = $2 AND row_version = $3 RETURNING row_version`, [
		table,
		id,
		rowVersion,
		JSON.stringify(sent),
	]);
	return row ? Number(row.row_version) : null;
}

export interface CreatedWrite {
	temporaryId: number;
	/** ServiceTitan's record as stored: id, base, st_data, stamps (its `values` are not written: see `values`). */
	st: StWrite;
	/** Column values the row takes (ServiceTitan's forms, and the person's where they edited since), or null: kept as they are. */
	values: Record<string, unknown> | null;
	/** The row then equals what ServiceTitan stores: synced; else it stays pending. */
	synced: boolean;
	/** Values ServiceTitan did not take on create (kept locally, held like an ignored push), or null. */
	held: Record<string, unknown> | null;
	heldMessage: string | null;
	/** Which side changed cannot be told (see create-local.ts): the row is left with no base, to be decided as a conflict. */
	unknownBase?: boolean;
	/** A person soft-deleted the copy of the item a run had brought in meanwhile: the re-keyed row keeps that delete. */
	deletedAt?: Date | null;
}

/**
 * The copy of a created item a run brought in under ServiceTitan's id while the create's answer was lost (an entity
 * run, from ServiceTitan's change webhook), locked for the write-back that folds it into the created row.
 */
export async function lockCopyOfCreated(t: Task, table: string, stId: number): Promise<StoredRow | null> {
	return t.oneOrNone<StoredRow>('SELECT * FROM $1:name WHERE id = $2 FOR UPDATE', [table, stId]);
}

/**
 * Writes ServiceTitan's id back to a created row, in the caller's transaction: the row is re-keyed (vendor prices
 * follow by ON UPDATE CASCADE), rows that point at its temporary id are pointed at the new one, and the base and
 * bookkeeping become ServiceTitan's. If a listing already brought the new item in under its id (a run died between
 * the POST and this write, and the look-up a run makes before listing did not find it yet), that copy, brought in
 * by the same run, is folded into the person's row: the person's row is what holds their values and vendor prices.
 */
export async function writeBackCreated(t: Task, def: EntityDefinition, columns: readonly string[], w: CreatedWrite, now: Date): Promise<void> {
	const newId = w.st.id;
	const table = def.table;
	if (await t.oneOrNone('SELECT 1 FROM $1:name WHERE id = $2', [table, newId])) {
		if (def.type === 'materials') await t.none('UPDATE vendor_prices SET material_id = $1 WHERE material_id = $2', [w.temporaryId, newId]);
		await t.one(`SELECT set_config('pricebook_sync.allow_hard_delete', 'on', true)`);
		await t.none('DELETE FROM $1:name WHERE id = $2', [table, newId]);
		await t.one(`SELECT set_config('pricebook_sync.allow_hard_delete', '', true)`);
	}
	const written = w.values ? columns.filter((c) => c in w.values!) : [];
	const values = written.map((c) => pgValue(w.values![c]));
	const sets = written.length > 0 ? written.map((c, i) => `$${i + 12}:name = $${i + 12 + written.length}`).join(', ') + ',' : '';
	await t.none(
		`UPDATE $1:name SET ${sets} id = $3, sync_base = $4, st_data = $5, st_modified_on = $6, st_modified_on_raw = $7, last_synced_at = $8,
		   push_in_flight = NULL, push_refused = $9, push_error = $10,
		   sync_status = CASE WHEN $11 THEN 'synced' ELSE 'pending_push' END, sync_direction = 'to_st',
		   deleted_at = COALESCE(deleted_at, $${12 + 2 * written.length})
		 WHERE id = $2`,
		[
			table,
			w.temporaryId,
			newId,
			w.unknownBase ? null : JSON.stringify(w.st.base),
			JSON.stringify(w.st.stData),
			w.st.stModifiedOnPg,
			w.st.stModifiedOnRaw,
			now,
			w.held === null ? null : JSON.stringify(w.held),
			w.heldMessage,
			w.synced,
			...written,
			...values,
			w.deletedAt ?? null,
		],
	);
	await repointReferences(t, def, w.temporaryId, newId);
}

/** JSON columns go as JSON text; everything else as it is. */
function pgValue(value: unknown): unknown {
	return Array.isArray(value) ? JSON.stringify(value) : value;
}

/** Rows that referred to the temporary id (a child category, an item's category, a service's material) now refer to ServiceTitan's. */
async function repointReferences(t: Task, def: EntityDefinition, from: number, to: number): Promise<void> {
	if (def.type === 'categories') {
		await t.none('UPDATE pricebook_categories SET parent_id = $2 WHERE parent_id = $1', [from, to]);
		for (const table of ['pricebook_materials', 'pricebook_equipment', 'pricebook_services']) {
			await t.none(
				`UPDATE $1:name SET categories = (
				   SELECT jsonb_agg(CASE WHEN e = to_jsonb($2::bigint) THEN to_jsonb($3::bigint) ELSE e END ORDER BY n)
				   FROM jsonb_array_elements(categories) WITH ORDINALITY AS x(e, n))
				 WHERE jsonb_typeof(categories) = 'array' AND categories @> jsonb_build_array($2::bigint)`,
				[table, from, to],
			);
		}
	}
	if (def.type === 'materials') {
		await t.none(
			`UPDATE pricebook_services SET materials_included = (
			   SELECT jsonb_agg(CASE WHEN e ->> 'materialId' = $1::text THEN jsonb_set(e, '{materialId}', to_jsonb($2::bigint)) ELSE e END ORDER BY n)
			   FROM jsonb_array_elements(materials_included) WITH ORDINALITY AS x(e, n))
			 WHERE jsonb_typeof(materials_included) = 'array' AND materials_included @> jsonb_build_array(jsonb_build_object('materialId', $1::bigint))`,
			[from, to],
		);
	}
}

/** A create that cannot be sent (or that ServiceTitan refused): the reason, and the values it was refused for (null: tried again next run). */
export async function holdLocalCreate(t: Task, table: string, id: number, message: string, refused: unknown): Promise<void> {
	await t.none('UPDATE $1:name SET push_error = $3, push_refused = $4, push_in_flight = NULL WHERE id = $2', [
		table,
		id,
		message,
		refused === null ? null : JSON.stringify(refused),
	]);
}
