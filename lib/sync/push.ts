import { canonicalFromRow, patchBodyFromCanonical, pick, rowValuesFromCanonical, sameContent, unpushableFields } from '../entities/canonical';
import type { CanonicalRecord } from '../entities/types';
import { checkStRecord } from '../entities/validate';
import { markEngineWrites } from '../db/engine-session';
import { logChanges, logErrors, type ChangeLogEntry, type ErrorLogEntry } from '../db/ledger';
import {
	markPushInFlight,
	readSyncRowsByIds,
	rebaseOnly,
	recordPushErrors,
	recordPushRefused,
	updateFromSt,
	type StWrite,
	type Task,
} from '../db/pricebook-store';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import { isStApiError } from '../servicetitan/errors';
import { processBatch } from './apply';
import type { Pending } from './decide';
import { prepareStItems } from './prepare';
import { pushOutcome, pushReceipt, verifyPush, type PushVerdict } from './verify-push';
import type { StItem } from './prepare';
import type { RunScope } from './scope';
import { Tally } from './tally';
import { mapLimit } from '../util/map-limit';
import { stWrite } from './write';

/**
 * Sends local edits to ServiceTitan (only the fields that differ), reads back what it stored and settles each row
 * from that (verify-push.ts). A rejected push (400) or a field ServiceTitan kept its own value for is held: the row
 * stays pending with the reason and the same values are not sent again until it is edited or a person retries. An
 * item gone meanwhile (404) is logged and left pending; anything else (ST down) fails the run: the edit is still
 * pending, nothing is lost.
 */
export async function pushAll(scope: RunScope, all: readonly Pending[]): Promise<void> {
	if (all.length === 0) return;
	const { def } = scope;
	const candidates = await refuseUnpushable(scope, all);
	const versions = await scope.t.tx('push-in-flight', async (tx) => {
		await markEngineWrites(tx);
		return markPushInFlight(
			tx,
			def.table,
			candidates.map((p) => ({ id: p.decision.id, rowVersion: p.local!.rowVersion, values: pick(p.local!.current, p.decision.fields ?? []) })),
		);
	});
	// Edited again since the batch read it: left pending for the next run, which decides on the new edit.
	const pushes = candidates
		.filter((p) => versions.has(p.decision.id))
		.map((p) => ({ ...p, local: { ...p.local!, rowVersion: versions.get(p.decision.id)! } }));
	const answered: { p: Pending; answer: StItem }[] = [];
	// A 400 is ServiceTitan's definite no to exactly these values: held like an ignored field (not sent again until
	// the row is edited or a person retries). A 404 (gone meanwhile) is left to the listing that will show it.
	const rejected: { id: number; message: string; refused: Record<string, unknown>; st: StItem | null }[] = [];
	const missing: { id: number; message: string }[] = [];
	const errors: ErrorLogEntry[] = [];
	let systemic: unknown;
	// An app without write scope: every push would get the same 403, so after the first none is sent.
	let forbidden: string | undefined;
	const notSent: Pending[] = [];
	await mapLimit(pushes, scope.pushConcurrency, async (p) => {
		if (systemic) return;
		if (forbidden) {
			notSent.push(p);
			return;
		}
		const local = p.local!;
		const fields = p.decision.fields ?? [];
		const body = patchBodyFromCanonical(def, local.current, fields);
		try {
			const response = await scope.st.patch(def.type, p.decision.id, body);
			const check = checkStRecord(def, response);
			if (!check.ok)
				throw new Error(`ServiceTitan answered the push of ${def.singular} ${p.decision.id} with an invalid record: ${check.problems.join('; ')}`);
			answered.push({ p, answer: { id: check.id, record: response, canonical: check.canonical, modifiedOn: check.modifiedOn } });
		} catch (error) {
			if (isStApiError(error) && (error.kind === 'validation' || error.kind === 'not_found')) {
				const detail = error.errors ? ` ${JSON.stringify(error.errors)}` : '';
				const message =
					error.kind === 'validation'
						? `ServiceTitan rejected the push: ${error.message}${detail}; the edit is held until the row is edited again or a person retries it`
						: 'ServiceTitan no longer has this item';
				if (error.kind === 'validation') rejected.push({ id: p.decision.id, message, refused: pick(local.current, fields), st: p.st });
				else missing.push({ id: p.decision.id, message });
				errors.push({
					entityId: p.decision.id,
					kind: error.kind === 'validation' ? 'push_rejected' : 'push_target_missing',
					message,
					details: { fields, errors: error.errors },
				});
			} else if (isStApiError(error) && error.kind === 'forbidden') {
				forbidden ??= error.message;
				notSent.push(p);
			} else {
				systemic ??= error;
			}
		}
	});
	if (forbidden) await recordForbidden(scope, notSent, forbidden);

	// What ServiceTitan stored, read back by id: its PATCH answer alone is no proof (it may echo a value it dropped).
	const stored = await readBack(
		scope,
		answered.map(({ p }) => p.decision.id),
	);
	const now = scope.now();
	const columns = def.fields.map((f) => f.column);
	const clean: { p: Pending; st: StItem; verdict: PushVerdict }[] = [];
	const refused: { p: Pending; st: StItem; verdict: PushVerdict }[] = [];
	const redecide: { id: number; st: StItem | null }[] = [];
	for (const { p } of answered) {
		const st = stored.get(p.decision.id) ?? null;
		const verdict = st && verifyPush(def, p.decision.fields ?? [], p.local!.current, p.st!.canonical, st.canonical);
		// Gone meanwhile, or someone else changed it in ServiceTitan while ours was under way: decided again below,
		// three-way against the base from before the push (what landed counts as our own echo through push_in_flight).
		if (!st || !verdict || verdict.elsewhere.length > 0) redecide.push({ id: p.decision.id, st });
		else if (verdict.ignored.length > 0) refused.push({ p, st, verdict });
		else clean.push({ p, st, verdict });
	}
	const changes: ChangeLogEntry[] = [];
	const refusals: { id: number; message: string; refused: Record<string, unknown> }[] = [];
	await scope.t.tx('push-results', async (tx) => {
		await markEngineWrites(tx);
		// A row written while the push was under way whose synced values are still the ones pushed (an UPDATE that
		// changed nothing, or changed a column that is not synced) was not edited: it takes the answer like an unmoved
		// row. Otherwise it would keep the pushed value while the base took ServiceTitan's form, and the next run would
		// send the same body again.
		const versionNow = await unchangedVersions(
			tx,
			def,
			[...clean, ...refused].map(({ p }) => p),
		);
		const rowVersionOf = (p: Pending) => versionNow.get(p.decision.id) ?? p.local!.rowVersion;
		const written = new Set(
			await updateFromSt(
				tx,
				def.table,
				columns,
				[
					...clean.map(({ p, st }) => stWrite(def, st, rowVersionOf(p))),
					// Held: the row also takes what ServiceTitan stored (a normalized field in its form, as the base does),
					// except the fields it did not apply, which keep their values; recordPushRefused marks it pending again.
					// Without this the row would differ from ServiceTitan in the normalized field too, and the next run
					// would send the same body again, every run.
					...refused.map(({ p, st, verdict }) => heldWrite(def, st, p.local!.current, verdict.ignored, rowVersionOf(p))),
				],
				now,
			),
		);
		// Edited again while the push was under way: only the base moves, the newer edit stays pending. A rejected
		// push (nothing stored) moves the base to what ServiceTitan held when the push was decided: that is the base
		// the push was decided on (an earlier push of ours whose answer was lost counts as ours there), and it must
		// outlive push_in_flight, which this push replaced, or that earlier push would next read as an edit in
		// ServiceTitan and conflict with the held one.
		await rebaseOnly(
			tx,
			def.table,
			[...[...clean, ...refused].filter(({ st }) => !written.has(st.id)).map(({ st }) => st), ...rejected.flatMap(({ st }) => (st ? [st] : []))].map(
				(st) => stWrite(def, st),
			),
			now,
		);
		for (const { p, st, verdict } of refused) {
			const fields = verdict.ignored;
			const message = `ServiceTitan did not apply ${fields.join(', ')} (it kept its own value); the edit is held until the row is edited again or a person retries it`;
			refusals.push({ id: p.decision.id, message, refused: pick(p.local!.current, fields) });
			if (p.local!.pushError !== message) errors.push({ entityId: p.decision.id, kind: 'push_not_applied', message, details: { fields } });
			// The fields that did land changed ServiceTitan: the change log says so, with what happened to each field.
			changes.push(pushChange(p, st, verdict, 'push_not_applied'));
			scope.tally.pushes.ignored += 1;
		}
		await recordPushRefused(tx, def.table, [...refusals, ...rejected]);
		await recordPushErrors(tx, def.table, missing);
		for (const { p, st, verdict } of clean) {
			changes.push(pushChange(p, st, verdict, 'pushed'));
			scope.tally.pushes[pushOutcome(verdict)] += 1;
			if (verdict.normalized.length > 0)
				scope.log('info', `${def.singular} ${st.id}: ServiceTitan stored ${verdict.normalized.join(', ')} in its own form; adopted locally`);
		}
		await logChanges(tx, scope.runId, def.type, changes, now);
		await logErrors(tx, scope.runId, def.type, errors, now);
	});
	if (redecide.length > 0) {
		// These items are already counted in this run's summary (as the push decided): the second decision adds only
		// what it did (conflicts opened, ServiceTitan's values taken, errors), never a second category count.
		const again = new Tally(false);
		await processBatch({ ...scope, tally: again }, redecide, { push: false });
		scope.tally.itemsSynced += again.itemsSynced;
		scope.tally.conflictsDetected += again.conflictsDetected;
		scope.tally.errors += again.errors;
	}
	scope.tally.itemsPushed += clean.length;
	scope.tally.errors += errors.length;
	if (systemic) throw systemic;
}

/** A verified push in the change log: ServiceTitan's values before and as stored, and the per-field receipt. */
function pushChange(p: Pending, st: StItem, verdict: PushVerdict, action: 'pushed' | 'push_not_applied'): ChangeLogEntry {
	const fields = p.decision.fields ?? [];
	return {
		entityId: st.id,
		action,
		before: Object.fromEntries(fields.map((f) => [f, p.st?.canonical[f] ?? null])),
		// As ServiceTitan stored it: a normalized field shows its form, which the local row adopted.
		after: Object.fromEntries(fields.map((f) => [f, st.canonical[f]])),
		receipt: pushReceipt(fields, p.local!.current, st.canonical, verdict),
	};
}

/**
 * Edits ServiceTitan cannot take are refused before anything is sent: an emptied field its update request has no
 * null for. The row stays pending with the reason (Retool shows it), the error log names the item and field once
 * (not again every run while the row is unchanged), and the rest of the batch goes on. Returns the others.
 */
async function refuseUnpushable(scope: RunScope, candidates: readonly Pending[]): Promise<Pending[]> {
	const { def } = scope;
	const refused: { id: number; message: string; fields: string[]; logged: boolean }[] = [];
	const sendable = candidates.filter((p) => {
		const bad = unpushableFields(def, p.local!.current, p.decision.fields ?? []);
		if (bad.length === 0) return true;
		const names = bad.map((f) => f.column).join(', ');
		const message = `${def.singular} ${p.decision.id}: ServiceTitan cannot take an empty ${names}; enter a value in Retool (nothing was sent)`;
		refused.push({ id: p.decision.id, message, fields: bad.map((f) => f.column), logged: p.local!.pushError === message });
		return false;
	});
	if (refused.length === 0) return sendable;
	const errors: ErrorLogEntry[] = refused
		.filter((r) => !r.logged)
		.map((r) => ({ entityId: r.id, kind: 'push_refused_empty_value', message: r.message, details: { fields: r.fields } }));
	scope.log('warn', `${refused.length} ${def.type} edit(s) not pushed: ServiceTitan cannot take an empty value`, { ids: refused.map((r) => r.id) });
	await scope.t.tx('push-refused', async (tx) => {
		await markEngineWrites(tx);
		// A row already holding this reason is left as it is: rewriting it every run would move its row version
		// (a re-run must change nothing, and a Retool save or push of the row would start over for nothing).
		await recordPushErrors(
			tx,
			def.table,
			refused.filter((r) => !r.logged),
		);
		await logErrors(tx, scope.runId, def.type, errors, scope.now());
	});
	scope.tally.errors += errors.length;
	return sendable;
}

/** The push-error text of an edit ServiceTitan's app may not write; status.ts recognizes rows by its start. */
export const PUSH_FORBIDDEN = 'push forbidden';

/**
 * ServiceTitan answered 403 to a push: the app lacks write scope. Reads and the rest of the run go on; each edit
 * stays pending with the reason (and is tried again next run, so granting the scope is all it takes), logged once
 * per item while its row is unchanged.
 */
async function recordForbidden(scope: RunScope, edits: readonly Pending[], reason: string): Promise<void> {
	const { def } = scope;
	const message = `${PUSH_FORBIDDEN}: ${reason}`;
	const errors: ErrorLogEntry[] = edits
		.filter((p) => p.local!.pushError !== message)
		.map((p) => ({ entityId: p.decision.id, kind: 'push_forbidden', message, details: { fields: p.decision.fields ?? [] } }));
	scope.log('warn', `${edits.length} ${def.type} edit(s) not pushed: ${reason}`, { ids: edits.map((p) => p.decision.id) });
	await scope.t.tx('push-forbidden', async (tx) => {
		await markEngineWrites(tx);
		await recordPushErrors(
			tx,
			def.table,
			edits.map((p) => ({ id: p.decision.id, message })),
		);
		await logErrors(tx, scope.runId, def.type, errors, scope.now());
	});
	scope.tally.errors += errors.length;
}

/** ServiceTitan's version of a held push's item, with the values it did not apply (`fields`) kept as they are locally. */
function heldWrite(def: RunScope['def'], st: StItem, current: CanonicalRecord, fields: readonly string[], rowVersion: number): StWrite {
	const write = stWrite(def, st, rowVersion);
	return { ...write, values: rowValuesFromCanonical(def, { ...st.canonical, ...pick(current, fields) }) };
}

/** The current row version of each pushed row that moved since it was read but still holds the pushed values. */
async function unchangedVersions(tx: Task, def: RunScope['def'], pushed: readonly Pending[]): Promise<Map<number, number>> {
	const out = new Map<number, number>();
	if (pushed.length === 0) return out;
	const rows = await readSyncRowsByIds(
		tx,
		def,
		pushed.map((p) => p.decision.id),
	);
	const byId = new Map(rows.map((r) => [Number(r.id), r]));
	for (const p of pushed) {
		const row = byId.get(p.decision.id);
		if (!row || Number(row.row_version) === p.local!.rowVersion) continue;
		try {
			if (sameContent(def, canonicalFromRow(def, row), p.local!.current)) out.set(p.decision.id, Number(row.row_version));
		} catch {
			// A value the sync cannot read: edited since, decided again next run.
		}
	}
	return out;
}

/** ServiceTitan's current records of `ids` (50 per call), validated; an id it no longer has is absent. */
async function readBack(scope: RunScope, ids: readonly number[]): Promise<Map<number, StItem>> {
	const out = new Map<number, StItem>();
	for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
		const records = await scope.st.getByIds(scope.def.type, ids.slice(i, i + MAX_IDS_PER_REQUEST));
		for (const item of await prepareStItems(scope, records)) out.set(item.id, item);
	}
	return out;
}
