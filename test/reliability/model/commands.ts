import fc from 'fast-check';
import { canonicalFromRow, canonicalFromSt, differingFields } from '../../../lib/entities/canonical';
import { isNormalizedForm } from '../../../lib/entities/equivalence';
import type { CanonicalValue } from '../../../lib/entities/types';
import { resolveConflict, RESOLUTIONS, type Resolution } from '../../../lib/sync/resolve';
import { SyncStateError, SyncValidationError } from '../../../lib/sync/errors';
import type { RunResult, SyncKind } from '../../../lib/sync/run-types';
import type { SimEntity } from '../../../sim/data';
import type { SimFaults, SimPatchBehaviour, SimQuirks } from '../../../sim/types';
import { retoolUpdate } from '../../support/sync-harness';
import {
	canonicalOf,
	rowCanonical,
	sameOrNormalized,
	sidesNow,
	vendorPriceRows,
	vendorPricesSnapshot,
	vendorPricesText,
	type EditableField,
	type Reference,
} from './reference';
import { sendsOf } from './patches';
import type { Figures } from './figures';
import { DRIVERS, runWithDriver, STAGED_STEPS, type Driver, type StepRerun } from './drivers';
import { InvariantViolation } from './invariant';
import { N8N_LEASE_TTL_MS, type PatchCall, type RunInterference, type ScenarioWorld } from './world';

export { InvariantViolation };

/** The real side of a scenario: the world, plus the figures it adds to. */
export interface Real {
	world: ScenarioWorld;
	figures: Figures;
	/**
	 * What this tenant's ServiceTitan does with every PATCH (normalizing, ignoring some fields), drawn per scenario:
	 * every run and resolution meets it, unless its own plan says otherwise; converge() turns it off.
	 */
	tenant?: TenantPatch;
}

/** A tenant's standing PATCH behaviour (see Real.tenant). */
export type TenantPatch = Pick<PatchPlan, 'normalize' | 'ignore'>;

type Cmd = fc.AsyncCommand<Reference, Real>;

export async function expectInvariants(m: Reference, r: Real, after: string): Promise<void> {
	const problems = await m.check(r.world);
	r.figures.invariantChecks += 1;
	const kind = after.split('(')[0].trim();
	r.figures.steps[kind] = (r.figures.steps[kind] ?? 0) + 1;
	if (problems.length > 0) throw new InvariantViolation(`after ${after}:\n  ${problems.join('\n  ')}`);
}

const at = <T>(list: readonly T[], pick: number): T | undefined => (list.length === 0 ? undefined : list[pick % list.length]);

function stIds(r: Real, m: Reference): number[] {
	return r.world.sim.control.listIds(m.def.type, { includeInactive: true });
}

async function liveLocalIds(r: Real, m: Reference): Promise<number[]> {
	const rows = await r.world.lane.t.db.any<{ id: number }>('SELECT id FROM $1:name WHERE deleted_at IS NULL ORDER BY id', [m.def.table]);
	return rows.map((x) => Number(x.id));
}

/** A Retool-style edit: a plain UPDATE, recorded in the model with the value it replaced. */
async function localEdit(m: Reference, r: Real, pick: number, field: EditableField, value: unknown, duringRun = false): Promise<string> {
	const id = at(await liveLocalIds(r, m), pick);
	if (id === undefined) return 'no local row yet';
	await localEditOf(m, r, id, field, value, duringRun);
	return `${id}.${field.column}`;
}

/** A Retool edit of row `id` (which exists); `duringRun`: made while a run is under way. */
export async function localEditOf(m: Reference, r: Real, id: number, field: EditableField, value: unknown, duringRun: boolean): Promise<void> {
	const row = await r.world.lane.t.db.one('SELECT * FROM $1:name WHERE id = $2', [m.def.table, id]);
	const synced = row.sync_base ? canonicalFromRow(m.def, row.sync_base)[field.column] : undefined;
	const before = rowCanonical(m.def, row)[field.column];
	m.edit('local', id, field, value, before, synced);
	// The capture trigger marks only an UPDATE that changes a synced column: writing the value the row holds is no
	// edit. During a run such a save still matters to a push under way (it moves the row version).
	if (canonicalOf(field, value) !== before) m.localChange(id, [field.column], r.world.sim.control.requests.length, 'a Retool edit');
	else if (duringRun) m.savedDuringRun(id, r.world.sim.control.requests.length);
	await retoolUpdate(r.world.lane.t, m.def.table, id, { [field.column]: value });
	m.editedSinceRun.add(id);
	r.figures.localEdits += 1;
}

/** A ServiceTitan user sets `field` of item `id` now, recorded in the model. */
async function stEditNow(m: Reference, r: Real, id: number, field: EditableField, value: unknown, duringRun = false): Promise<void> {
	// ServiceTitan's clock moves on between a run and a person's edit there (during a run it stands: every step of
	// a run sees one clock, so a step run again renews its lease to the same moment).
	if (!duringRun) r.world.sim.control.advanceClock(1000);
	const current = r.world.sim.control.getItem(m.def.type, id)!;
	const row = await r.world.lane.t.db.oneOrNone('SELECT sync_base FROM $1:name WHERE id = $2', [m.def.table, id]);
	const synced = row?.sync_base ? canonicalFromRow(m.def, row.sync_base)[field.column] : undefined;
	m.edit('st', id, field, value, current[field.st], synced);
	if (canonicalOf(field, value) !== canonicalOf(field, current[field.st]))
		m.patches.reset(id, r.world.sim.control.requests.length, 'an edit in ServiceTitan');
	r.world.sim.control.updateItem(m.def.type, id, { [field.st]: value });
}

/**
 * A person's edit in ServiceTitan. `clockAhead`: ServiceTitan's clock jumps that far ahead just for this edit and
 * steps back after it, so the item carries a stamp from its future (the cursor must not be pinned there).
 */
class StEdit implements Cmd {
	constructor(
		readonly pick: number,
		readonly field: EditableField,
		readonly value: unknown,
		readonly clockAhead = 0,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const id = at(stIds(r, m), this.pick);
		if (id === undefined) return;
		if (this.clockAhead > 0) r.world.stepStClock(this.clockAhead);
		try {
			await this.edit(m, r, id);
		} finally {
			if (this.clockAhead > 0) r.world.stepStClock(-this.clockAhead);
		}
		r.figures.stEdits += 1;
		if (this.clockAhead > 0) r.figures.clockSteps += 1;
		await expectInvariants(m, r, this.toString());
	}

	private edit(m: Reference, r: Real, id: number): Promise<void> {
		return stEditNow(m, r, id, this.field, this.value);
	}
	toString = () =>
		`StEdit(#${this.pick}, ${this.field.column} = ${JSON.stringify(this.value)}${this.clockAhead ? `, stamped ${this.clockAhead / 3600_000} h in ServiceTitan's future` : ''})`;
}

/** ServiceTitan's clock steps back (a correction): its later edits carry stamps before the cursor. */
class StClockStepBack implements Cmd {
	constructor(readonly ms: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		r.world.stepStClock(-this.ms);
		r.figures.clockSteps += 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `StClockStepsBack(${this.ms / 60_000} min)`;
}

class StDelete implements Cmd {
	constructor(readonly pick: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const id = at(stIds(r, m), this.pick);
		if (id === undefined) return;
		r.world.sim.control.advanceClock(1000);
		const code = r.world.sim.control.getItem(m.def.type, id)?.code;
		for (const ins of m.inserts) if (ins.code === code) ins.stDeletes += 1;
		m.stDeleted(id);
		m.patches.reset(id, r.world.sim.control.requests.length, 'a delete in ServiceTitan');
		r.world.sim.control.deleteItem(m.def.type, id);
		r.figures.stDeletes += 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `StDelete(#${this.pick})`;
}

class StCreate implements Cmd {
	constructor(readonly n: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		r.world.sim.control.advanceClock(1000);
		const created = r.world.sim.control.createItem(m.def.type, {
			code: `NEW-${this.n}-${r.world.sim.control.now()}`,
			description: `Re-created item ${this.n}`,
			price: 10 + this.n,
		});
		m.stChanged(created.id);
		r.figures.stCreates += 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `StCreate(${this.n})`;
}

class LocalEdit implements Cmd {
	constructor(
		readonly pick: number,
		readonly field: EditableField,
		readonly value: unknown,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		await localEdit(m, r, this.pick, this.field, this.value);
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `RetoolEdit(#${this.pick}, ${this.field.column} = ${JSON.stringify(this.value)})`;
}

class VendorPriceEdit implements Cmd {
	constructor(
		readonly pick: number,
		readonly price: number,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const db = r.world.lane.t.db;
		// Vendor prices hang off materials; in a services scenario they stand alone (material_id NULL).
		const materialId = m.def.type === 'materials' ? (at(await liveLocalIds(r, m), this.pick) ?? null) : null;
		await db.none(
			`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'Pool360', $2, $3)
			 ON CONFLICT (vendor, vendor_sku) DO UPDATE SET price = EXCLUDED.price, material_id = EXCLUDED.material_id, updated_at = now()`,
			[materialId, `P360-${this.pick % 4}`, this.price],
		);
		m.vendorPrices = await vendorPricesSnapshot(r.world);
		r.figures.vendorEdits += 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `VendorPriceEdit(#${this.pick}, ${this.price})`;
}

/** How the entity run right after a Retool insert (Retool's after-save call) goes. */
export interface AfterSave {
	faults: FaultPlan;
	crash?: { atCall: number; afterCall: boolean };
	/** ServiceTitan carries out the POST but its answer arrives garbled (lost). */
	lostCreate: boolean;
}

/**
 * A person inserts a row in Retool (no id: it takes a temporary negative one): with code and description, or
 * without a description (ServiceTitan requires one: the sync holds the row with the reason); sometimes with a
 * vendor price attached to the temporary id (materials); sometimes followed at once by the entity run for the
 * temporary id (Retool's after-save call), with faults, a crash around the POST, or its answer lost.
 */
class RetoolInsert implements Cmd {
	constructor(
		readonly description: string | null,
		readonly price: number,
		readonly displayName: string | null,
		readonly vendorPrice: number | null,
		readonly afterSave: AfterSave | null,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const db = r.world.lane.t.db;
		const code = `RT-${m.inserts.length + 1}`;
		const values: Record<string, unknown> = { code, price: this.price };
		if (this.description !== null) values.description = this.description;
		if (this.displayName !== null) values.display_name = this.displayName;
		const { id: raw } = await db.one<{ id: string }>('INSERT INTO $1:name ($2:name) VALUES ($3:csv) RETURNING id', [
			m.def.table,
			Object.keys(values),
			Object.values(values),
		]);
		const id = Number(raw);
		if (id >= 0) throw new InvariantViolation(`after ${this.toString()}: the inserted row got id ${id}, not a temporary negative one`);
		m.inserts.push({ code, tempId: id, id, vendorSkus: [], stDeletes: 0 });
		// Its values are the person's edits, owed to ServiceTitan (INV-1 follows them to ServiceTitan's id).
		for (const field of m.fields) if (values[field.column] !== undefined) m.edit('local', id, field, values[field.column], undefined, undefined);
		m.localChange(
			id,
			m.def.fields.map((f) => f.column),
			r.world.sim.control.requests.length,
			'a Retool insert',
		);
		const kind = this.description === null ? 'insert without description (held)' : 'insert';
		r.figures.retool[kind] = (r.figures.retool[kind] ?? 0) + 1;
		if (this.vendorPrice !== null && m.def.type === 'materials') {
			const sku = `NEW-${code}`;
			await db.none(`INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'RetoolNew', $2, $3)`, [id, sku, this.vendorPrice]);
			m.inserts[m.inserts.length - 1].vendorSkus.push(sku);
			m.vendorPrices = await vendorPricesSnapshot(r.world);
			r.figures.retool['vendor price on an inserted row'] = (r.figures.retool['vendor price on an inserted row'] ?? 0) + 1;
		}
		await expectInvariants(m, r, this.toString());
		if (this.afterSave) {
			const a = this.afterSave;
			r.figures.retool['entity run right after the insert'] = (r.figures.retool['entity run right after the insert'] ?? 0) + 1;
			await runSyncStep(
				m,
				r,
				{
					kind: 'entity',
					driver: 'library',
					pick: 0,
					entityId: id,
					faults: a.faults,
					lostCreate: a.lostCreate,
					...(a.crash ? { crash: a.crash } : {}),
				},
				`Sync(library, entity ${id} after save, faults ${JSON.stringify(a.faults)}${a.crash ? `, crash ${a.crash.afterCall ? 'after' : 'before'} ST call ${a.crash.atCall}` : ''}${a.lostCreate ? ', POST answer lost' : ''})`,
			);
		}
	}
	toString = () =>
		`RetoolInsert(description ${JSON.stringify(this.description)}, price ${this.price}${this.displayName !== null ? `, display_name ${JSON.stringify(this.displayName)}` : ''}${this.vendorPrice !== null ? `, vendor price ${this.vendorPrice}` : ''}${this.afterSave ? ', then the entity run' : ''})`;
}

/** A person soft-deletes a live row ServiceTitan has (deleted_at = now()): a deactivation the sync pushes (INV-22). */
class SoftDelete implements Cmd {
	constructor(readonly pick: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const ids = (await liveLocalIds(r, m)).filter((id) => id > 0 && !m.malformed.has(id));
		const id = at(ids, this.pick);
		if (id === undefined) return;
		const db = r.world.lane.t.db;
		const row = await db.one('SELECT * FROM $1:name WHERE id = $2', [m.def.table, id]);
		const active = m.fields.find((f) => f.column === 'active')!;
		const synced = row.sync_base ? canonicalFromRow(m.def, row.sync_base).active : undefined;
		const before = rowCanonical(m.def, row).active;
		m.edit('local', id, active, false, before, synced);
		if (before !== false) m.localChange(id, ['active'], r.world.sim.control.requests.length, 'a soft delete in Retool');
		await db.none('UPDATE $1:name SET deleted_at = now() WHERE id = $2', [m.def.table, id]);
		m.personDeleted.set(id, m.now());
		m.personDeleteOnRow.add(id);
		m.editedSinceRun.add(id);
		r.figures.retool['soft delete'] = (r.figures.retool['soft delete'] ?? 0) + 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `RetoolSoftDelete(#${this.pick})`;
}

/**
 * A person clears deleted_at of a soft-deleted row: a reactivation the sync pushes. A row the sync deleted because
 * ServiceTitan deleted the item cannot be restored so: the database refuses, and nothing changes.
 */
class Reactivate implements Cmd {
	constructor(readonly pick: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const db = r.world.lane.t.db;
		const deleted = await db.any('SELECT * FROM $1:name WHERE deleted_at IS NOT NULL ORDER BY id', [m.def.table]);
		const row = at(deleted, this.pick);
		if (!row) return;
		const id = Number(row.id);
		if (row.deleted_in_st) {
			const before = await db.one('SELECT to_jsonb(t) AS row FROM $1:name t WHERE id = $2', [m.def.table, id]);
			const refused = await db.none('UPDATE $1:name SET deleted_at = NULL WHERE id = $2', [m.def.table, id]).then(
				() => false,
				() => true,
			);
			const after = await db.one('SELECT to_jsonb(t) AS row FROM $1:name t WHERE id = $2', [m.def.table, id]);
			if (!refused || JSON.stringify(before) !== JSON.stringify(after))
				throw new InvariantViolation(
					`after ${this.toString()}: clearing deleted_at of ${id}, deleted in ServiceTitan, was not refused with the row unchanged`,
				);
			r.figures.retool['reactivation of a row deleted in ServiceTitan (refused)'] =
				(r.figures.retool['reactivation of a row deleted in ServiceTitan (refused)'] ?? 0) + 1;
		} else {
			const active = m.fields.find((f) => f.column === 'active')!;
			const synced = row.sync_base ? canonicalFromRow(m.def, row.sync_base).active : undefined;
			const before = rowCanonical(m.def, row).active;
			m.edit('local', id, active, true, before, synced);
			if (before !== true) m.localChange(id, ['active'], r.world.sim.control.requests.length, 'a reactivation in Retool');
			await db.none('UPDATE $1:name SET deleted_at = NULL WHERE id = $2', [m.def.table, id]);
			m.personDeleted.delete(id);
			m.personDeleteOnRow.delete(id);
			m.editedSinceRun.add(id);
			r.figures.retool.reactivation = (r.figures.retool.reactivation ?? 0) + 1;
		}
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `RetoolReactivate(#${this.pick})`;
}

/** Malformed JSON a person may write in Retool: categories as a JSON string, or a list holding text. */
const MALFORMED_CATEGORIES = ['"[1, 2]"', '[1, "two"]'] as const;

/**
 * A person writes a malformed categories value. The database may refuse it (a CHECK constraint: then nothing
 * changed) or accept it: then every run goes on for the other items, and the row is neither pushed nor overwritten
 * while it holds the value (the model's `malformed`); converge() has the person put the old value back.
 */
class MalformedWrite implements Cmd {
	constructor(
		readonly pick: number,
		readonly value: (typeof MALFORMED_CATEGORIES)[number],
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const db = r.world.lane.t.db;
		const id = at(
			(await liveLocalIds(r, m)).filter((x) => !m.malformed.has(x)),
			this.pick,
		);
		if (id === undefined) return;
		const before = await db.one('SELECT to_jsonb(t) AS row FROM $1:name t WHERE id = $2', [m.def.table, id]);
		const refused = await db.none('UPDATE $1:name SET categories = $2::jsonb WHERE id = $3', [m.def.table, this.value, id]).then(
			() => false,
			() => true,
		);
		if (refused) {
			const after = await db.one('SELECT to_jsonb(t) AS row FROM $1:name t WHERE id = $2', [m.def.table, id]);
			if (JSON.stringify(before) !== JSON.stringify(after)) throw new InvariantViolation(`after ${this.toString()}: the refused write changed row ${id}`);
			r.figures.retool['malformed value refused by the database'] = (r.figures.retool['malformed value refused by the database'] ?? 0) + 1;
		} else {
			const row = await db.one('SELECT categories FROM $1:name WHERE id = $2', [m.def.table, id]);
			m.malformed.set(id, {
				column: 'categories',
				value: JSON.stringify(row.categories),
				at: r.world.sim.control.requests.length,
				restore: before.row.categories,
			});
			m.editedSinceRun.add(id);
			r.figures.retool['malformed value accepted'] = (r.figures.retool['malformed value accepted'] ?? 0) + 1;
		}
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `RetoolMalformed(#${this.pick}, categories = ${this.value})`;
}

export type FaultPlan =
	| { kind: 'none' }
	| { kind: 'status5xx'; status: 500 | 502 | 503; rate: number; seed: number }
	| { kind: 'rate429'; retryAfter: SimQuirks['retryAfter']; times: number }
	| { kind: 'timeout'; times: number }
	| { kind: 'reset'; times: number }
	| { kind: 'malformed'; rate: number; seed: number }
	| { kind: 'failListingPage'; page: number }
	| { kind: 'revokedToken' };

export function applyFaults(r: Real, entity: SimEntity, plan: FaultPlan): void {
	const control = r.world.sim.control;
	const faults: SimFaults = {};
	switch (plan.kind) {
		case 'none':
			break;
		case 'status5xx':
			Object.assign(faults, { seed: plan.seed, errorRate: plan.rate, errorStatus: plan.status });
			break;
		case 'rate429':
			control.setQuirks({ retryAfter: plan.retryAfter });
			faults.next = [{ action: { kind: 'status', status: 429 }, times: plan.times }];
			break;
		case 'timeout':
			faults.next = [{ action: { kind: 'timeout' }, times: plan.times }];
			break;
		case 'reset':
			faults.next = [{ action: { kind: 'reset' }, times: plan.times }];
			break;
		case 'malformed':
			Object.assign(faults, { seed: plan.seed, malformedRate: plan.rate });
			break;
		case 'failListingPage':
			faults.failListingPage = { entity, page: plan.page };
			break;
		case 'revokedToken':
			control.revokeTokens();
			break;
	}
	control.setFaults(faults);
}

export function clearFaults(r: Real): void {
	r.world.sim.control.clearFaults();
	r.world.sim.control.setQuirks({ retryAfter: 'seconds', order: 'id', patch: {} });
}

/**
 * What ServiceTitan does with a run's PATCHes (the simulator's quirks.patch, see sim/types.ts SimPatchBehaviour),
 * and what happens around one of them. Reported of live tenants: it stores an equivalent form, answers 200 but
 * keeps its own value for a field, refuses a field with a 400, answers so late the client gives up (the change is
 * stored all the same), or another ServiceTitan user edits the item while our PATCH is under way.
 */
export interface PatchPlan {
	normalize?: { roundMoney: boolean; trimText: boolean; stripHtml?: 'normalize' | 'strip'; emptyAsNull: boolean };
	/** Answered 200 but not stored; the answer shows the values sent (`echo`) or the ones kept. */
	ignore?: { fields: EditableField[]; echo: boolean };
	/** Answered 400 naming the fields; nothing stored. */
	refuse?: { fields: EditableField[] };
	/** Answers this late, ms: 60 arrives, 400 is past the client's 250 ms timeout (the PATCH is applied anyway). */
	delayMs?: 60 | 400;
	/**
	 * Another ServiceTitan user's edit lands on the item of the run's `nth` PATCH, during it, before ours is applied
	 * (the simulator's concurrentEdit). It changes a field the PATCH does not carry (the drawn one, or the first
	 * editable field the PATCH leaves out): one the PATCH carries ServiceTitan would overwrite with ours at once, a
	 * last-writer-wins inside ServiceTitan that no client of its API can see or prevent.
	 */
	concurrentEdit?: { nth: number; field: EditableField; value: unknown };
	/** A Retool edit of the item of the run's `nth` PATCH: once the push is decided and recorded, before it is sent, or once ServiceTitan answered, before the engine reads the item back. */
	retoolEdit?: { nth: number; when: 'before' | 'after'; field: EditableField; value: unknown };
}

/** The simulator switches of a plan (the edits around a PATCH are made by the run's hooks). */
export function patchQuirks(m: Reference, plan: PatchPlan): SimPatchBehaviour {
	const b: SimPatchBehaviour = {};
	const entities = [m.def.type];
	if (plan.normalize?.roundMoney) b.roundMoney = { entities };
	if (plan.normalize?.trimText) b.trimText = { entities };
	if (plan.normalize?.stripHtml) b.stripHtml = { entities, mode: plan.normalize.stripHtml };
	if (plan.normalize?.emptyAsNull) b.emptyAsNull = { entities };
	if (plan.ignore) b.ignoreFields = { fields: plan.ignore.fields.map((f) => f.st), entities, echo: plan.ignore.echo };
	if (plan.refuse) b.refuseFields = { fields: plan.refuse.fields.map((f) => f.st), entities };
	if (plan.delayMs) b.delayMs = plan.delayMs;
	return b;
}

/** The plan's behaviours by name, for the figures. */
function patchPlanNames(plan: PatchPlan): string[] {
	const names: string[] = [];
	if (plan.normalize?.roundMoney) names.push('roundMoney');
	if (plan.normalize?.trimText) names.push('trimText');
	if (plan.normalize?.stripHtml) names.push(`stripHtml ${plan.normalize.stripHtml}`);
	if (plan.normalize?.emptyAsNull) names.push('emptyAsNull');
	if (plan.ignore) names.push(plan.ignore.echo ? 'ignoreFields (echoed)' : 'ignoreFields');
	if (plan.refuse) names.push('refuseFields');
	if (plan.delayMs) names.push(plan.delayMs > 250 ? 'delayMs (answer lost)' : 'delayMs (late answer)');
	if (plan.concurrentEdit) names.push('concurrentEdit');
	if (plan.retoolEdit) names.push(`Retool edit ${plan.retoolEdit.when} a PATCH`);
	return names;
}

/**
 * The hooks around the run's PATCHes that a plan asks for: another ServiceTitan user's edit landing during one, a
 * Retool edit of the pushed row before one is sent or before it is read back. Each is recorded in the model as it
 * happens (the ServiceTitan edit only once it landed: a PATCH that never reached ServiceTitan takes none).
 */
function aroundPatch(m: Reference, r: Real, plan: PatchPlan): RunInterference['aroundPatch'] {
	const { concurrentEdit: ce, retoolEdit: re } = plan;
	if (!ce && !re) return undefined;
	const control = r.world.sim.control;
	let waiting: { id: number; field: EditableField; value: unknown; before: unknown; synced: unknown; at: number } | undefined;
	return {
		before: async ({ entity, id, body, n }) => {
			if (ce && ce.nth === n) {
				const carried = new Set(Object.keys(body));
				const field = carried.has(ce.field.st) ? m.fields.find((f) => !carried.has(f.st)) : ce.field;
				const current = control.getItem(entity, id);
				if (field && current) {
					const value = field === ce.field ? ce.value : field.values[0];
					const row = await r.world.lane.t.db.oneOrNone('SELECT sync_base FROM $1:name WHERE id = $2', [m.def.table, id]);
					const synced = row?.sync_base ? canonicalFromRow(m.def, row.sync_base)[field.column] : undefined;
					waiting = { id, field, value, before: current[field.st], synced, at: control.requests.length };
					control.setQuirks({ patch: { ...control.quirks().patch, concurrentEdit: [{ entity, id, changes: { [field.st]: value } }] } });
				}
			}
			if (re && re.nth === n && re.when === 'before') {
				await localEditOf(m, r, id, re.field, re.value, true);
				r.figures.duringPush['Retool edit before the PATCH was sent'] = (r.figures.duringPush['Retool edit before the PATCH was sent'] ?? 0) + 1;
			}
		},
		after: async ({ id, n, outcome }) => {
			if (waiting && waiting.id === id) {
				const w = waiting;
				waiting = undefined;
				if ((control.quirks().patch.concurrentEdit ?? []).length === 0) {
					// It landed, before our PATCH was applied: an edit in ServiceTitan the sync owes the local row or a conflict.
					m.edit('st', id, w.field, w.value, w.before, w.synced);
					if (canonicalOf(w.field, w.value) !== canonicalOf(w.field, w.before)) m.patches.reset(id, w.at, "another ServiceTitan user's edit");
					r.figures.duringPush["another ServiceTitan user's edit landed during the PATCH"] =
						(r.figures.duringPush["another ServiceTitan user's edit landed during the PATCH"] ?? 0) + 1;
				} else {
					control.setQuirks({ patch: { ...control.quirks().patch, concurrentEdit: [] } });
				}
			}
			if (re && re.nth === n && re.when === 'after' && outcome === 'answered') {
				await localEditOf(m, r, id, re.field, re.value, true);
				r.figures.duringPush['Retool edit between the PATCH answer and the read-back'] =
					(r.figures.duringPush['Retool edit between the PATCH answer and the read-back'] ?? 0) + 1;
			}
		},
	};
}

/**
 * After a step: hands its PATCH calls to the model (INV-17) with whether each answer counts as definitive, and
 * counts what became of the run's pushes. `succeeded`: the run succeeded, so it recorded every answer it got; else
 * an answer counts only if the row no longer carries push_in_flight (the engine recorded it before it stopped).
 */
export async function settlePatches(m: Reference, r: Real, succeeded: boolean, sync: boolean): Promise<void> {
	const { world, figures } = r;
	// A create (POST) of a step that did not finish is, like its PATCHes below, a ServiceTitan change after the run
	// that saved the cursor: the item it made is the next run's to find.
	const creates = world.st.takeCreateCalls();
	if (!succeeded && creates.length > 0) {
		const type = m.def.type as SimEntity;
		for (const id of world.sim.control.listIds(type, { includeInactive: true })) {
			const item = world.sim.control.getItem(type, id);
			if (item && creates.includes(String(item.code ?? item.name))) m.stChanged(id);
		}
	}
	const calls = world.st.takePatchCalls();
	if (calls.length === 0) return;
	const db = world.lane.t.db;
	const answeredIds = [...new Set(calls.filter((c) => c.outcome !== 'lost').map((c) => c.id))];
	const rows = answeredIds.length === 0 ? [] : await db.any('SELECT * FROM $1:name WHERE id IN ($2:csv)', [m.def.table, answeredIds]);
	const rowOf = new Map(rows.map((row) => [Number(row.id), row]));
	const log = world.sim.control.requests;
	const settled = calls.map((call) => ({ call, definitive: call.outcome !== 'lost' && (succeeded || !rowOf.get(call.id)?.push_in_flight) }));
	m.patches.record(log, settled);
	// A PATCH of a step that did not finish changed ServiceTitan after the run that saved the cursor, like an edit
	// made there: with ServiceTitan's clock stepped back it carries a stamp below the cursor, and it is the next run's
	// to apply (its window reaches back; the row is still pending). A finished step recorded what it sent.
	if (!succeeded) for (const call of calls) m.stChanged(call.id);
	if (!sync) return;
	for (const { call, definitive } of settled) {
		const what = pushOutcome(m, call, definitive, rowOf.get(call.id), log);
		figures.pushes[what] = (figures.pushes[what] ?? 0) + 1;
	}
}

/** What became of one push, as the row shows it after the run (for the figures). */
function pushOutcome(
	m: Reference,
	call: PatchCall,
	definitive: boolean,
	row: Record<string, unknown> | undefined,
	log: ScenarioWorld['sim']['control']['requests'],
): string {
	if (call.outcome === 'lost') return 'answer lost (sent again later)';
	if (!definitive) return 'answered, but the run died before recording it';
	if (call.outcome === 'rejected') return 'refused (400), held';
	if (!row) return 'answered';
	if (row.has_conflict) return 'decided again: conflict';
	if (row.push_refused && row.sync_status === 'pending_push') return 'ignored by ServiceTitan, held';
	if (row.sync_status !== 'synced') return 'edited in Retool meanwhile, pending again';
	const sends = sendsOf(log, call);
	const body = (sends.length > 0 ? log[sends[sends.length - 1]].body : {}) as Record<string, unknown>;
	const sent = canonicalFromSt(m.def, body);
	const local = canonicalFromRow(m.def, row);
	const fields = m.def.fields.filter((f) => f.st in body);
	if (fields.every((f) => differingFields(m.def, { [f.column]: sent[f.column] }, { [f.column]: local[f.column] }).length === 0)) return 'landed';
	if (fields.every((f) => sent[f.column] === local[f.column] || isNormalizedForm(f, sent[f.column], local[f.column]))) return 'normalized, adopted locally';
	return "decided again: ServiceTitan's values taken";
}

export interface RunPlan {
	kind: SyncKind;
	/** Entity runs exist only on the library path (n8n's entity webhook calls the library's entity run too). */
	driver: Driver;
	/**
	 * Full runs: ServiceTitan lists oldest change first, and pages are cut from the data as it is when each is read
	 * (the simulator's page drift), so an item the run pushes moves to the end and comes again on a later page,
	 * and the item behind it slips onto a page already read (the sweep's look-up by id finds it).
	 */
	listingOrder?: 'modifiedOn';
	/** n8n runs: one step node runs twice. */
	rerun?: StepRerun;
	confirmMassDelete?: boolean;
	pick: number;
	faults: FaultPlan;
	crash?: { atCall: number; afterCall: boolean };
	/** An edit made while the run is under way: in Retool, or by a ServiceTitan user (the listing moves under the run). */
	editDuringRun?: { atCall: number; pick: number; field: EditableField; value: unknown; side?: 'retool' | 'st' };
	/** What ServiceTitan does with this run's PATCHes, and what happens around one. */
	patch?: PatchPlan;
	/** ServiceTitan carries out the run's first POST (a create) but its answer is garbled: lost to the engine. */
	lostCreate?: boolean;
	/** Entity runs: this id (a temporary one right after an insert) instead of the one `pick` draws. */
	entityId?: number;
}

/** Runs one sync with faults and interference, then checks the run's own promises and every invariant. */
export async function runSyncStep(m: Reference, r: Real, plan: RunPlan, label: string): Promise<RunResult | undefined> {
	const { world, figures } = r;
	const type = m.def.type;
	let entityId: number | undefined;
	if (plan.kind === 'entity') {
		const ids = [...new Set([...stIds(r, m), ...(await liveLocalIds(r, m))])].sort((a, b) => a - b);
		entityId = plan.entityId ?? at(ids, plan.pick);
		if (entityId === undefined) return undefined;
	}
	const vendorBefore = await vendorPriceRows(world);
	const malformedBefore = [...m.malformed.keys()];
	// Both sides before the run, for an undo of it later (INV-24), and the last run before it.
	const sidesBefore = await sidesNow(m.def, world);
	const { last: lastRunBefore } = await world.lane.t.db.one<{ last: number }>('SELECT coalesce(max(id), 0)::int AS last FROM sync_runs');
	const startSeq = m.now();
	const editedBefore = [...m.editedSinceRun];
	const interference: RunInterference = {};
	if (plan.crash) interference.crash = plan.crash;
	const edit = plan.editDuringRun;
	if (edit) {
		let landed: { id: number; field: EditableField; value: unknown } | undefined;
		interference.editAtCall = {
			atCall: edit.atCall,
			edit: async () => {
				if (edit.side !== 'st') return void (await localEdit(m, r, edit.pick, edit.field, edit.value, true));
				const id = at(stIds(r, m), edit.pick);
				if (id === undefined) return;
				await stEditNow(m, r, id, edit.field, edit.value, true);
				landed = { id, field: edit.field, value: edit.value };
			},
			// A ServiceTitan user's edit landing after the run read the item and before its PATCH carrying the field: the
			// PATCH overwrites it, and no client of ServiceTitan's API can tell (no conditional write). Not owed then.
			patched: async ({ id, body, readSinceEdit }) => {
				if (!landed || landed.id !== id || readSinceEdit || !(landed.field.st in body)) return;
				const stored = world.sim.control.getItem(type, id)?.[landed.field.st];
				// Still there: ServiceTitan refused or ignored the PATCH's value, and the edit is owed as before.
				if (canonicalOf(landed.field, stored) === canonicalOf(landed.field, landed.value)) return;
				if (m.overwrittenInSt(id, landed.field, landed.value))
					figures.duringPush['ServiceTitan edit overwritten by our PATCH sent before the run read it'] =
						(figures.duringPush['ServiceTitan edit overwritten by our PATCH sent before the run read it'] ?? 0) + 1;
				landed = undefined;
			},
		};
	}
	const around = plan.patch && aroundPatch(m, r, plan.patch);
	if (around) interference.aroundPatch = around;
	applyFaults(r, type, plan.faults);
	if (plan.lostCreate) {
		world.sim.control.failNext({ action: { kind: 'malformed' }, match: { method: 'POST', path: `/${type}` } });
		figures.retool['run with its POST answer lost'] = (figures.retool['run with its POST answer lost'] ?? 0) + 1;
	}
	if (plan.patch || r.tenant) {
		// The run's own plan, on top of the tenant's standing behaviour (the run's normalize or ignore replaces it).
		world.sim.control.setQuirks({ patch: patchQuirks(m, { ...r.tenant, ...plan.patch }) });
		for (const name of patchPlanNames(plan.patch ?? {})) figures.patchBehaviours[name] = (figures.patchBehaviours[name] ?? 0) + 1;
	}
	if (plan.listingOrder) world.sim.control.setQuirks({ order: plan.listingOrder, pageDrift: true });
	// A dead n8n execution's lease: the model knows whether this run must answer busy or take the lease over.
	// Leases are kept by the sync's clock.
	const startedAt = world.localNow();
	const mustBeBusy = m.leaseLive(startedAt);
	world.st.arm(interference);
	let end: Awaited<ReturnType<typeof runWithDriver>>;
	let touched: Set<number>;
	try {
		const request = {
			entityType: type,
			kind: plan.kind,
			confirmMassDelete: plan.confirmMassDelete ?? false,
			...(entityId !== undefined ? { entityId } : {}),
		};
		end = await runWithDriver(plan.driver, world, request, plan.rerun, figures, label);
	} finally {
		if (world.st.crashed) figures.crashes += 1;
		touched = new Set(world.st.itemsTouched);
		world.st.arm({});
		clearFaults(r);
	}
	const result = end.result;
	const sidesAfter = await sidesNow(m.def, world);
	for (const { id } of await world.lane.t.db.any<{ id: number }>('SELECT id::int FROM sync_runs WHERE id > $1', [lastRunBefore]))
		m.runSides.set(id, { startSeq, before: sidesBefore, after: sidesAfter });
	if (plan.faults.kind !== 'none') figures.faultPlans[plan.faults.kind] = (figures.faultPlans[plan.faults.kind] ?? 0) + 1;
	const ending: string = result?.status ?? (end.died === 'crash' ? 'crashed' : 'step failed');
	figures.runs[ending] = (figures.runs[ending] ?? 0) + 1;
	const byDriver = (figures.runsByDriver[plan.driver] ??= {});
	byDriver[ending] = (byDriver[ending] ?? 0) + 1;
	if ((result?.status === 'busy') !== mustBeBusy) {
		const lease =
			m.stagedLeaseUntil === null
				? 'no n8n execution died holding the lease'
				: `the dead n8n execution's lease lasts until ${new Date(m.stagedLeaseUntil).toISOString()}`;
		throw new InvariantViolation(
			`after ${label}: the run ${mustBeBusy ? `ran (${ending})` : 'answered busy'} at ${new Date(startedAt).toISOString()}, but ${lease}: ${result?.message ?? ''}`,
		);
	}
	if (!mustBeBusy) {
		if (m.stagedLeaseUntil !== null) figures.leaseTakeovers += 1;
		// An n8n execution that stops keeps its lease: every step renewed it at this (standing) clock.
		m.stagedLeaseUntil = plan.driver === 'n8n' && end.died ? startedAt + N8N_LEASE_TTL_MS : null;
	}
	if (result?.status === 'succeeded') {
		// A run decides on every item it was handed or looked up once, and counts it once, however often a
		// listing repeated it (each item is in exactly one category of the summary).
		const counted = Object.values(result.summary).reduce((a, b) => a + b, 0);
		if (counted !== touched.size) {
			throw new InvariantViolation(
				`after ${label}: the run's summary counts ${counted} items, but it decided on ${touched.size} distinct items: ${JSON.stringify(result.summary)}`,
			);
		}
	}
	await settlePatches(m, r, result?.status === 'succeeded', true);
	if (result?.status === 'succeeded') {
		m.runSucceeded(startSeq, result.kind === 'entity' ? entityId : undefined);
		if (result.kind === 'entity') m.entitySucceeded(entityId!, startSeq);
		else m.listingSucceeded(startSeq);
		// A full run reads every row (an incremental one only pending pushes, not rows in conflict).
		for (const id of editedBefore) if (result.kind === 'full' || id === entityId) m.editedSinceRun.delete(id);
	}
	// A person's malformed value is contained: a run without faults goes on for the other items.
	const clean = plan.faults.kind === 'none' && !plan.crash && !plan.lostCreate;
	if (malformedBefore.length > 0 && clean && (result?.status === 'failed' || end.died))
		throw new InvariantViolation(
			`after ${label}: a run without faults ${end.died ?? 'failed'} with a person's malformed value in row(s) ${malformedBefore.join(', ')}: ${result?.message ?? String(end.died ? (end as { error: unknown }).error : '')}`,
		);
	// No sync changes vendor prices, except that a created material's follow it to ServiceTitan's id (INV-4, INV-23).
	await m.followRekeys(world);
	if ((await vendorPricesSnapshot(world, m.rekeyed)) !== vendorPricesText(vendorBefore, m.rekeyed))
		throw new InvariantViolation(
			`after ${label}: the sync changed vendor_prices: ${vendorPricesText(vendorBefore, m.rekeyed)} → ${await vendorPricesSnapshot(world, m.rekeyed)}`,
		);
	await expectInvariants(m, r, label);
	return result;
}

class SyncRun implements Cmd {
	constructor(readonly plan: RunPlan) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		await runSyncStep(m, r, this.plan, this.toString());
	}
	toString = () => {
		const p = this.plan;
		const parts = [p.driver, p.kind === 'entity' ? `entity #${p.pick}` : p.kind, `faults ${JSON.stringify(p.faults)}`];
		if (p.listingOrder) parts.push(`listing by ${p.listingOrder} with page drift`);
		if (p.rerun) parts.push(`n8n runs ${p.rerun.step}${p.rerun.step === 'finish' ? '' : ` of page ${p.rerun.page}`} twice`);
		if (p.crash) parts.push(`crash ${p.crash.afterCall ? 'after' : 'before'} ST call ${p.crash.atCall}`);
		if (p.editDuringRun)
			parts.push(
				`${p.editDuringRun.side === 'st' ? 'ServiceTitan' : 'Retool'} edit #${p.editDuringRun.pick}.${p.editDuringRun.field.column} = ${JSON.stringify(p.editDuringRun.value)} at ST call ${p.editDuringRun.atCall}`,
			);
		if (p.patch) parts.push(describePatchPlan(p.patch));
		if (p.lostCreate) parts.push('POST answer lost');
		return `Sync(${parts.join(', ')})`;
	};
}

function describePatchPlan(p: PatchPlan): string {
	const parts: string[] = [];
	if (p.normalize) parts.push(`normalize ${JSON.stringify(p.normalize)}`);
	if (p.ignore) parts.push(`ignore ${p.ignore.fields.map((f) => f.st).join(', ')}${p.ignore.echo ? ' (echoed)' : ''}`);
	if (p.refuse) parts.push(`refuse ${p.refuse.fields.map((f) => f.st).join(', ')} (400)`);
	if (p.delayMs) parts.push(`answer after ${p.delayMs} ms`);
	if (p.concurrentEdit)
		parts.push(`ST user sets ${p.concurrentEdit.field.st} = ${JSON.stringify(p.concurrentEdit.value)} during PATCH ${p.concurrentEdit.nth}`);
	if (p.retoolEdit)
		parts.push(
			`Retool edit ${p.retoolEdit.field.column} = ${JSON.stringify(p.retoolEdit.value)} ${p.retoolEdit.when === 'before' ? 'before' : 'after'} PATCH ${p.retoolEdit.nth}`,
		);
	return `PATCH: ${parts.join('; ')}`;
}

interface ConflictRow {
	id: number;
	entity_id: number;
	kind: string;
	conflict_data: { diff: { stValues: Record<string, unknown>; localValues: Record<string, unknown> } };
	suggested_merge: { unresolvedFields?: string[] } | null;
}

/** A person's decision, with the merged values drawn from `choices` (one bit per field: ST's or local value). */
export async function resolveStep(
	m: Reference,
	r: Real,
	pick: number,
	resolution: Resolution,
	choices: number,
	label: string,
	patch?: TenantPatch,
): Promise<string> {
	const { world, figures } = r;
	const db = world.lane.t.db;
	const open = await db.any<ConflictRow>("SELECT * FROM sync_conflicts WHERE status = 'open' AND entity_type = $1 ORDER BY id", [m.def.type]);
	const conflict = at(open, pick);
	if (!conflict) return 'none open';
	const id = Number(conflict.entity_id);
	// A person's decision: it may write any synced field of the row and PATCH any of them (INV-17, INV-18, INV-19).
	m.localChange(
		id,
		m.def.fields.map((f) => f.column),
		world.sim.control.requests.length,
		'a resolution',
	);
	if (patch || r.tenant) {
		world.sim.control.setQuirks({ patch: patchQuirks(m, patch ?? r.tenant ?? {}) });
		for (const name of patchPlanNames(patch ?? {}))
			figures.patchBehaviours[`${name} (resolution)`] = (figures.patchBehaviours[`${name} (resolution)`] ?? 0) + 1;
	}
	let mergedData: Record<string, unknown> | undefined;
	if (resolution === 'merged') {
		mergedData = {};
		const fields = conflict.suggested_merge?.unresolvedFields ?? [];
		fields.forEach((f, i) => {
			mergedData![f] = (choices >> i) & 1 ? conflict.conflict_data.diff.stValues[f] : conflict.conflict_data.diff.localValues[f];
		});
	}
	const vendorBefore = await vendorPricesSnapshot(world);
	let outcome: string;
	try {
		const result = await resolveConflict(
			{ db: world.lane.engineDb, st: world.st, now: () => new Date(world.localNow()), lockWaitMs: 5000 },
			{ conflictId: Number(conflict.id), resolution, resolvedBy: 'model@perfectcatch', trigger: 'model', ...(mergedData ? { mergedData } : {}) },
		);
		outcome = result.status;
		if (result.status === 'resolved') {
			m.settled(id, resolution === 'use_st' ? ['local'] : resolution === 'use_local' ? ['st'] : ['st', 'local']);
			await expectResolvedState(m, r, id, resolution, mergedData, label);
			// A person's decision over a row they soft-deleted: taking ServiceTitan's version (or a merge) is their word on
			// it. Only a decision that leaves the item active undoes the delete (expectResolvedState checked the decided
			// values: ServiceTitan's active, or the merged one); one that keeps it inactive keeps the row deleted.
			const decided = await world.lane.t.db.oneOrNone('SELECT active FROM $1:name WHERE id = $2', [m.def.table, id]);
			if (resolution !== 'use_local' && decided?.active !== false) m.personDeleted.delete(id);
		}
	} catch (error) {
		if (!(error instanceof SyncStateError || error instanceof SyncValidationError)) throw error;
		// The values were drawn for exactly the fields the conflict's own suggestion left open: they must be accepted,
		// unless a Retool edit came after the last run (the suggestion shown is then older than the row).
		if (error instanceof SyncValidationError && resolution === 'merged' && !m.editedSinceRun.has(id))
			throw new InvariantViolation(`after ${label}: a merge of the suggested fields was refused: ${error.message}`);
		outcome = error instanceof SyncStateError ? `refused (${error.reason})` : `refused (invalid ${error.field}: ${error.message.slice(0, 120)})`;
	} finally {
		world.sim.control.setQuirks({ patch: {} });
		// No faults during a resolution: every PATCH answer it got, it recorded.
		await settlePatches(m, r, true, false);
	}
	figures.resolutions[`${resolution} → ${outcome}`] = (figures.resolutions[`${resolution} → ${outcome}`] ?? 0) + 1;
	if ((await vendorPricesSnapshot(world)) !== vendorBefore) throw new InvariantViolation(`after ${label}: a resolution changed vendor_prices`);
	await expectInvariants(m, r, label);
	return outcome;
}

/** Right after a resolution: both sides hold what the person chose. */
async function expectResolvedState(
	m: Reference,
	r: Real,
	id: number,
	resolution: Resolution,
	mergedData: Record<string, unknown> | undefined,
	label: string,
): Promise<void> {
	const row = await r.world.lane.t.db.one('SELECT * FROM $1:name WHERE id = $2', [m.def.table, id]);
	const record = await r.world.observer.get(m.def.type, id);
	if (!record) {
		if (resolution !== 'use_st' || !row.deleted_at)
			throw new InvariantViolation(`after ${label}: ST deleted ${id}, but the resolution left the local row live`);
		return;
	}
	const local = canonicalFromRow(m.def, row);
	const st = canonicalFromSt(m.def, record);
	// A chosen value ServiceTitan kept its own for stays on the local row, held (pending, push_refused): not lost.
	const refused = (row.push_refused ?? {}) as Record<string, CanonicalValue>;
	const held = (f: string) =>
		row.sync_status === 'pending_push' && f in refused && differingFields(m.def, { [f]: local[f] }, { [f]: refused[f] }).length === 0;
	const differ = differingFields(m.def, local, st).filter((f) => !held(f));
	if (differ.length > 0) throw new InvariantViolation(`after ${label}: ${resolution} left ${id} different on both sides (${differ.join(', ')})`);
	for (const [field, value] of Object.entries(mergedData ?? {})) {
		const editable = m.fields.find((f) => f.column === field);
		const expected = (editable ? canonicalOf(editable, value) : value) as CanonicalValue;
		// As chosen, or in the form ServiceTitan stored it in (adopted locally).
		const normalized = typeof expected !== 'object' && local[field] === st[field] && sameOrNormalized(m.def, field, expected, local[field]);
		if (JSON.stringify(local[field]) !== JSON.stringify(expected) && !normalized)
			throw new InvariantViolation(`after ${label}: merged ${field} should be ${JSON.stringify(expected)}, is ${JSON.stringify(local[field])}`);
	}
}

class Resolve implements Cmd {
	constructor(
		readonly pick: number,
		readonly resolution: Resolution,
		readonly choices: number,
		readonly patch?: TenantPatch,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		await resolveStep(m, r, this.pick, this.resolution, this.choices, this.toString(), this.patch);
	}
	toString = () =>
		`Resolve(#${this.pick}, ${this.resolution}${this.resolution === 'merged' ? `, choices ${this.choices}` : ''}${this.patch ? `, ${describePatchPlan(this.patch)}` : ''})`;
}

class Clock implements Cmd {
	constructor(readonly ms: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		r.world.sim.control.advanceClock(this.ms);
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `AdvanceClock(${this.ms / 1000} s)`;
}

const SNAPSHOT_SQL = `SELECT id, to_jsonb(t) - 'updated_at' - 'last_synced_at' AS row FROM $1:name t ORDER BY id`;
const CONFLICTS_SQL = `SELECT id, entity_id, status, kind, st_modified_on_raw, conflict_data #- '{detectedAt}' AS data FROM sync_conflicts WHERE entity_type = $1 ORDER BY id`;

/** A re-run without new edits changes nothing: no item, no conflict, no cursor. */
export async function expectRerunChangesNothing(m: Reference, r: Real, kind: 'full' | 'incremental', driver: Driver, label: string): Promise<void> {
	const db = r.world.lane.t.db;
	// The cursor is left out: a re-run may carry it past the modifiedOn of the run's own pushes (the first run
	// must not, as other changes may lie before them); the invariant checks hold it to what was applied.
	const take = async () => [...(await db.any(SNAPSHOT_SQL, [m.def.table])), ...(await db.any(CONFLICTS_SQL, [m.def.type]))].map((x) => JSON.stringify(x));
	const before = await take();
	const again = await runSyncStep(m, r, { kind, driver, pick: 0, faults: { kind: 'none' } }, `${label} (re-run)`);
	if (again?.status !== 'succeeded') throw new InvariantViolation(`after ${label}: the re-run did not succeed: ${again?.message}`);
	const moved = again.itemsSynced + again.itemsPushed + again.conflictsDetected + again.summary.deletedInST;
	if (moved > 0) throw new InvariantViolation(`after ${label}: the re-run without new edits changed things: ${JSON.stringify(again.summary)}`);
	const after = await take();
	const changed = after.filter((x, i) => x !== before[i]);
	if (changed.length > 0 || after.length !== before.length) {
		throw new InvariantViolation(
			`after ${label}: the re-run without new edits changed the database:\n    before ${before.find((x, i) => x !== after[i])}\n    after  ${changed[0]}`,
		);
	}
	r.figures.idempotentReruns += 1;
}

class Rerun implements Cmd {
	constructor(
		readonly kind: 'full' | 'incremental',
		readonly driver: Driver,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const first = await runSyncStep(m, r, { kind: this.kind, driver: this.driver, pick: 0, faults: { kind: 'none' } }, this.toString());
		if (first?.status === 'succeeded') await expectRerunChangesNothing(m, r, this.kind, this.driver, this.toString());
	}
	toString = () => `RerunTwice(${this.driver}, ${this.kind})`;
}

export const faultPlan: fc.Arbitrary<FaultPlan> = fc.oneof(
	{ weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
	fc.record({
		kind: fc.constant('status5xx' as const),
		status: fc.constantFrom(500 as const, 502 as const, 503 as const),
		rate: fc.constantFrom(0.2, 0.5, 1),
		seed: fc.nat(),
	}),
	fc.record({
		kind: fc.constant('rate429' as const),
		retryAfter: fc.constantFrom<SimQuirks['retryAfter']>('seconds', 'date', 'none'),
		times: fc.integer({ min: 1, max: 4 }),
	}),
	fc.record({ kind: fc.constant('timeout' as const), times: fc.integer({ min: 1, max: 3 }) }),
	fc.record({ kind: fc.constant('reset' as const), times: fc.integer({ min: 1, max: 4 }) }),
	fc.record({ kind: fc.constant('malformed' as const), rate: fc.constantFrom(0.2, 0.5), seed: fc.nat() }),
	fc.record({ kind: fc.constant('failListingPage' as const), page: fc.integer({ min: 1, max: 3 }) }),
	fc.constant({ kind: 'revokedToken' as const }),
);

/** `arb`'s value in `percent` of the draws, else undefined (and undefined is what it shrinks to). */
function sometimes<T>(percent: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
	return fc.tuple(fc.nat({ max: 99 }), arb).map(([x, v]) => (x >= 100 - percent ? v : undefined));
}

/** Without the keys whose value is undefined (so a plan prints and compares as drawn). */
function defined<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * What ServiceTitan does with a run's PATCHes. Weighted so that CI's 1,000 scenarios (about 4,000 drawn runs, a
 * third of which push something) meet each behaviour hundreds of times: a plan in four runs of five; in a plan,
 * normalizing in 60% (each of its switches on in three of four: a tenant does them all), another user's edit or a
 * Retool edit around a PATCH in a third, ignoring some fields or refusing some (400) in a quarter each, a late answer
 * in a tenth (it costs the client's timeout, three times). Ignored and refused fields are 1 to 3 of the editable
 * ones, so a push meets them often.
 */
function patchPlanArbitrary(
	fields: readonly EditableField[],
	fieldValue: fc.Arbitrary<[EditableField, string | number | boolean]>,
): fc.Arbitrary<PatchPlan | undefined> {
	const someFields = (max: number) => fc.subarray([...fields], { minLength: 1, maxLength: max });
	const often = fc.constantFrom(true, true, true, false);
	const plan = fc
		.record({
			normalize: sometimes(
				60,
				fc.record({
					roundMoney: often,
					trimText: often,
					stripHtml: fc.constantFrom<'normalize' | 'strip' | undefined>('normalize', 'normalize', 'strip', undefined),
					emptyAsNull: often,
				}),
			),
			ignore: sometimes(25, fc.record({ fields: someFields(3), echo: fc.boolean() })),
			refuse: sometimes(25, fc.record({ fields: someFields(2) })),
			delayMs: sometimes(10, fc.constantFrom<60 | 400>(60, 400)),
			concurrentEdit: sometimes(
				33,
				fc.tuple(fc.constantFrom(1, 1, 2), fieldValue).map(([nth, [f, value]]) => ({ nth, field: f, value })),
			),
			retoolEdit: sometimes(
				33,
				fc
					.tuple(fc.constantFrom(1, 1, 2), fc.constantFrom<'before' | 'after'>('before', 'after'), fieldValue)
					.map(([nth, when, [f, value]]) => ({ nth, when, field: f, value })),
			),
		})
		.map((p) => {
			const { normalize, ...rest } = p;
			const n = normalize && defined(normalize);
			return defined({ ...rest, normalize: n && (n.roundMoney || n.trimText || n.stripHtml || n.emptyAsNull) ? n : undefined }) as PatchPlan;
		});
	return sometimes(80, plan).map((p) => (p && Object.keys(p).length > 0 ? p : undefined));
}

/**
 * A tenant's standing PATCH behaviour, for a scenario: in seven scenarios of ten, normalizing in seven of those
 * (each switch on in three of four), ignoring 1 to 3 fields in a third. Live tenants are reported to do both.
 */
export function tenantPatchArbitrary(fields: readonly EditableField[]): fc.Arbitrary<TenantPatch | undefined> {
	const often = fc.constantFrom(true, true, true, false);
	return sometimes(
		70,
		fc
			.record({
				normalize: sometimes(
					70,
					fc.record({
						roundMoney: often,
						trimText: often,
						stripHtml: fc.constantFrom<'normalize' | 'strip' | undefined>('normalize', 'normalize', 'strip', undefined),
						emptyAsNull: often,
					}),
				),
				ignore: sometimes(35, fc.record({ fields: fc.subarray([...fields], { minLength: 1, maxLength: 3 }), echo: fc.boolean() })),
			})
			.map((p) => defined({ ...p, ...(p.normalize ? { normalize: defined(p.normalize) } : {}) }) as TenantPatch),
	).map((p) => (p && Object.keys(p).length > 0 ? p : undefined));
}

/** The names of a tenant's behaviour, for the figures. */
export function tenantPatchNames(tenant: TenantPatch | undefined): string[] {
	return tenant ? patchPlanNames(tenant) : [];
}

/** Every step a scenario may take, weighted towards edits and runs. */
export function commandArbitraries(fields: readonly EditableField[]): fc.Arbitrary<Cmd>[] {
	const fieldValue = fc.nat({ max: fields.length - 1 }).chain((i) => fc.tuple(fc.constant(fields[i]), fc.constantFrom(...fields[i].values)));
	const pick = fc.nat({ max: 63 });
	const patchPlan = patchPlanArbitrary(fields, fieldValue);
	// A resolution's PATCH is verified the same way: drawn with ServiceTitan normalizing or ignoring a field.
	const resolvePatch = sometimes(
		40,
		fc
			.record({
				normalize: sometimes(60, fc.record({ roundMoney: fc.boolean(), trimText: fc.boolean(), emptyAsNull: fc.boolean() })),
				ignore: sometimes(60, fc.record({ fields: fc.subarray([...fields], { minLength: 1, maxLength: 3 }), echo: fc.boolean() })),
			})
			.map((p) => defined(p) as TenantPatch),
	).map((p) => (p && Object.keys(p).length > 0 ? p : undefined));
	const runPlan = fc
		.record(
			{
				kind: fc.constantFrom<SyncKind>('full', 'incremental', 'incremental', 'entity'),
				driver: fc.constantFrom(...DRIVERS),
				listingOrder: fc.option(fc.constant('modifiedOn' as const), { freq: 3, nil: undefined }),
				rerun: fc.option(fc.record({ step: fc.constantFrom(...STAGED_STEPS), page: fc.integer({ min: 1, max: 3 }) }), { freq: 3, nil: undefined }),
				pick,
				faults: faultPlan,
				crash: fc.option(fc.record({ atCall: fc.integer({ min: 1, max: 10 }), afterCall: fc.boolean() }), { freq: 4, nil: undefined }),
				editDuringRun: fc.option(
					fc
						.tuple(fc.integer({ min: 1, max: 6 }), pick, fieldValue, fc.constantFrom<'retool' | 'st'>('retool', 'retool', 'st'))
						.map(([atCall, p, [field, value], side]) => ({ atCall, pick: p, field, value, side })),
					{ freq: 3, nil: undefined },
				),
				patch: patchPlan,
				lostCreate: fc.constantFrom(false, false, false, false, false, true),
			},
			{ requiredKeys: ['kind', 'driver', 'pick', 'faults', 'patch', 'lostCreate'] },
		)
		// Drawn for every run (so shrinking keeps its shape), used where it exists: a driver for listing runs,
		// the listing order for full runs, a step run twice for n8n runs.
		.map(({ listingOrder, rerun, patch, lostCreate, ...p }): RunPlan => {
			const driver = p.kind === 'entity' ? 'library' : p.driver;
			return {
				...p,
				...(lostCreate ? { lostCreate } : {}),
				driver,
				...(listingOrder && p.kind === 'full' ? { listingOrder } : {}),
				...(rerun && driver === 'n8n' ? { rerun } : {}),
				...(patch ? { patch } : {}),
			};
		});
	const field = (column: string) => fields.find((f) => f.column === column)!;
	const afterSave: fc.Arbitrary<AfterSave> = fc.record({
		faults: fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) }, faultPlan),
		crash: fc.option(fc.record({ atCall: fc.integer({ min: 1, max: 3 }), afterCall: fc.boolean() }), { freq: 2, nil: undefined }),
		lostCreate: fc.constantFrom(false, false, true),
	});
	const insert = fc
		.tuple(
			fc.option(fc.constantFrom(...(field('description').values as string[])), { freq: 4, nil: null }),
			fc.constantFrom(...(field('price').values as number[])),
			fc.option(fc.constantFrom(...(field('display_name').values as string[])), { freq: 2, nil: null }),
			fc.option(fc.constantFrom(3.5, 7.25), { freq: 2, nil: null }),
			fc.option(afterSave, { freq: 2, nil: null }),
		)
		.map(([d, p, n, v, a]) => new RetoolInsert(d, p, n, v, a));
	// A malformed value: refused by the database (migration 0012), or, where it gets in, contained to its row.
	const retoolRows: fc.Arbitrary<Cmd>[] = [
		insert,
		insert,
		pick.map((p) => new SoftDelete(p)),
		pick.map((p) => new Reactivate(p)),
		fc.tuple(pick, fc.constantFrom(...MALFORMED_CATEGORIES)).map(([p, v]) => new MalformedWrite(p, v)),
	];
	return [
		...retoolRows,
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new StEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new StEdit(p, f, v)),
		// ServiceTitan's clock misbehaving: an edit stamped hours in its future, or the clock stepping back.
		fc.tuple(pick, fieldValue, fc.constantFrom(3 * 3600_000, 26 * 3600_000)).map(([p, [f, v], ahead]) => new StEdit(p, f, v, ahead)),
		fc.constantFrom(20 * 60_000, 2 * 3600_000).map((ms) => new StClockStepBack(ms)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		pick.map((p) => new StDelete(p)),
		fc.nat({ max: 99 }).map((n) => new StCreate(n)),
		fc.tuple(pick, fc.constantFrom(5, 7.25, 19.99)).map(([p, price]) => new VendorPriceEdit(p, price)),
		runPlan.map((p) => new SyncRun(p)),
		runPlan.map((p) => new SyncRun(p)),
		runPlan.map((p) => new SyncRun(p)),
		fc.tuple(pick, fc.constantFrom(...RESOLUTIONS), fc.nat({ max: 255 }), resolvePatch).map(([p, res, c, patch]) => new Resolve(p, res, c, patch)),
		fc.constantFrom(30_000, 600_000, 25 * 3600_000).map((ms) => new Clock(ms)),
		fc.tuple(fc.constantFrom<'full' | 'incremental'>('full', 'incremental'), fc.constantFrom(...DRIVERS)).map(([k, d]) => new Rerun(k, d)),
	];
}
