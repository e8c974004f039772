import fc from 'fast-check';
import { canonicalFromRow, canonicalFromSt, differingFields } from '../../../lib/entities/canonical';
import { resolveConflict, RESOLUTIONS, type Resolution } from '../../../lib/sync/resolve';
import { SyncStateError, SyncValidationError } from '../../../lib/sync/errors';
import type { RunResult, SyncKind } from '../../../lib/sync/run-types';
import type { SimEntity } from '../../../sim/data';
import type { SimFaults, SimQuirks } from '../../../sim/types';
import { retoolUpdate } from '../../support/sync-harness';
import { canonicalOf, vendorPricesSnapshot, type EditableField, type Reference } from './reference';
import type { Figures } from './figures';
import { DRIVERS, runWithDriver, STAGED_STEPS, type Driver, type StepRerun } from './drivers';
import { InvariantViolation } from './invariant';
import { N8N_LEASE_TTL_MS, type RunInterference, type ScenarioWorld } from './world';

export { InvariantViolation };

/** The real side of a scenario: the world, plus the figures it adds to. */
export interface Real {
	world: ScenarioWorld;
	figures: Figures;
}

type Cmd = fc.AsyncCommand<Reference, Real>;

async function expectInvariants(m: Reference, r: Real, after: string): Promise<void> {
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
async function localEdit(m: Reference, r: Real, pick: number, field: EditableField, value: unknown): Promise<string> {
	const id = at(await liveLocalIds(r, m), pick);
	if (id === undefined) return 'no local row yet';
	const row = await r.world.lane.t.db.one('SELECT * FROM $1:name WHERE id = $2', [m.def.table, id]);
	const synced = row.sync_base ? canonicalFromRow(m.def, row.sync_base)[field.column] : undefined;
	m.edit('local', id, field, value, canonicalFromRow(m.def, row)[field.column], synced);
	await retoolUpdate(r.world.lane.t, m.def.table, id, { [field.column]: value });
	m.editedSinceRun.add(id);
	r.figures.localEdits += 1;
	return `${id}.${field.column}`;
}

class StEdit implements Cmd {
	constructor(
		readonly pick: number,
		readonly field: EditableField,
		readonly value: unknown,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const id = at(stIds(r, m), this.pick);
		if (id === undefined) return;
		// ServiceTitan's clock moves on between a run and a person's edit there.
		r.world.sim.control.advanceClock(1000);
		const current = r.world.sim.control.getItem(m.def.type, id)!;
		const row = await r.world.lane.t.db.oneOrNone('SELECT sync_base FROM $1:name WHERE id = $2', [m.def.table, id]);
		const synced = row?.sync_base ? canonicalFromRow(m.def, row.sync_base)[this.field.column] : undefined;
		m.edit('st', id, this.field, this.value, current[this.field.st], synced);
		r.world.sim.control.updateItem(m.def.type, id, { [this.field.st]: this.value });
		r.figures.stEdits += 1;
		await expectInvariants(m, r, this.toString());
	}
	toString = () => `StEdit(#${this.pick}, ${this.field.column} = ${JSON.stringify(this.value)})`;
}

class StDelete implements Cmd {
	constructor(readonly pick: number) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const id = at(stIds(r, m), this.pick);
		if (id === undefined) return;
		r.world.sim.control.advanceClock(1000);
		m.stDeleted(id);
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
		r.world.sim.control.createItem(m.def.type, {
			code: `NEW-${this.n}-${r.world.sim.control.now()}`,
			description: `Re-created item ${this.n}`,
			price: 10 + this.n,
		});
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

export type FaultPlan =
	| { kind: 'none' }
	| { kind: 'status5xx'; status: 500 | 502 | 503; rate: number; seed: number }
	| { kind: 'rate429'; retryAfter: SimQuirks['retryAfter']; times: number }
	| { kind: 'timeout'; times: number }
	| { kind: 'reset'; times: number }
	| { kind: 'malformed'; rate: number; seed: number }
	| { kind: 'failListingPage'; page: number }
	| { kind: 'revokedToken' };

function applyFaults(r: Real, entity: SimEntity, plan: FaultPlan): void {
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

function clearFaults(r: Real): void {
	r.world.sim.control.clearFaults();
	r.world.sim.control.setQuirks({ retryAfter: 'seconds', order: 'id' });
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
	editDuringRun?: { atCall: number; pick: number; field: EditableField; value: unknown };
}

/** Runs one sync with faults and interference, then checks the run's own promises and every invariant. */
export async function runSyncStep(m: Reference, r: Real, plan: RunPlan, label: string): Promise<RunResult | undefined> {
	const { world, figures } = r;
	const type = m.def.type;
	let entityId: number | undefined;
	if (plan.kind === 'entity') {
		const ids = [...new Set([...stIds(r, m), ...(await liveLocalIds(r, m))])].sort((a, b) => a - b);
		entityId = at(ids, plan.pick);
		if (entityId === undefined) return undefined;
	}
	const vendorBefore = await vendorPricesSnapshot(world);
	const startSeq = m.now();
	const editedBefore = [...m.editedSinceRun];
	const interference: RunInterference = {};
	if (plan.crash) interference.crash = plan.crash;
	const edit = plan.editDuringRun;
	if (edit) interference.editAtCall = { atCall: edit.atCall, edit: async () => void (await localEdit(m, r, edit.pick, edit.field, edit.value)) };
	applyFaults(r, type, plan.faults);
	if (plan.listingOrder) world.sim.control.setQuirks({ order: plan.listingOrder, pageDrift: true });
	// A dead n8n execution's lease: the model knows whether this run must answer busy or take the lease over.
	const startedAt = world.sim.control.now();
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
	if (result?.status === 'succeeded') {
		if (result.kind === 'entity') m.entitySucceeded(entityId!, startSeq);
		else m.listingSucceeded(startSeq, result.kind === 'full');
		// A full run reads every row (an incremental one only pending pushes, not rows in conflict).
		for (const id of editedBefore) if (result.kind === 'full' || id === entityId) m.editedSinceRun.delete(id);
	}
	if ((await vendorPricesSnapshot(world)) !== vendorBefore) throw new InvariantViolation(`after ${label}: the sync changed vendor_prices`);
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
				`Retool edit #${p.editDuringRun.pick}.${p.editDuringRun.field.column} = ${JSON.stringify(p.editDuringRun.value)} at ST call ${p.editDuringRun.atCall}`,
			);
		return `Sync(${parts.join(', ')})`;
	};
}

interface ConflictRow {
	id: number;
	entity_id: number;
	kind: string;
	conflict_data: { diff: { stValues: Record<string, unknown>; localValues: Record<string, unknown> } };
	suggested_merge: { unresolvedFields?: string[] } | null;
}

/** A person's decision, with the merged values drawn from `choices` (one bit per field: ST's or local value). */
export async function resolveStep(m: Reference, r: Real, pick: number, resolution: Resolution, choices: number, label: string): Promise<string> {
	const { world, figures } = r;
	const db = world.lane.t.db;
	const open = await db.any<ConflictRow>("SELECT * FROM sync_conflicts WHERE status = 'open' AND entity_type = $1 ORDER BY id", [m.def.type]);
	const conflict = at(open, pick);
	if (!conflict) return 'none open';
	const id = Number(conflict.entity_id);
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
			{ db: world.lane.engineDb, st: world.st, now: () => new Date(world.sim.control.now()), lockWaitMs: 5000 },
			{ conflictId: Number(conflict.id), resolution, resolvedBy: 'model@perfectcatch', trigger: 'model', ...(mergedData ? { mergedData } : {}) },
		);
		outcome = result.status;
		if (result.status === 'resolved') {
			m.settled(id, resolution === 'use_st' ? ['local'] : resolution === 'use_local' ? ['st'] : ['st', 'local']);
			await expectResolvedState(m, r, id, resolution, mergedData, label);
		}
	} catch (error) {
		if (!(error instanceof SyncStateError || error instanceof SyncValidationError)) throw error;
		// The values were drawn for exactly the fields the conflict's own suggestion left open: they must be accepted,
		// unless a Retool edit came after the last run (the suggestion shown is then older than the row).
		if (error instanceof SyncValidationError && resolution === 'merged' && !m.editedSinceRun.has(id))
			throw new InvariantViolation(`after ${label}: a merge of the suggested fields was refused: ${error.message}`);
		outcome = error instanceof SyncStateError ? `refused (${error.reason})` : `refused (invalid ${error.field}: ${error.message.slice(0, 120)})`;
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
	const differ = differingFields(m.def, local, st);
	if (differ.length > 0) throw new InvariantViolation(`after ${label}: ${resolution} left ${id} different on both sides (${differ.join(', ')})`);
	for (const [field, value] of Object.entries(mergedData ?? {})) {
		const editable = m.fields.find((f) => f.column === field);
		const expected = editable ? canonicalOf(editable, value) : value;
		if (JSON.stringify(local[field]) !== JSON.stringify(expected))
			throw new InvariantViolation(`after ${label}: merged ${field} should be ${JSON.stringify(expected)}, is ${JSON.stringify(local[field])}`);
	}
}

class Resolve implements Cmd {
	constructor(
		readonly pick: number,
		readonly resolution: Resolution,
		readonly choices: number,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		await resolveStep(m, r, this.pick, this.resolution, this.choices, this.toString());
	}
	toString = () => `Resolve(#${this.pick}, ${this.resolution}${this.resolution === 'merged' ? `, choices ${this.choices}` : ''})`;
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

const faultPlan: fc.Arbitrary<FaultPlan> = fc.oneof(
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

/** Every step a scenario may take, weighted towards edits and runs. */
export function commandArbitraries(fields: readonly EditableField[]): fc.Arbitrary<Cmd>[] {
	const fieldValue = fc.nat({ max: fields.length - 1 }).chain((i) => fc.tuple(fc.constant(fields[i]), fc.constantFrom(...fields[i].values)));
	const pick = fc.nat({ max: 63 });
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
					fc.tuple(fc.integer({ min: 1, max: 6 }), pick, fieldValue).map(([atCall, p, [field, value]]) => ({ atCall, pick: p, field, value })),
					{ freq: 3, nil: undefined },
				),
			},
			{ requiredKeys: ['kind', 'driver', 'pick', 'faults'] },
		)
		// Drawn for every run (so shrinking keeps its shape), used where it exists: a driver for listing runs,
		// the listing order for full runs, a step run twice for n8n runs.
		.map(({ listingOrder, rerun, ...p }): RunPlan => {
			const driver = p.kind === 'entity' ? 'library' : p.driver;
			return { ...p, driver, ...(listingOrder && p.kind === 'full' ? { listingOrder } : {}), ...(rerun && driver === 'n8n' ? { rerun } : {}) };
		});
	return [
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new StEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new StEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		fc.tuple(pick, fieldValue).map(([p, [f, v]]) => new LocalEdit(p, f, v)),
		pick.map((p) => new StDelete(p)),
		fc.nat({ max: 99 }).map((n) => new StCreate(n)),
		fc.tuple(pick, fc.constantFrom(5, 7.25, 19.99)).map(([p, price]) => new VendorPriceEdit(p, price)),
		runPlan.map((p) => new SyncRun(p)),
		runPlan.map((p) => new SyncRun(p)),
		runPlan.map((p) => new SyncRun(p)),
		fc.tuple(pick, fc.constantFrom(...RESOLUTIONS), fc.nat({ max: 255 })).map(([p, res, c]) => new Resolve(p, res, c)),
		fc.constantFrom(30_000, 600_000, 25 * 3600_000).map((ms) => new Clock(ms)),
		fc.tuple(fc.constantFrom<'full' | 'incremental'>('full', 'incremental'), fc.constantFrom(...DRIVERS)).map(([k, d]) => new Rerun(k, d)),
	];
}
