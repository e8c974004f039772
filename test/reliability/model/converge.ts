import { markEngineWrites } from '../../../lib/db/engine-session';
import { canonicalFromRow, canonicalFromSt, differingFields } from '../../../lib/entities/canonical';
import { compareStTimestamps } from '../../../lib/servicetitan/timestamps';
import type { StRecord } from '../../../lib/servicetitan/types';
import type { Resolution } from '../../../lib/sync/resolve';
import { expectRerunChangesNothing, InvariantViolation, localEditOf, resolveStep, runSyncStep, type Real } from './commands';
import type { Driver } from './drivers';
import { rowCanonical, type Reference } from './reference';

async function fullSyncSucceeds(m: Reference, r: Real, driver: Driver, label: string): Promise<void> {
	// No faults now; a run may still lose a race with the machine's load (a 250 ms timeout), so allow retries.
	let last: string | undefined;
	for (let attempt = 0; attempt < 3; attempt++) {
		// An n8n execution that died holds its lease until it expires: wait that out (ServiceTitan's clock moves).
		const now = r.world.localNow();
		if (m.leaseLive(now)) r.world.sim.control.advanceClock(m.stagedLeaseUntil! - now);
		const result = await runSyncStep(m, r, { kind: 'full', driver, pick: 0, faults: { kind: 'none' }, confirmMassDelete: true }, label);
		if (result?.status === 'succeeded') return;
		last = result?.message ?? 'an n8n step failed';
	}
	throw new InvariantViolation(`${label}: a full sync without faults did not succeed: ${last}`);
}

/**
 * A person retries every held edit (a push ServiceTitan ignored or refused), as the operating guide says: clears
 * push_refused (an engine-role write), so the next run sends the values again.
 */
async function retryHeldEdits(m: Reference, r: Real): Promise<void> {
	const db = r.world.lane.t.db;
	const held = await db.tx(async (tx) => {
		await markEngineWrites(tx);
		const rows = await tx.any<{ id: number; push_refused: Record<string, unknown> }>(
			'SELECT id, push_refused FROM $1:name WHERE push_refused IS NOT NULL FOR UPDATE',
			[m.def.table],
		);
		await tx.none('UPDATE $1:name SET push_refused = NULL WHERE push_refused IS NOT NULL', [m.def.table]);
		return rows;
	});
	for (const row of held)
		m.localChange(Number(row.id), Object.keys(row.push_refused ?? {}), r.world.sim.control.requests.length, 'a person retried the held edit');
	r.figures.heldRetried += held.length;
}

/**
 * A person fills in the values a row holds empty that ServiceTitan cannot take (its push_error says to enter a
 * value in Retool): an undo restores an empty value that was there before the run, e.g. the display name of an
 * item ServiceTitan created without one. They enter ServiceTitan's value, as a Retool edit.
 */
async function fillEmptiedValues(m: Reference, r: Real): Promise<number> {
	let filled = 0;
	const rows = await r.world.lane.t.db.any("SELECT * FROM $1:name WHERE push_error LIKE '%cannot take an empty%' AND deleted_at IS NULL", [m.def.table]);
	for (const row of rows) {
		const id = Number(row.id);
		const item = r.world.sim.control.getItem(m.def.type, id);
		if (!item) continue;
		const local = rowCanonical(m.def, row);
		for (const field of m.fields)
			if (local[field.column] === null && item[field.st] !== null && item[field.st] !== undefined) {
				await localEditOf(m, r, id, field, item[field.st], false);
				r.figures.retool['emptied value filled in'] = (r.figures.retool['emptied value filled in'] ?? 0) + 1;
				filled += 1;
			}
	}
	return filled;
}

/**
 * The end of every scenario: faults off, a full sync, every open conflict resolved (each as the scenario
 * drew), held edits retried, a full sync again. Then local and ServiceTitan must agree exactly, nothing may be owed, and a
 * re-run must change nothing.
 */
export async function converge(m: Reference, r: Real, decisions: readonly Resolution[], driver: Driver): Promise<void> {
	const db = r.world.lane.t.db;
	// Faults off, and ServiceTitan now stores every PATCH as sent.
	r.tenant = undefined;
	await fullSyncSucceeds(m, r, driver, `Converge: full sync (${driver})`);
	for (let round = 0; round < 40; round++) {
		const open = await db.one<{ n: number }>("SELECT count(*)::int AS n FROM sync_conflicts WHERE status = 'open' AND entity_type = $1", [m.def.type]);
		if (open.n === 0) break;
		const decision = decisions[round % decisions.length];
		const outcome = await resolveStep(m, r, 0, decision, round, `Converge: resolve (${decision})`);
		// ServiceTitan cannot restore a deleted item: accepting the delete is the only way left.
		if (outcome === 'refused (gone_in_st)') await resolveStep(m, r, 0, 'use_st', 0, 'Converge: resolve (use_st after gone_in_st)');
		if (round % 5 === 4) await fullSyncSucceeds(m, r, driver, `Converge: full sync between resolutions (${driver})`);
	}
	// A person puts back what a malformed value they wrote replaced (the full sync above went on with it in place).
	for (const [id, bad] of m.malformed) {
		await db.none('UPDATE $1:name SET $2:name = $3::jsonb WHERE id = $4', [m.def.table, bad.column, JSON.stringify(bad.restore), id]);
		m.malformed.delete(id);
	}
	await retryHeldEdits(m, r);
	await fillEmptiedValues(m, r);
	await fullSyncSucceeds(m, r, driver, `Converge: full sync after resolving (${driver})`);
	// A held edit retried above may carry an empty value ServiceTitan cannot take: its push_error says so only once
	// that run refused it (a held row's push_error names the hold, and retrying cleared it). The person fills it in
	// as asked, and a full sync delivers the row's edits.
	if ((await fillEmptiedValues(m, r)) > 0) await fullSyncSucceeds(m, r, driver, `Converge: full sync after filling in emptied values (${driver})`);
	await expectRerunChangesNothing(m, r, 'full', driver, `Converge (${driver})`);
	await m.followRekeys(r.world);

	const problems: string[] = [];
	const stRecords: StRecord[] = [];
	for await (const page of r.world.observer.iteratePages(m.def.type, { active: 'Any', pageSize: 5000 })) stRecords.push(...(page.data as StRecord[]));
	const rows = await db.any('SELECT * FROM $1:name', [m.def.table]);
	const local = new Map(rows.map((row) => [Number(row.id), row]));
	const open = await db.any("SELECT entity_id FROM sync_conflicts WHERE status = 'open'");
	if (open.length > 0) problems.push(`conflicts still open after resolving all: ${open.map((c) => c.entity_id).join(', ')}`);
	for (const record of stRecords) {
		const row = local.get(record.id);
		// A person's soft delete is the item deactivated in ServiceTitan (INV-22); any other soft-deleted row of a live
		// item is a delete the sync got wrong.
		if (!row || (row.deleted_at && (row.deleted_in_st || record.active !== false))) {
			problems.push(
				`ST item ${record.id} is ${row ? `soft-deleted locally${record.active !== false ? ' but active in ServiceTitan' : ''}` : 'missing locally'}`,
			);
			continue;
		}
		const differ = differingFields(m.def, canonicalFromRow(m.def, row), canonicalFromSt(m.def, record));
		if (differ.length > 0) problems.push(`item ${record.id} differs between local and ST: ${differ.join(', ')}`);
		if (row.sync_status !== 'synced') problems.push(`item ${record.id} is ${row.sync_status} after converging`);
	}
	const stIds = new Set(stRecords.map((x) => x.id));
	const heldInsert = (row: Record<string, unknown>) => Number(row.id) < 0 && !row.deleted_at;
	// A soft-deleted row of an item gone from ServiceTitan: the sync's delete (deleted_in_st), or a person's still on
	// the row (also when a ServiceTitan user reactivated the item before deleting it, and no run saw the reactivation).
	const personDelete = (id: number) => m.personDeleted.has(id) || m.personDeleteOnRow.has(id);
	for (const row of rows)
		if (!stIds.has(Number(row.id)) && !heldInsert(row) && (!row.deleted_at || (!row.deleted_in_st && !personDelete(Number(row.id)))))
			problems.push(`row ${row.id} is gone from ST but not soft-deleted as deleted in ST`);
	const stById = new Map(stRecords.map((x) => [x.id, x]));
	// INV-20: every row a person inserted is one local row under ServiceTitan's id, or still waiting for what
	// ServiceTitan requires, with the reason.
	for (const ins of m.inserts) {
		const same = rows.filter((row) => row.code === ins.code);
		if (same.length !== 1)
			problems.push(`${same.length} local rows hold the code ${ins.code} inserted in Retool as ${ins.tempId}: ${same.map((x) => x.id).join(', ')}`);
		const row = local.get(ins.id);
		if (!row) continue; // reported after every step
		if (ins.id < 0) {
			const missing = !row.description;
			if (!missing)
				problems.push(
					`row ${ins.id} (code ${ins.code}), inserted in Retool with all ServiceTitan requires, was not created after converging (push_error ${JSON.stringify(row.push_error)})`,
				);
			else if (!row.push_error)
				problems.push(`row ${ins.id} (code ${ins.code}), inserted in Retool without a description, waits without a reason in push_error`);
		} else if (!stById.has(ins.id) && ins.stDeletes === 0) {
			problems.push(`row ${ins.id} (code ${ins.code}), inserted in Retool, has no item in ServiceTitan`);
		}
	}
	// INV-22: a row a person soft-deleted, and nobody reactivated, is deactivated in ServiceTitan (or gone there).
	for (const id of m.personDeleted.keys()) {
		const record = stById.get(id);
		if (record && record.active !== false) problems.push(`row ${id}, soft-deleted by a person, is active in ServiceTitan after converging`);
	}
	const waiting = new Set(m.inserts.filter((i) => i.id < 0).map((i) => i.id));
	const { cursor_raw: cursor } = await db.one('SELECT cursor_raw FROM sync_state WHERE entity_type = $1', [m.def.type]);
	// ServiceTitan's newest stamp, or its clock when a stamp lies in its future (a clock that jumped ahead, or stepped
	// back since): the cursor is saved at most at that clock as its Date header reads it (whole seconds).
	const clockBound = new Date(Math.floor(r.world.sim.control.now() / 1000) * 1000).toISOString();
	const newest = stRecords
		.map((x) => String(x.modifiedOn))
		.map((s) => (compareStTimestamps(s, clockBound) > 0 ? clockBound : s))
		.sort(compareStTimestamps)
		.pop();
	if (newest && (!cursor || compareStTimestamps(cursor, newest) < 0)) problems.push(`cursor ${cursor} is behind ST's newest change ${newest}`);
	// The values of a row still waiting to be created are owed, held on the row (INV-20 above).
	// A row a person soft-deleted whose item ServiceTitan deleted too: gone on both sides, its deactivation is moot.
	const goneBoth = (id: number) => !stIds.has(id) && !!local.get(id)?.deleted_at;
	const owed = m.edits
		.filter((e) => !waiting.has(e.id) && !(e.side === 'local' && goneBoth(e.id)))
		.map((e) => `${e.side} edit of ${e.id}.${e.field.column} = ${JSON.stringify(e.value)}`);
	if (owed.length > 0) problems.push(`edits neither applied nor settled after converging: ${owed.join('; ')}`);
	if (problems.length > 0) throw new InvariantViolation(`after converging:\n  ${problems.join('\n  ')}`);
	r.figures.converged += 1;
}
