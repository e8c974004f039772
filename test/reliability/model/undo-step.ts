import fc from 'fast-check';
import type { CanonicalRecord } from '../../../lib/entities/types';
import { SyncStateError, SyncValidationError } from '../../../lib/sync/errors';
import { DEFAULT_UNDO_RETENTION_DAYS, type UndoResult } from '../../../lib/sync/undo';
import { same } from '../../../lib/sync/undo-plan';
import { isStApiError } from '../../../lib/servicetitan/errors';
import { applyFaults, clearFaults, expectInvariants, faultPlan, patchQuirks, settlePatches, type FaultPlan, type Real } from './commands';
import { DRIVERS, undoWithDriver, type Driver } from './drivers';
import { InvariantViolation } from './invariant';
import { sameOrNormalized, sidesNow, type Reference, type RunSides, type Sides } from './reference';

type Cmd = fc.AsyncCommand<Reference, Real>;

const BY = 'model@perfectcatch';

interface TargetRun {
	id: number;
	status: string;
	started_at: Date;
}

/**
 * A person undoes a recent sync run (`recent` 0: the most recent full, incremental or entity run; n: the n-th
 * before it), through the CLI or the Undo Sync Run node, with the tenant's standing PATCH behaviour and perhaps
 * faults (no crash: undo runs in one process like a resolution). Without faults, what it leaves is exact (INV-24);
 * with them it may fail before writing (ServiceTitan unreachable while it reads both sides) or part-way (restored
 * values wait locally as pending edits), and no edit is lost either way.
 */
export class Undo implements Cmd {
	constructor(
		readonly recent: number,
		readonly driver: Driver,
		/** Among the runs that changed a value (pulled one from ServiceTitan or pushed one), else among all. */
		readonly changed: boolean,
		readonly faults: FaultPlan,
	) {}
	check = () => true;
	async run(m: Reference, r: Real): Promise<void> {
		const { world } = r;
		const db = world.lane.t.db;
		const runs = await db.any<TargetRun>(
			`SELECT id::int, status, started_at FROM sync_runs r WHERE entity_type = $1 AND kind IN ('full', 'incremental', 'entity')
			   AND ($2 = false OR EXISTS (SELECT 1 FROM sync_change_log c WHERE c.run_id = r.id AND c.action IN ('updated_from_st', 'pushed')))
			 ORDER BY id DESC LIMIT 4`,
			[m.def.type, this.changed],
		);
		const target = runs[this.recent % Math.max(runs.length, 1)];
		if (!target) return;
		const label = `${this.toString()} → run ${target.id}`;
		const refusal = expectedRefusal(m, target, world.localNow());
		const now = await sidesNow(m.def, world);
		const expected = exactRestores(m, m.runSides.get(target.id), now);
		const tableBefore = await tableState(r, m);
		const at = world.sim.control.requests.length;
		if (r.tenant) world.sim.control.setQuirks({ patch: patchQuirks(m, r.tenant) });
		applyFaults(r, m.def.type, this.faults);
		if (this.faults.kind !== 'none') r.figures.faultPlans[`${this.faults.kind} (undo)`] = (r.figures.faultPlans[`${this.faults.kind} (undo)`] ?? 0) + 1;
		let outcome: { result: UndoResult; error?: undefined } | { result?: undefined; error: unknown };
		try {
			outcome = { result: await undoWithDriver(this.driver, world, target.id, BY) };
		} catch (error) {
			outcome = { error };
		} finally {
			clearFaults(r);
		}
		const { result, error } = outcome;
		if (!result) {
			// ServiceTitan failing while undo reads both sides (before it writes anything): the undo stops, changing nothing.
			const failedReading = isStApiError(error) && this.faults.kind !== 'none' && !refusal;
			if (!failedReading && !(error instanceof SyncStateError || error instanceof SyncValidationError)) throw error;
			const got = failedReading ? undefined : error instanceof SyncStateError ? error.reason : 'invalid';
			const message = error instanceof Error ? error.message : String(error);
			if (got !== refusal) throw new InvariantViolation(`after ${label}: refused (${got}: ${message}), expected ${refusal ?? 'the undo to run'}`);
			if ((await tableState(r, m)) !== tableBefore)
				throw new InvariantViolation(`after ${label}: the undo that stopped (${message}) changed the database`);
			if (!failedReading && world.sim.control.requests.length !== at)
				throw new InvariantViolation(`after ${label}: the refused undo called ServiceTitan (${message})`);
			await settlePatches(m, r, false, false);
			count(r, failedReading ? 'failed reading ServiceTitan (faults), changed nothing' : `refused (${got})`);
			await expectInvariants(m, r, label);
			return;
		}
		if (refusal) throw new InvariantViolation(`after ${label}: the undo ran (${result.status}), but it should be refused as ${refusal}`);
		const succeeded = result.status === 'succeeded';
		if (!succeeded && this.faults.kind === 'none')
			throw new InvariantViolation(`after ${label}: an undo without faults ${result.status}: ${result.message}`);
		await recordRestores(m, r, result.runId!, at);
		// An undo that restored nothing, or failed, leaves the run undoable (a later undo may restore what is left).
		if (succeeded && result.fieldsRestored > 0) m.undone.add(target.id);
		await settlePatches(m, r, succeeded, false);
		count(r, `${this.driver}: ${succeeded ? (result.fieldsRestored > 0 ? 'restored fields' : 'nothing to restore') : 'failed part-way (faults)'}`);
		if (this.faults.kind === 'none') await expectExactRestores(m, r, expected, result, label);
		await expectInvariants(m, r, label);
	}
	toString = () =>
		`Undo(${this.driver}, ${this.recent === 0 ? 'the most recent run' : `run #${this.recent} back`}${this.changed ? ' that changed a value' : ''}, faults ${JSON.stringify(this.faults)})`;
}

function count(r: Real, what: string): void {
	r.figures.undos[what] = (r.figures.undos[what] ?? 0) + 1;
}

/** How the undo must be refused, as undo.ts decides it, or undefined: it must run. */
function expectedRefusal(m: Reference, target: TargetRun, now: number): string | undefined {
	if (target.status === 'running') return 'busy';
	if (target.status === 'busy') return 'invalid';
	if (now - target.started_at.getTime() > DEFAULT_UNDO_RETENTION_DAYS * 86_400_000) return 'invalid';
	if (m.undone.has(target.id)) return 'stale';
	if (m.leaseLive(now)) return 'busy';
	return undefined;
}

/** The pricebook table and the run ledger, to show a refused undo wrote nothing. */
async function tableState(r: Real, m: Reference): Promise<string> {
	const db = r.world.lane.t.db;
	const rows = await db.any('SELECT to_jsonb(t) AS row FROM $1:name t ORDER BY id', [m.def.table]);
	const { runs } = await db.one<{ runs: number }>('SELECT count(*)::int AS runs FROM sync_runs');
	return JSON.stringify({ rows, runs });
}

/**
 * What the undo writes locally is a person's edit like any other in the model (the restored value, owed to
 * ServiceTitan), read from its change log: it replaces the edit the run carried, which then is no longer owed.
 */
async function recordRestores(m: Reference, r: Real, undoRunId: number, at: number): Promise<void> {
	const restored = await r.world.lane.t.db.any<{ entity_id: number; before: CanonicalRecord; after: CanonicalRecord }>(
		`SELECT entity_id::int, before, after FROM sync_change_log WHERE run_id = $1 AND action = 'undo_restored_locally' ORDER BY id`,
		[undoRunId],
	);
	for (const { entity_id: id, before, after } of restored) {
		m.localChange(
			id,
			m.def.fields.map((f) => f.column),
			at,
			'an undo',
		);
		for (const [column, value] of Object.entries(after)) {
			const field = m.fields.find((f) => f.column === column);
			// The run left `before` on both sides: it is the row's base when undo writes the restored value.
			if (field) m.edit('local', id, field, value, before[column], before[column]);
		}
	}
}

/** Per item and field, the value both sides must hold after the undo. */
type Expected = Map<number, Map<string, CanonicalRecord[string]>>;

/**
 * INV-24: the items of the run nothing touched since it started (no edit on either side, no resolution, retry or
 * undo, per the model; and both sides still as the run left them, so no later run changed them either). For every
 * field the run changed, the value the side it changed held before the run: the run changed a field on one side
 * (ServiceTitan by a push, the local row by a pull; a push ServiceTitan normalized changed both, and the push is
 * what undo reverses), and undo puts that side's old value back on both sides.
 */
function exactRestores(m: Reference, run: RunSides | undefined, now: Sides): Expected {
	const expected: Expected = new Map();
	if (!run) return expected;
	for (const [id, after] of run.after.local) {
		const before = run.before.local.get(id);
		const [stBefore, stAfter, stNow, localNow] = [run.before.st.get(id), run.after.st.get(id), now.st.get(id), now.local.get(id)];
		if (!before || !stBefore || !stAfter || !stNow || !localNow) continue;
		if ((m.lastTouch.get(id) ?? 0) > run.startSeq || m.malformed.has(id)) continue;
		if (before.deleted || after.deleted || after.conflict || localNow.deleted || localNow.conflict) continue;
		if (!sameRecord(after.values, localNow.values) || !sameRecord(stAfter, stNow)) continue;
		const fields = new Map<string, CanonicalRecord[string]>();
		for (const { column } of m.def.fields) {
			if (!same(stBefore[column], stAfter[column])) fields.set(column, stBefore[column]);
			else if (!same(before.values[column], after.values[column])) fields.set(column, before.values[column]);
		}
		if (fields.size > 0) expected.set(id, fields);
	}
	return expected;
}

function sameRecord(a: CanonicalRecord, b: CanonicalRecord): boolean {
	return Object.keys({ ...a, ...b }).every((k) => same(a[k], b[k]));
}

/**
 * Both sides hold the expected value (ServiceTitan perhaps in the form it stores it in, the local row then in the
 * same form); or ServiceTitan kept its own (the tenant ignores the field) and the undo says so: the field is listed
 * as skipped, not restored, and the restored value waits on the local row as a pending edit.
 */
async function expectExactRestores(m: Reference, r: Real, expected: Expected, result: UndoResult, label: string): Promise<void> {
	if (expected.size === 0) return;
	const now = await sidesNow(m.def, r.world);
	const problems: string[] = [];
	for (const [id, fields] of expected) {
		const local = now.local.get(id)?.values ?? {};
		const st = now.st.get(id) ?? {};
		const skipped = result.items.find((i) => i.entityId === id)?.skipped ?? [];
		for (const [column, value] of fields) {
			const stHolds = same(st[column], value) || (value !== undefined && sameOrNormalized(m.def, column, value, st[column]));
			const localHolds = same(local[column], value) || (stHolds && same(local[column], st[column]));
			if (stHolds && localHolds) continue;
			const waits = skipped.some((s) => s.field === column && s.reason.startsWith('not in ServiceTitan yet')) && same(local[column], value);
			if (waits) {
				count(r, 'restored value held: ServiceTitan kept its own, listed as skipped');
				continue;
			}
			problems.push(
				`${id}.${column}: nothing touched it since the run, so both sides should hold ${JSON.stringify(value)} again; local holds ${JSON.stringify(local[column])}, ServiceTitan ${JSON.stringify(st[column])}${skipped.length > 0 ? ` (undo said: ${skipped.map((s) => `${s.field ?? 'item'}: ${s.reason}`).join('; ')})` : ''}`,
			);
		}
	}
	if (problems.length > 0) throw new InvariantViolation(`after ${label} (INV-24):\n  ${problems.join('\n  ')}`);
	count(r, 'exact restore checked (no later edits)');
	r.figures.exactUndoFields += [...expected.values()].reduce((n, f) => n + f.size, 0);
}

/**
 * The undo steps a scenario may draw: the most recent sync run, or a recent one (of the last four) that changed a
 * value (most runs of a scenario are re-runs that change nothing, or the first full run that only creates).
 */
export function undoArbitraries(): fc.Arbitrary<Cmd>[] {
	const driver = fc.constantFrom(...DRIVERS);
	// Faults in one undo of three: INV-24's exact restore is checked on the others.
	const faults = fc.oneof({ weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) }, faultPlan);
	const recentChange = fc.tuple(fc.integer({ min: 0, max: 3 }), driver, faults).map(([n, d, f]) => new Undo(n, d, true, f));
	return [fc.tuple(driver, faults).map(([d, f]) => new Undo(0, d, false, f)), recentChange, recentChange];
}
