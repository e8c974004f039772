import { canonicalFromRow, canonicalFromSt, differingFields, FieldValueError, sameContent } from '../../../lib/entities/canonical';
import { canonicalDecimal } from '../../../lib/entities/decimal';
import { isNormalizedForm } from '../../../lib/entities/equivalence';
import type { CanonicalRecord, CanonicalValue, EntityDefinition } from '../../../lib/entities/types';
import { compareStTimestamps } from '../../../lib/servicetitan/timestamps';
import type { StRecord } from '../../../lib/servicetitan/types';
import { PatchLedger } from './patches';
import type { ScenarioWorld } from './world';

/** A field the scenarios edit on either side: its local column, its ServiceTitan name and the values drawn. */
export interface EditableField {
	column: string;
	st: string;
	kind: 'text' | 'decimal' | 'boolean';
	values: readonly (string | number | boolean)[];
}

// Few values per field, so both sides often pick the same one (equal edits must not conflict) and often not. Some
// are ones ServiceTitan may store in another form when a PATCH sends them (the drawn PATCH behaviours): text with
// surrounding or repeated whitespace (trimmed and collapsed), HTML in another spelling (`<BR>` → `<br/>`, or
// stripped), money with more than 2 decimals (rounded half away from zero), '' in a nullable text (stored as null).
const TEXTS = [
	'Pump seal kit',
	`O'Brien's "quoted" part`,
	`'; DROP TABLE pricebook_materials; --`,
	'🐟 Perfect Catch — ñandú ✓',
	'Line one\nline two\ttabbed',
	'  Pump  seal   kit ',
	'Line one<BR>two',
];
const NAMES = ['Seal kit', '  Seal  kit ', '<B>Seal</B> kit', ''];
const MONEY = [0, 9.99, 12.5, 100, 1234.5678, 12.345];

export const EDITABLE: Record<'materials' | 'services', readonly EditableField[]> = {
	materials: [
		{ column: 'description', st: 'description', kind: 'text', values: TEXTS },
		{ column: 'display_name', st: 'displayName', kind: 'text', values: NAMES },
		{ column: 'price', st: 'price', kind: 'decimal', values: MONEY },
		{ column: 'member_price', st: 'memberPrice', kind: 'decimal', values: MONEY },
		{ column: 'cost', st: 'cost', kind: 'decimal', values: MONEY },
		{ column: 'active', st: 'active', kind: 'boolean', values: [true, false] },
	],
	services: [
		{ column: 'description', st: 'description', kind: 'text', values: TEXTS },
		{ column: 'display_name', st: 'displayName', kind: 'text', values: NAMES },
		{ column: 'price', st: 'price', kind: 'decimal', values: MONEY },
		{ column: 'member_price', st: 'memberPrice', kind: 'decimal', values: MONEY },
		{ column: 'hours', st: 'hours', kind: 'decimal', values: [0, 0.5, 1, 2.25] },
		{ column: 'active', st: 'active', kind: 'boolean', values: [true, false] },
	],
};

export function canonicalOf(field: EditableField, value: unknown): CanonicalValue {
	return field.kind === 'decimal' ? canonicalDecimal(value) : (value as CanonicalValue);
}

/**
 * Whether `stored` is `value` itself or the equivalent form ServiceTitan stores it in (lib/entities/equivalence.ts:
 * money rounded, text trimmed or collapsed, HTML respelled or stripped, '' as null): a local edit ServiceTitan
 * stored so is delivered once the local row holds the same form.
 */
export function sameOrNormalized(def: EntityDefinition, column: string, value: CanonicalValue | undefined, stored: CanonicalValue | undefined): boolean {
	if (value === undefined || stored === undefined) return false;
	if (value === stored) return true;
	const field = def.fields.find((f) => f.column === column);
	return !!field && isNormalizedForm(field, value, stored);
}

/** One change a person made, on one side, that the sync owes the other side (or a conflict). */
export interface Edit {
	side: 'st' | 'local';
	id: number;
	field: EditableField;
	value: CanonicalValue;
	seq: number;
	/** ST edits: a successful run that read it has finished, so it must be local now (or in a conflict). */
	due?: boolean;
	/** The field's value on the edited side just before the edit (see edit()). */
	before?: CanonicalValue;
}

interface LocalRow extends Record<string, unknown> {
	id: number;
	sync_status: string;
	deleted_at: Date | null;
	deleted_in_st: boolean;
	st_modified_on_raw: string | null;
	has_conflict: boolean;
	sync_base: Record<string, unknown> | null;
	push_error: string | null;
	push_refused: Record<string, CanonicalValue> | null;
}

interface OpenConflict {
	id: number;
	entity_id: number;
	kind: string;
	st_modified_on_raw: string | null;
	conflict_data: { localVersion: { data: Record<string, CanonicalValue> }; stVersion?: { data: Record<string, unknown> | null } };
}

/**
 * A row's canonical values, also for a row holding a malformed JSON value a person wrote (categories as a string, a
 * list holding text): that column reads as null here, so the model's other checks go on for its other fields.
 */
export function rowCanonical(def: EntityDefinition, row: Record<string, unknown>): CanonicalRecord {
	try {
		return canonicalFromRow(def, row);
	} catch (error) {
		if (!(error instanceof FieldValueError)) throw error;
		const malformed = def.fields.filter((f) => f.kind === 'idList' || f.kind === 'materialList').map((f) => f.column);
		return canonicalFromRow(def, { ...row, ...Object.fromEntries(malformed.map((c) => [c, null])) });
	}
}

/**
 * A row a person inserted in Retool (INV-20..23): its code (unique per scenario: how it is found in ServiceTitan and
 * locally), its current id (the temporary negative one until ServiceTitan's is written back), the vendor prices
 * attached to it, and how many items with its code ServiceTitan deleted (each allows one more create, and a row
 * deleted in ServiceTitan).
 */
export interface LocalInsert {
	code: string;
	tempId: number;
	id: number;
	vendorSkus: string[];
	stDeletes: number;
}

/** One side of every item at a moment: the local rows (canonical, deleted, in conflict) and ServiceTitan's items. */
export interface Sides {
	local: Map<number, { values: CanonicalRecord; deleted: boolean; conflict: boolean }>;
	st: Map<number, CanonicalRecord>;
}

/** A sync run's items just before and just after it (INV-24), and the model clock when it started. */
export interface RunSides {
	startSeq: number;
	before: Sides;
	after: Sides;
}

/** Both sides as they are now (ServiceTitan read by the observer: faults must be off). */
export async function sidesNow(def: EntityDefinition, world: ScenarioWorld): Promise<Sides> {
	const rows = await world.lane.t.db.any<LocalRow>('SELECT * FROM $1:name', [def.table]);
	const local: Sides['local'] = new Map(
		rows.map((row) => [
			Number(row.id),
			{ values: rowCanonical(def, row), deleted: row.deleted_at !== null, conflict: row.has_conflict || row.sync_status === 'conflict' },
		]),
	);
	const st: Sides['st'] = new Map();
	for await (const page of world.observer.iteratePages(def.type, { active: 'Any', pageSize: 5000 }))
		for (const record of page.data as StRecord[]) st.set(record.id, canonicalFromSt(def, record));
	return { local, st };
}

/**
 * The reference model: which edits happened where and in which order, which of them the sync still owes, and
 * which a person settled by resolving a conflict. The database and the simulator are the state; this is what
 * they must be consistent with.
 */
export class Reference {
	private seq = 0;
	edits: Edit[] = [];
	/**
	 * Edits back to the last synced value (they cancel that side's older edit of the field, see edit()), kept so an
	 * older edit made under a temporary id, which edit() could not see, is cancelled too once the row is re-keyed.
	 */
	readonly reverts: Pick<Edit, 'side' | 'id' | 'field' | 'seq'>[] = [];
	/** Items ServiceTitan deleted, with the moment, until the local row is soft-deleted. */
	readonly stDeletes = new Map<number, { seq: number; due: boolean }>();
	readonly knownLocalIds = new Set<number>();
	/** Items edited in Retool since a run last read them: an open conflict shows them as they were before. */
	readonly editedSinceRun = new Set<number>();
	/** vendor_prices as the last person's edit left them: no sync may change them. */
	vendorPrices = '[]';
	/**
	 * An n8n execution died holding its run's lease (ServiceTitan clock ms it expires at): until then every run of
	 * this entity type, on either driver, must answer busy; the first run after it takes the lease over.
	 */
	stagedLeaseUntil: number | null = null;
	checks = 0;
	/** INV-17: the PATCHes ServiceTitan answered, and what allows sending one again. */
	readonly patches = new PatchLedger();
	/**
	 * INV-19: fields ("id:column") changed locally (a Retool edit, a resolution, a person's retry) since their base
	 * and the row last held the same value. Every other field of a live row, not in conflict, has base = row.
	 */
	readonly localTouched = new Set<string>();
	/** INV-18: the model clock at each item's last local change (Retool edit, resolution, retry). */
	readonly lastLocalChange = new Map<number, number>();
	/** INV-18: successful runs, by the model clock at their start; an entity run names its one item. */
	readonly successfulRuns: { startSeq: number; entityId?: number }[] = [];

	/**
	 * INV-24: the model clock at each item's last change by anyone but the sync itself (an edit, create or delete on
	 * either side, a resolution, a retry, an undo): an undo of a run no later than that restores the item exactly.
	 */
	readonly lastTouch = new Map<number, number>();
	/** INV-24: both sides of every sync run's items just before and just after it, by run id. */
	readonly runSides = new Map<number, RunSides>();
	/** INV-24: runs an undo step undid, restoring something (a second undo of one is refused as stale). */
	readonly undone = new Set<number>();

	/** INV-20..23: the rows people inserted, in order. */
	readonly inserts: LocalInsert[] = [];
	/** Temporary ids whose row ServiceTitan's id was written back to (sync_change_log `created_in_st`), to that id. */
	readonly rekeyed = new Map<number, number>();
	/** INV-22: rows a person soft-deleted (deleted_at set in Retool), until a person or ServiceTitan reactivated them. */
	readonly personDeleted = new Map<number, number>();
	/**
	 * Rows whose deleted_at is still the one a person set: from their soft delete until the row is seen live again
	 * (or marked deleted in ServiceTitan). Unlike `personDeleted` it outlives a ServiceTitan user's reactivation the
	 * sync has not yet taken: if ServiceTitan then deletes the item, no run ever takes it, and the row rightly stays
	 * soft-deleted by the person (gone on both sides), not by the sync (model seed 20261129 path 106, undo steps).
	 */
	readonly personDeleteOnRow = new Set<number>();
	/**
	 * Rows holding a malformed JSON value a person wrote (and the database accepted): the column, the value as
	 * written, and ServiceTitan's request log length then. While it is there the row is neither pushed nor overwritten.
	 */
	readonly malformed = new Map<number, { column: string; value: string; at: number; restore: unknown }>();

	constructor(
		readonly def: EntityDefinition,
		readonly fields: readonly EditableField[],
	) {}

	/** The insert whose row now has this id, if any. */
	insertAt(id: number): LocalInsert | undefined {
		return this.inserts.find((i) => i.id === id);
	}

	/**
	 * Follows the rows ServiceTitan's id was written back to (read from the change log, written in the same
	 * transaction as the re-key): everything the model keeps by the temporary id moves to ServiceTitan's.
	 */
	async followRekeys(world: ScenarioWorld): Promise<void> {
		const created = await world.lane.t.db.any<{ entity_id: string; temp: string }>(
			`SELECT entity_id, before ->> 'temporaryId' AS temp FROM sync_change_log WHERE action = 'created_in_st' AND entity_type = $1 ORDER BY id`,
			[this.def.type],
		);
		for (const c of created) {
			const from = Number(c.temp);
			const to = Number(c.entity_id);
			if (this.rekeyed.has(from)) continue;
			this.rekeyed.set(from, to);
			const moved = new Set(this.edits.filter((e) => e.id === from));
			for (const e of moved) e.id = to;
			// An edit made under ServiceTitan's id (during the run that re-keyed the row) is newer than one made under the
			// temporary id: as in edit(), only the latest of one side and field is owed. A ServiceTitan user's edit made
			// after a create whose answer was lost found the created value there: that value was delivered (by the POST),
			// which edit() could not see while the row still had its temporary id.
			this.edits = this.edits.filter(
				(e) =>
					e.id !== to ||
					(!this.edits.some(
						(n) =>
							n.id === to &&
							n.field.column === e.field.column &&
							n.seq > e.seq &&
							(n.side === e.side || (moved.has(e) && n.before !== undefined && sameOrNormalized(this.def, e.field.column, e.value, n.before))),
					) &&
						// A person's edit back to the synced value, made under ServiceTitan's id, cancels the older one.
						!(moved.has(e) && this.reverts.some((r) => r.id === to && r.side === e.side && r.field.column === e.field.column && r.seq > e.seq))),
			);
			for (const key of [...this.localTouched])
				if (key.startsWith(`${from}:`)) {
					this.localTouched.delete(key);
					this.localTouched.add(`${to}:${key.slice(String(from).length + 1)}`);
				}
			const last = this.lastLocalChange.get(from);
			if (last !== undefined) this.lastLocalChange.set(to, Math.max(last, this.lastLocalChange.get(to) ?? 0));
			this.lastLocalChange.delete(from);
			if (this.editedSinceRun.delete(from)) this.editedSinceRun.add(to);
			this.knownLocalIds.delete(from);
			for (const r of this.successfulRuns) if (r.entityId === from) r.entityId = to;
			for (const i of this.inserts) if (i.id === from) i.id = to;
		}
	}

	now(): number {
		return ++this.seq;
	}

	/**
	 * An edit on one side. `otherSideNow` is the field's value on the edited side just before the edit: an older
	 * edit from the other side that already arrived there is delivered, and this newer edit is what is owed now.
	 */
	edit(side: Edit['side'], id: number, field: EditableField, rawValue: unknown, valueBefore: unknown, syncedValue?: unknown): void {
		this.touched(id);
		if (side === 'st') this.stChanged(id);
		const before = valueBefore === undefined ? undefined : canonicalOf(field, valueBefore);
		// INV-22: the item reactivated in ServiceTitan after a person's soft delete, or a person setting the row active
		// again: their later word, which the sync follows.
		if (field.column === 'active' && canonicalOf(field, rawValue) === true && (side === 'local' || before === false)) this.personDeleted.delete(id);
		// Writing the value a field already holds changes nothing on that side, so nothing is owed.
		if (canonicalOf(field, rawValue) === before) return;
		// An edit back to the last synced value undoes that side's change: the three-way compare sees none.
		if (syncedValue !== undefined && canonicalOf(field, rawValue) === canonicalOf(field, syncedValue)) {
			this.edits = this.edits.filter((e) => !(e.side === side && e.id === id && e.field.column === field.column));
			this.reverts.push({ side, id, field, seq: this.now() });
			return;
		}
		this.edits = this.edits.filter((e) => {
			if (e.id !== id || e.field.column !== field.column) return true;
			// A newer edit of the same field on the same side replaces the older one: only the last is owed.
			if (e.side === side) return false;
			// An older edit from the other side that already arrived here (also in ServiceTitan's form) is delivered.
			return before === undefined || !sameOrNormalized(this.def, field.column, e.value, before);
		});
		this.edits.push({ side, id, field, value: canonicalOf(field, rawValue), seq: this.now(), ...(before !== undefined ? { before } : {}) });
	}

	/**
	 * A ServiceTitan user's edit that one of our PATCHes then overwrote, carrying the field, before the run had read
	 * the item again: ServiceTitan's API has no conditional write, so between our read of an item and our PATCH of it
	 * no client can see or prevent this (DESIGN.md INV-1's window). The edit is no longer owed. Returns whether it was.
	 */
	overwrittenInSt(id: number, field: EditableField, rawValue: unknown): boolean {
		const value = canonicalOf(field, rawValue);
		const i = this.edits.findIndex((e) => e.side === 'st' && e.id === id && e.field.column === field.column && e.value === value);
		if (i >= 0) this.edits.splice(i, 1);
		return i >= 0;
	}

	/**
	 * A person changed the local row (a Retool edit of `columns`, a resolution, a retry of a held edit): its pending
	 * edit starts over (INV-18), those fields may differ from the base (INV-19), and its PATCHes may be sent again
	 * (INV-17). `at`: ServiceTitan's request log length now.
	 */
	localChange(id: number, columns: readonly string[], at: number, why: string): void {
		this.touched(id);
		for (const c of columns) this.localTouched.add(`${id}:${c}`);
		this.lastLocalChange.set(id, this.now());
		this.patches.reset(id, at, why);
	}

	/**
	 * A person saved the row during a run without changing a value. No edit (the capture trigger marks nothing), but
	 * it moves the row version: a push of the row under way cannot write its answer onto the row, so only the base
	 * moves and the next run decides the row again (INV-17 lets that run send the same values; INV-18 counts runs
	 * from here). Between runs such a save changes nothing for the engine, and counts for nothing.
	 */
	savedDuringRun(id: number, at: number): void {
		this.touched(id);
		this.lastLocalChange.set(id, this.now());
		this.patches.reset(id, at, 'a Retool save of the row during a push', true);
	}

	/** A successful run started at `startSeq`: it covered every row (full, incremental) or `entityId`. */
	runSucceeded(startSeq: number, entityId?: number): void {
		this.successfulRuns.push({ startSeq, ...(entityId !== undefined ? { entityId } : {}) });
	}

	/** Whether a run starting now must answer busy: a dead n8n execution's lease is still live. */
	leaseLive(now: number): boolean {
		return this.stagedLeaseUntil !== null && now < this.stagedLeaseUntil;
	}

	stDeleted(id: number): void {
		this.edits = this.edits.filter((e) => !(e.side === 'st' && e.id === id));
		this.stDeletes.set(id, { seq: this.now(), due: false });
		this.stChanged(id);
	}

	/**
	 * When ServiceTitan last changed each item (by a person there: an edit, a create or a delete), in the model's
	 * order of events. After its clock stepped back, such a change carries a stamp below the cursor until the next
	 * run reads it: the cursor invariant holds the cursor to changes made before the run that saved it.
	 */
	readonly stChangeSeq = new Map<number, number>();
	/** The start of the last successful listing run: the run that saved the cursor. */
	cursorRunStart = 0;

	stChanged(id: number): void {
		this.stChangeSeq.set(id, this.now());
		this.touched(id);
	}

	/** Someone other than the sync changed item `id` now, or may have (INV-24). */
	touched(id: number): void {
		this.lastTouch.set(id, this.now());
	}

	/**
	 * A listing run that started at `startSeq` succeeded: every ST change before it must have arrived, and every
	 * delete before it must be reflected (full runs sweep; incremental runs read deletes from the export feed).
	 */
	listingSucceeded(startSeq: number): void {
		for (const e of this.edits) if (e.side === 'st' && e.seq < startSeq) e.due = true;
		for (const d of this.stDeletes.values()) if (d.seq < startSeq) d.due = true;
		this.cursorRunStart = startSeq;
	}

	entitySucceeded(id: number, startSeq: number): void {
		for (const e of this.edits) if (e.side === 'st' && e.id === id && e.seq < startSeq) e.due = true;
		const d = this.stDeletes.get(id);
		if (d && d.seq < startSeq) d.due = true;
	}

	/** A person resolved the item's conflict: what that side held before is settled by their choice. */
	settled(id: number, sides: readonly Edit['side'][]): void {
		this.edits = this.edits.filter((e) => !(e.id === id && sides.includes(e.side)));
		if (sides.includes('st')) this.stDeletes.delete(id);
	}

	/** Every invariant of DESIGN.md that holds between any two steps; returns what is broken. */
	async check(world: ScenarioWorld): Promise<string[]> {
		this.checks += 1;
		const { def } = this;
		const db = world.lane.t.db;
		await this.followRekeys(world);
		const stRecords: StRecord[] = [];
		for await (const page of world.observer.iteratePages(def.type, { active: 'Any', pageSize: 5000 })) stRecords.push(...(page.data as StRecord[]));
		const st = new Map(stRecords.map((r) => [r.id, r]));
		const rows = await db.any<LocalRow>('SELECT * FROM $1:name', [def.table]);
		const local = new Map(rows.map((r) => [Number(r.id), r]));
		const conflicts = await db.any<OpenConflict>(
			"SELECT id, entity_id, kind, st_modified_on_raw, conflict_data FROM sync_conflicts WHERE status = 'open' AND entity_type = $1",
			[def.type],
		);
		const conflictOf = new Map(conflicts.map((c) => [Number(c.entity_id), c]));
		const problems: string[] = [];

		// No hard deletes: a row once seen never disappears.
		for (const id of this.knownLocalIds) if (!local.has(id)) problems.push(`row ${id} was hard-deleted`);
		for (const id of local.keys()) this.knownLocalIds.add(id);
		for (const id of this.personDeleteOnRow) {
			const row = local.get(id);
			if (!row?.deleted_at || row.deleted_in_st) this.personDeleteOnRow.delete(id);
		}

		// At most one open conflict per item.
		if (conflictOf.size !== conflicts.length) problems.push(`more than one open conflict for an item: ${conflicts.map((c) => c.entity_id).join(',')}`);

		// Nothing marked synced that differs from the ST version it says it is synced with.
		for (const row of rows) {
			const record = st.get(Number(row.id));
			if (row.sync_status !== 'synced' || row.deleted_at || !record || row.st_modified_on_raw !== String(record.modifiedOn)) continue;
			if (this.malformed.has(Number(row.id))) continue;
			if (!sameContent(def, canonicalFromRow(def, row), canonicalFromSt(def, record)))
				problems.push(`row ${row.id} is marked synced with ST's ${record.modifiedOn} but differs from it`);
		}

		// The cursor never passes a change, made before the run that saved it, that was not applied.
		const { cursor_raw: cursor } = await db.one<{ cursor_raw: string | null }>('SELECT cursor_raw FROM sync_state WHERE entity_type = $1', [def.type]);
		if (cursor) {
			for (const record of stRecords) {
				if (compareStTimestamps(String(record.modifiedOn), cursor) > 0) continue;
				if ((this.stChangeSeq.get(record.id) ?? 0) > this.cursorRunStart) continue;
				const row = local.get(record.id);
				const applied = row?.st_modified_on_raw && compareStTimestamps(row.st_modified_on_raw, String(record.modifiedOn)) >= 0;
				// A conflict holds ST's change when it recorded ST's current content (a newer modifiedOn alone moves nothing).
				const recorded = conflictOf.get(record.id)?.conflict_data.stVersion?.data;
				const inConflict = recorded && sameContent(def, canonicalFromSt(def, recorded), canonicalFromSt(def, record));
				const sameAsLocal = row && !row.deleted_at && sameContent(def, rowCanonical(def, row), canonicalFromSt(def, record));
				// ServiceTitan's content is the row's base: its newer modifiedOn is no change to apply (INV-10), e.g. an
				// item touched without a change while the row holds an edit ServiceTitan ignored or refused (such a row is
				// left as it is, its stamp too). A base that claims content the row never took is INV-19's to find.
				const unchanged = row && !row.deleted_at && row.sync_base && sameContent(def, rowCanonical(def, row.sync_base), canonicalFromSt(def, record));
				if (!applied && !inConflict && !sameAsLocal && !unchanged)
					problems.push(`cursor ${cursor} passed ST's change of ${record.id} at ${record.modifiedOn}, which is not applied`);
			}
		}

		// The lease is where the model says: held only by an n8n execution that died, until it expires.
		const lease = await db.one<{ lease_run_id: number | null; lease_mode: string | null; lease_expires_at: Date | null }>(
			'SELECT lease_run_id, lease_mode, lease_expires_at FROM sync_state WHERE entity_type = $1',
			[def.type],
		);
		if (this.stagedLeaseUntil !== null && (lease.lease_mode !== 'staged' || lease.lease_expires_at?.getTime() !== this.stagedLeaseUntil)) {
			problems.push(
				`the dead n8n execution's lease should last until ${new Date(this.stagedLeaseUntil).toISOString()}, but sync_state holds ${JSON.stringify(lease)}`,
			);
		} else if (this.stagedLeaseUntil === null && lease.lease_mode === 'staged') {
			problems.push(
				`n8n run ${lease.lease_run_id} holds the lease (until ${lease.lease_expires_at?.toISOString()}) though no n8n execution is running or died holding it`,
			);
		}

		// No edit lost: each is applied on both sides, still pending, or inside an open conflict.
		const delivered = new Set<Edit>();
		for (const e of this.edits) {
			const row = local.get(e.id);
			const record = st.get(e.id);
			const localValue = row ? rowCanonical(def, row)[e.field.column] : undefined;
			const stValue = record ? canonicalFromSt(def, record)[e.field.column] : undefined;
			const held = (v: CanonicalValue | undefined) => v !== undefined && v === e.value;
			const conflict = conflictOf.get(e.id);
			if (e.side === 'local') {
				// A row the sync soft-deleted (ServiceTitan lost the item) without a conflict lost the edit; a person's soft
				// delete is a deactivation pushed like any edit, and the row's other edits go with it.
				// Deleted on both sides (the person soft-deleted the row, ServiceTitan deleted the item): nothing is owed, and
				// the row keeps the person's values (a conflict between two deletes is settled, see settled conflicts).
				const deletedByBoth = row?.deleted_at && row.deleted_in_st && this.personDeleted.has(e.id) && held(localValue);
				if (deletedByBoth) {
					delivered.add(e);
				} else if (row?.deleted_at && row.deleted_in_st && !conflict) {
					problems.push(`local edit of ${e.id}.${e.field.column} lost: the row was soft-deleted without a conflict`);
				} else if ((held(localValue) && held(stValue)) || (localValue === stValue && sameOrNormalized(def, e.field.column, e.value, stValue))) {
					// Delivered: both sides hold it, or hold the form ServiceTitan stored it in (the row adopted it).
					delivered.add(e);
				} else if (held(localValue) && ['pending_push', 'conflict'].includes(row!.sync_status)) {
					// pending, or waiting for a person's decision
				} else if (conflict && conflict.conflict_data.localVersion.data[e.field.column] === e.value) {
					// inside the open conflict
				} else {
					problems.push(
						`local edit of ${e.id}.${e.field.column} = ${JSON.stringify(e.value)} lost (local ${JSON.stringify(localValue)}, status ${row?.sync_status}, ST ${JSON.stringify(stValue)})`,
					);
				}
				continue;
			}
			if (!record) continue; // deleted since: the delete is what is owed now
			if (!held(stValue)) {
				problems.push(
					`ST edit of ${e.id}.${e.field.column} = ${JSON.stringify(e.value)} was overwritten in ServiceTitan without a decision (now ${JSON.stringify(stValue)})`,
				);
			} else if (held(localValue)) {
				delivered.add(e);
			} else if (e.due && !held(localValue) && !conflict) {
				problems.push(
					`ST edit of ${e.id}.${e.field.column} = ${JSON.stringify(e.value)} not applied after a successful sync (local ${JSON.stringify(localValue)}, status ${row?.sync_status})`,
				);
			}
		}
		this.edits = this.edits.filter((e) => !delivered.has(e));

		for (const [id, d] of this.stDeletes) {
			const row = local.get(id);
			if (!row || row.deleted_at) {
				if (row?.deleted_at) this.stDeletes.delete(id);
				continue;
			}
			if (d.due && !conflictOf.has(id))
				problems.push(
					`ST deleted ${id} but a successful sync (full, or incremental: the export feed carries deletes) left it live locally without a conflict`,
				);
		}

		problems.push(...(await this.localRowsKept(world, rows, st)));
		problems.push(...this.patches.check(world.sim.control.requests));
		problems.push(...this.pendingSettled(rows, st, conflictOf));
		problems.push(...this.baseFollowsRow(rows, conflictOf));
		return problems;
	}

	/**
	 * INV-20, INV-21, INV-22 (its local half; ServiceTitan's is converge()'s), INV-23 and the malformed values a person
	 * wrote, after every step.
	 */
	private async localRowsKept(world: ScenarioWorld, rows: readonly LocalRow[], st: ReadonlyMap<number, StRecord>): Promise<string[]> {
		const problems: string[] = [];
		const local = new Map(rows.map((r) => [Number(r.id), r]));
		const log = world.sim.control.requests;
		for (const ins of this.inserts) {
			const row = local.get(ins.id);
			// INV-20: the row is there under its current id (temporary, or ServiceTitan's once written back), with its code.
			if (!row) {
				problems.push(`row inserted in Retool as ${ins.tempId} (code ${ins.code}) is gone: neither under ${ins.id} nor re-keyed`);
				continue;
			}
			if (row.code !== ins.code) problems.push(`row ${ins.id}, inserted in Retool with code ${ins.code}, now holds code ${JSON.stringify(row.code)}`);
			if (row.deleted_in_st && ins.stDeletes === 0)
				problems.push(`row ${ins.id}, inserted in Retool (code ${ins.code}), is marked deleted in ServiceTitan, which never deleted it`);
			// A ServiceTitan reactivation after the person's delete is their later word (see edit()), but the row stays
			// deleted until a run takes ServiceTitan's version of the item.
			const record = st.get(ins.id);
			const reactivationNotYetTaken = record?.active === true && row.st_modified_on_raw !== String(record.modifiedOn);
			if (row.deleted_at && !row.deleted_in_st && !this.personDeleted.has(ins.id) && !reactivationNotYetTaken)
				problems.push(`row ${ins.id}, inserted in Retool (code ${ins.code}), is soft-deleted though nobody deleted it`);
			if (ins.id > 0) {
				const record = st.get(ins.id);
				if (record && record.code !== ins.code)
					problems.push(
						`row ${ins.id}, inserted in Retool (code ${ins.code}), is keyed to ServiceTitan's item ${ins.id}, whose code is ${JSON.stringify(record.code)}`,
					);
			}
			// INV-21: one item per inserted code in ServiceTitan; one POST that created it (unless ServiceTitan deleted one).
			const items = [...st.values()].filter((r) => r.code === ins.code);
			if (items.length > 1)
				problems.push(`ServiceTitan holds ${items.length} items with the inserted code ${ins.code}: ${items.map((r) => r.id).join(', ')}`);
			const posts = log.filter(
				(e) =>
					e.method === 'POST' &&
					e.target === 'api' &&
					e.path.endsWith(`/${this.def.type}`) &&
					(e.status ?? 0) >= 200 &&
					(e.status ?? 0) < 300 &&
					(e.body as { code?: unknown } | undefined)?.code === ins.code,
			);
			if (posts.length > 1 + ins.stDeletes)
				problems.push(
					`${posts.length} POSTs created items with the inserted code ${ins.code} (requests ${posts.map((e) => e.seq).join(', ')}), ServiceTitan deleted ${ins.stDeletes}`,
				);
			// INV-23: its vendor prices are attached to its current id.
			for (const sku of ins.vendorSkus) {
				const vp = await world.lane.t.db.oneOrNone<{ material_id: string | null }>(
					`SELECT material_id FROM vendor_prices WHERE vendor = 'RetoolNew' AND vendor_sku = $1`,
					[sku],
				);
				if (!vp || Number(vp.material_id) !== ins.id)
					problems.push(
						`vendor price ${sku} of the row inserted as ${ins.tempId} (code ${ins.code}, now ${ins.id}) is attached to ${vp ? vp.material_id : 'nothing (gone)'}`,
					);
			}
		}
		// INV-22: a row a person soft-deleted stays deleted until a person or ServiceTitan reactivated it.
		for (const id of this.personDeleted.keys()) {
			const row = local.get(id);
			if (!row?.deleted_at)
				problems.push(`row ${id}, soft-deleted by a person, is live again though nobody reactivated it (active ${JSON.stringify(row?.active)})`);
		}
		// A malformed value a person wrote is neither overwritten nor pushed while it is there.
		for (const [id, bad] of this.malformed) {
			const row = local.get(id);
			if (JSON.stringify(row?.[bad.column]) !== bad.value)
				problems.push(
					`row ${id}'s malformed ${bad.column} ${bad.value}, written by a person, was overwritten with ${JSON.stringify(row?.[bad.column])}`,
				);
			const pushed = log.slice(bad.at).filter((e) => e.method === 'PATCH' && e.target === 'api' && e.path.endsWith(`/${this.def.type}/${id}`));
			if (pushed.length > 0)
				problems.push(`row ${id} holding a malformed ${bad.column} was pushed (request ${pushed[0].seq}: ${JSON.stringify(pushed[0].body)})`);
		}
		return problems;
	}

	/**
	 * INV-18: a pending row is settled or held within two runs. A live `pending_push` row not in conflict must,
	 * once two successful runs that cover it have started after its last local change, be synced, or hold its edit
	 * for a stated reason: push_refused holding exactly the values it still differs from its base in (ServiceTitan
	 * ignored or refused them), or a push_error without push_refused (ServiceTitan no longer has the item, the app may
	 * not write, an empty value ServiceTitan cannot take). Runs that count: full and incremental runs (an incremental
	 * run reads every pending row, listed or not) and entity runs of this item, that succeeded and started after the
	 * row's last Retool edit, resolution or retry (a run under way when the edit landed may have read the row before
	 * it). Two, not one: a run may meet the push at a moment it must leave it (its answer is what decides), and the
	 * promise to the person is "within two runs".
	 */
	private pendingSettled(rows: readonly LocalRow[], st: ReadonlyMap<number, StRecord>, conflictOf: ReadonlyMap<number, OpenConflict>): string[] {
		const { def } = this;
		const problems: string[] = [];
		for (const row of rows) {
			const id = Number(row.id);
			if (row.deleted_at || row.sync_status !== 'pending_push' || row.has_conflict || conflictOf.has(id)) continue;
			if (this.malformed.has(id)) continue; // INV-22's: held by the person's malformed value, checked there
			const since = this.lastLocalChange.get(id) ?? 0;
			const runs = this.successfulRuns.filter((r) => r.startSeq > since && (r.entityId === undefined || r.entityId === id)).length;
			if (runs < 2) continue;
			// A row waiting to be created (temporary id): created within two runs, or held with the reason (INV-20).
			if (id < 0) {
				if (row.push_error) continue;
				problems.push(
					`row ${id}, inserted in Retool, is still waiting to be created after ${runs} successful runs since its last local change, without a reason in push_error`,
				);
				continue;
			}
			const record = st.get(id);
			const local = canonicalFromRow(def, row);
			const refused = row.push_refused;
			// What the row still owes ServiceTitan is what it differs in from its base (ServiceTitan's version at the
			// last sync, which a held push moves to what ServiceTitan kept): a ServiceTitan edit since is the next run's.
			const against = row.sync_base ? canonicalFromRow(def, row.sync_base) : record ? canonicalFromSt(def, record) : null;
			if (refused && against) {
				const owed = differingFields(def, local, against);
				const notHeld = owed.filter((f) => !(f in refused) || differingFields(def, { [f]: local[f] }, { [f]: refused[f] }).length > 0);
				if (notHeld.length === 0) continue;
				problems.push(
					`row ${id} is pending_push after ${runs} successful runs since its last local change, and ${notHeld.join(', ')} differ from its base without being held as refused (push_refused ${JSON.stringify(refused)})`,
				);
				continue;
			}
			if (!refused && row.push_error) continue;
			problems.push(
				`row ${id} is still pending_push after ${runs} successful runs since its last local change: not synced, not in conflict, not held (push_error ${JSON.stringify(row.push_error)})`,
			);
		}
		return problems;
	}

	/**
	 * INV-19: the base moves only together with the local row. For a live row with a base and not in conflict, each
	 * synced field nobody changed locally since its base and row last agreed holds the same canonical value in
	 * sync_base and in the row: a base claiming a ServiceTitan value the row does not hold makes the next run read
	 * a difference nobody made (a phantom local edit pushed over ServiceTitan, or a ServiceTitan edit taken for ours).
	 */
	private baseFollowsRow(rows: readonly LocalRow[], conflictOf: ReadonlyMap<number, OpenConflict>): string[] {
		const { def } = this;
		const problems: string[] = [];
		for (const row of rows) {
			const id = Number(row.id);
			if (row.deleted_at || !row.sync_base || row.has_conflict || conflictOf.has(id) || this.malformed.has(id)) continue;
			const local: CanonicalRecord = canonicalFromRow(def, row);
			const base: CanonicalRecord = canonicalFromRow(def, row.sync_base);
			const differ = new Set(differingFields(def, local, base));
			for (const { column } of def.fields) {
				const key = `${id}:${column}`;
				if (!differ.has(column)) this.localTouched.delete(key);
				else if (!this.localTouched.has(key))
					problems.push(
						`row ${id}: ${column} is ${JSON.stringify(local[column])} but its base says ${JSON.stringify(base[column])}, and nobody edited it locally (status ${row.sync_status})`,
					);
			}
		}
		return problems;
	}
}

/**
 * vendor_prices as a string to compare; the sync must never change it, except that a created material's vendor
 * prices follow it to ServiceTitan's id (INV-23): material ids are read through `rekeyed` (temporary → final).
 */
export async function vendorPricesSnapshot(world: ScenarioWorld, rekeyed?: ReadonlyMap<number, number>): Promise<string> {
	return vendorPricesText(await vendorPriceRows(world), rekeyed);
}

export function vendorPriceRows(world: ScenarioWorld): Promise<Record<string, unknown>[]> {
	return world.lane.t.db.any('SELECT id, material_id, vendor, vendor_sku, price::text, updated_at FROM vendor_prices ORDER BY id');
}

export function vendorPricesText(rows: readonly Record<string, unknown>[], rekeyed?: ReadonlyMap<number, number>): string {
	return JSON.stringify(
		rows.map((r) =>
			r.material_id !== null && rekeyed?.has(Number(r.material_id))
				? { ...r, material_id: typeof r.material_id === 'string' ? String(rekeyed.get(Number(r.material_id))) : rekeyed.get(Number(r.material_id)) }
				: r,
		),
	);
}
