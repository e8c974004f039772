import { canonicalFromRow, canonicalFromSt, sameContent } from '../../../lib/entities/canonical';
import { canonicalDecimal } from '../../../lib/entities/decimal';
import type { CanonicalValue, EntityDefinition } from '../../../lib/entities/types';
import { compareStTimestamps } from '../../../lib/servicetitan/timestamps';
import type { StRecord } from '../../../lib/servicetitan/types';
import type { ScenarioWorld } from './world';

/** A field the scenarios edit on either side: its local column, its ServiceTitan name and the values drawn. */
export interface EditableField {
	column: string;
	st: string;
	kind: 'text' | 'decimal' | 'boolean';
	values: readonly (string | number | boolean)[];
}

// Few values per field, so both sides often pick the same one (equal edits must not conflict) and often not.
const TEXTS = ['Pump seal kit', `O'Brien's "quoted" part`, `'; DROP TABLE pricebook_materials; --`, '🐟 Perfect Catch — ñandú ✓', 'Line one\nline two\ttabbed'];
const MONEY = [0, 9.99, 12.5, 100, 1234.5678];

export const EDITABLE: Record<'materials' | 'services', readonly EditableField[]> = {
	materials: [
		{ column: 'description', st: 'description', kind: 'text', values: TEXTS },
		{ column: 'price', st: 'price', kind: 'decimal', values: MONEY },
		{ column: 'member_price', st: 'memberPrice', kind: 'decimal', values: MONEY },
		{ column: 'cost', st: 'cost', kind: 'decimal', values: MONEY },
		{ column: 'active', st: 'active', kind: 'boolean', values: [true, false] },
	],
	services: [
		{ column: 'description', st: 'description', kind: 'text', values: TEXTS },
		{ column: 'price', st: 'price', kind: 'decimal', values: MONEY },
		{ column: 'member_price', st: 'memberPrice', kind: 'decimal', values: MONEY },
		{ column: 'hours', st: 'hours', kind: 'decimal', values: [0, 0.5, 1, 2.25] },
		{ column: 'active', st: 'active', kind: 'boolean', values: [true, false] },
	],
};

export function canonicalOf(field: EditableField, value: unknown): CanonicalValue {
	return field.kind === 'decimal' ? canonicalDecimal(value) : (value as CanonicalValue);
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
}

interface LocalRow extends Record<string, unknown> {
	id: number;
	sync_status: string;
	deleted_at: Date | null;
	deleted_in_st: boolean;
	st_modified_on_raw: string | null;
}

interface OpenConflict {
	id: number;
	entity_id: number;
	kind: string;
	st_modified_on_raw: string | null;
	conflict_data: { localVersion: { data: Record<string, CanonicalValue> }; stVersion?: { data: Record<string, unknown> | null } };
}

/**
 * The reference model: which edits happened where and in which order, which of them the sync still owes, and
 * which a person settled by resolving a conflict. The database and the simulator are the state; this is what
 * they must be consistent with.
 */
export class Reference {
	private seq = 0;
	edits: Edit[] = [];
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

	constructor(
		readonly def: EntityDefinition,
		readonly fields: readonly EditableField[],
	) {}

	now(): number {
		return ++this.seq;
	}

	/**
	 * An edit on one side. `otherSideNow` is the field's value on the edited side just before the edit: an older
	 * edit from the other side that already arrived there is delivered, and this newer edit is what is owed now.
	 */
	edit(side: Edit['side'], id: number, field: EditableField, rawValue: unknown, valueBefore: unknown, syncedValue?: unknown): void {
		const before = valueBefore === undefined ? undefined : canonicalOf(field, valueBefore);
		// Writing the value a field already holds changes nothing on that side, so nothing is owed.
		if (canonicalOf(field, rawValue) === before) return;
		// An edit back to the last synced value undoes that side's change: the three-way compare sees none.
		if (syncedValue !== undefined && canonicalOf(field, rawValue) === canonicalOf(field, syncedValue)) {
			this.edits = this.edits.filter((e) => !(e.side === side && e.id === id && e.field.column === field.column));
			return;
		}
		this.edits = this.edits.filter((e) => {
			if (e.id !== id || e.field.column !== field.column) return true;
			// A newer edit of the same field on the same side replaces the older one: only the last is owed.
			if (e.side === side) return false;
			return e.value !== before;
		});
		this.edits.push({ side, id, field, value: canonicalOf(field, rawValue), seq: this.now() });
	}

	/** Whether a run starting now must answer busy: a dead n8n execution's lease is still live. */
	leaseLive(now: number): boolean {
		return this.stagedLeaseUntil !== null && now < this.stagedLeaseUntil;
	}

	stDeleted(id: number): void {
		this.edits = this.edits.filter((e) => !(e.side === 'st' && e.id === id));
		this.stDeletes.set(id, { seq: this.now(), due: false });
	}

	/** A listing run that started at `startSeq` succeeded: every ST change before it must have arrived. */
	listingSucceeded(startSeq: number, full: boolean): void {
		for (const e of this.edits) if (e.side === 'st' && e.seq < startSeq) e.due = true;
		if (full) for (const d of this.stDeletes.values()) if (d.seq < startSeq) d.due = true;
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

		// At most one open conflict per item.
		if (conflictOf.size !== conflicts.length) problems.push(`more than one open conflict for an item: ${conflicts.map((c) => c.entity_id).join(',')}`);

		// Nothing marked synced that differs from the ST version it says it is synced with.
		for (const row of rows) {
			const record = st.get(Number(row.id));
			if (row.sync_status !== 'synced' || row.deleted_at || !record || row.st_modified_on_raw !== String(record.modifiedOn)) continue;
			if (!sameContent(def, canonicalFromRow(def, row), canonicalFromSt(def, record)))
				problems.push(`row ${row.id} is marked synced with ST's ${record.modifiedOn} but differs from it`);
		}

		// The cursor never passes a change that was not applied.
		const { cursor_raw: cursor } = await db.one<{ cursor_raw: string | null }>('SELECT cursor_raw FROM sync_state WHERE entity_type = $1', [def.type]);
		if (cursor) {
			for (const record of stRecords) {
				if (compareStTimestamps(String(record.modifiedOn), cursor) > 0) continue;
				const row = local.get(record.id);
				const applied = row?.st_modified_on_raw && compareStTimestamps(row.st_modified_on_raw, String(record.modifiedOn)) >= 0;
				// A conflict holds ST's change when it recorded ST's current content (a newer modifiedOn alone moves nothing).
				const recorded = conflictOf.get(record.id)?.conflict_data.stVersion?.data;
				const inConflict = recorded && sameContent(def, canonicalFromSt(def, recorded), canonicalFromSt(def, record));
				const sameAsLocal = row && !row.deleted_at && sameContent(def, canonicalFromRow(def, row), canonicalFromSt(def, record));
				if (!applied && !inConflict && !sameAsLocal)
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
			const localValue = row ? canonicalFromRow(def, row)[e.field.column] : undefined;
			const stValue = record ? canonicalFromSt(def, record)[e.field.column] : undefined;
			const held = (v: CanonicalValue | undefined) => v !== undefined && v === e.value;
			const conflict = conflictOf.get(e.id);
			if (e.side === 'local') {
				if (row?.deleted_at && !conflict) {
					problems.push(`local edit of ${e.id}.${e.field.column} lost: the row was soft-deleted without a conflict`);
				} else if (held(localValue) && held(stValue)) {
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
			if (d.due && !conflictOf.has(id)) problems.push(`ST deleted ${id} but a successful full sync left it live locally without a conflict`);
		}
		return problems;
	}
}

/** vendor_prices as a string to compare; the sync must never change it. */
export async function vendorPricesSnapshot(world: ScenarioWorld): Promise<string> {
	const rows = await world.lane.t.db.any('SELECT id, material_id, vendor, vendor_sku, price::text, updated_at FROM vendor_prices ORDER BY id');
	return JSON.stringify(rows);
}
