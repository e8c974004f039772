import { differingFields, patchBodyFromCanonical, pick, unpushableFields } from '../entities/canonical';
import { checkStRecord } from '../entities/validate';
import { markEngineWrites } from '../db/engine-session';
import { logChanges, logErrors, type ChangeLogEntry, type ErrorLogEntry } from '../db/ledger';
import { markPushInFlight, rebaseOnly, recordPushErrors, updateFromSt } from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import type { Pending } from './decide';
import type { StItem } from './prepare';
import type { RunScope } from './scope';
import { mapLimit } from '../util/map-limit';
import { stWrite } from './write';

/**
 * Sends local edits to ServiceTitan (only the fields that differ), then rebases each row from ServiceTitan's
 * answer. A rejected push (400) or an item gone meanwhile (404) is logged and the row stays pending with the
 * reason; anything else (ST down, auth) fails the run: the edit is still pending, nothing is lost.
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
	const rejected: { id: number; message: string }[] = [];
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
					error.kind === 'validation' ? `ServiceTitan rejected the push: ${error.message}${detail}` : 'ServiceTitan no longer has this item';
				rejected.push({ id: p.decision.id, message });
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

	const now = scope.now();
	const columns = def.fields.map((f) => f.column);
	const notApplied: { id: number; message: string }[] = [];
	const changes: ChangeLogEntry[] = [];
	await scope.t.tx('push-results', async (tx) => {
		await markEngineWrites(tx);
		const clean = answered.filter(({ p, answer }) => {
			const ignored = (p.decision.fields ?? []).filter(
				(f) => differingFields(def, { [f]: answer.canonical[f] }, { [f]: p.local!.current[f] }).length > 0,
			);
			if (ignored.length === 0) return true;
			const message = `ServiceTitan did not apply ${ignored.join(', ')} (answered with other values)`;
			notApplied.push({ id: p.decision.id, message });
			errors.push({ entityId: p.decision.id, kind: 'push_not_applied', message, details: { fields: ignored } });
			return false;
		});
		const written = new Set(
			await updateFromSt(
				tx,
				def.table,
				columns,
				clean.map(({ p, answer }) => stWrite(def, answer, p.local!.rowVersion)),
				now,
			),
		);
		// Edited again while the push was in flight, or partly ignored by ST: move the base only, keep the edit pending.
		const rebaseOnlyItems = answered.filter(({ answer }) => !written.has(answer.id)).map(({ answer }) => stWrite(def, answer));
		await rebaseOnly(tx, def.table, rebaseOnlyItems, now);
		await recordPushErrors(tx, def.table, [...rejected, ...notApplied]);
		for (const { p, answer } of clean) {
			const fields = p.decision.fields ?? [];
			changes.push({
				entityId: answer.id,
				action: 'pushed',
				before: Object.fromEntries(fields.map((f) => [f, p.st?.canonical[f] ?? null])),
				after: Object.fromEntries(fields.map((f) => [f, answer.canonical[f]])),
			});
		}
		await logChanges(tx, scope.runId, def.type, changes, now);
		await logErrors(tx, scope.runId, def.type, errors, now);
	});
	scope.tally.itemsPushed += changes.length;
	scope.tally.errors += errors.length;
	if (systemic) throw systemic;
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
		await recordPushErrors(tx, def.table, refused);
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
