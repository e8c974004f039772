import { canonicalFromRow, differingFields, FieldValueError, patchBodyFromCanonical, pick, rowValuesFromCanonical, sameContent } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import { markEngineWrites } from '../db/engine-session';
import { logChanges, logErrors, type ErrorLogEntry } from '../db/ledger';
import {
	lockCopyOfCreated,
	createsInFlightIds,
	holdLocalCreate,
	localCreateIds,
	lockLocalCreate,
	markCreateInFlight,
	readLocalCreate,
	writeBackCreated,
} from '../db/local-creates';
import { recordSeen, type StoredRow } from '../db/pricebook-store';
import { isStApiError } from '../servicetitan/errors';
import type { StRecord } from '../servicetitan/types';
import { processBatch } from './apply';
import { Tally } from './tally';
import { prepareStItems, type StItem } from './prepare';
import { compareStTimestamps } from '../servicetitan/timestamps';
import type { RunScope } from './scope';
import { pushOutcome, pushReceipt, verifyPush } from './verify-push';
import { stWrite } from './write';

/**
 * Rows a person inserted in Retool become items in ServiceTitan (docs/design.md, "Rows created in Retool").
 *
 * Each row waits under a temporary negative id. Its create is checked first (the fields ServiceTitan requires; no
 * reference to another row not created yet), marked as sent, POSTed, read back, and ServiceTitan's id is written
 * back in one transaction. A run that dies after the POST leaves the mark: the next run looks the item up (by code,
 * or a category by name) before it would send again, so no item is created twice. A refused create keeps the row
 * with the reason, held like a refused push until the row is edited or a person retries.
 */

/** What ServiceTitan's create request requires (its OpenAPI document: code and description, or a category's name and type). */
export const CREATE_REQUIRES: Readonly<Record<EntityDefinition['type'], readonly string[]>> = {
	services: ['code', 'description'],
	materials: ['code', 'description'],
	equipment: ['code', 'description'],
	categories: ['name', 'category_type'],
};

/**
 * A look-up after a lost answer adopts only items created this recently before the create was sent. `sentAt` is
 * read from ServiceTitan's own clock (the Date header of its answer just before the POST), which stamps createdOn:
 * our clock may be hours off its clock, and an item missed so would be created twice.
 */
const LOOKUP_MARGIN_MS = 60 * 60 * 1000;

/** What push_in_flight holds for a create: the values sent, and when (ServiceTitan's clock, else ours). */
interface CreateInFlight {
	create: CanonicalRecord;
	sentAt: string;
}

/** Creates every waiting row of the scope's type (or just `only`); a failure that is not the row's own fails the run. */
export async function createLocalItems(scope: RunScope, only: readonly number[] | null = null): Promise<void> {
	const { def } = scope;
	const state: { forbidden?: string } = {};
	for (let before = 0; ;) {
		const ids = await localCreateIds(scope.t, def.table, before, 100, only);
		if (ids.length === 0) return;
		before = ids[ids.length - 1];
		for (const id of ids) {
			// Read again right before its create: an earlier create of this run may have re-pointed its references.
			const row = await readLocalCreate(scope.t, def, id);
			if (row && row.sync_status === 'pending_push' && row.deleted_at === null) await createOne(scope, row, state);
		}
	}
}

/**
 * Before a run lists anything: every create whose answer was lost is looked up, and what ServiceTitan made is
 * written back under its id. Otherwise the listing would bring the item in as a second row, which people could edit
 * (or soft-delete) before it is folded into theirs, and those edits would be lost in the fold. One not found stays
 * marked; the run's create step sends it again after its listing.
 */
export async function settleCreatesInFlight(scope: RunScope): Promise<void> {
	if (scope.dryRun) return;
	const { def } = scope;
	for (const id of await createsInFlightIds(scope.t, def.table)) {
		const row = await readLocalCreate(scope.t, def, id);
		const inFlight = row?.push_in_flight as CreateInFlight | null | undefined;
		if (!row || !inFlight?.create) continue;
		let current: CanonicalRecord;
		try {
			current = canonicalFromRow(def, row);
		} catch (error) {
			if (error instanceof FieldValueError) continue; // the create step holds it with the reason
			throw error;
		}
		const found = await findCreated(scope, inFlight.create, inFlight);
		if (found) await recordFound(scope, row, current, inFlight, found, true);
	}
}

/**
 * An item an earlier create made, found by look-up: verified against what that create sent. The row takes
 * ServiceTitan's forms only if nobody edited it since; an edit made since stays on the row, pending against the new
 * base, like any edit.
 */
async function recordFound(
	scope: RunScope,
	row: StoredRow,
	current: CanonicalRecord,
	inFlight: CreateInFlight,
	found: StItem,
	beforeListing: boolean,
): Promise<void> {
	const unchanged = sameContent(scope.def, current, inFlight.create);
	await recordCreated(scope, row, inFlight.create, unchanged ? Number(row.row_version) : -1, found, { foundByLookup: true, beforeListing });
}

async function createOne(scope: RunScope, row: StoredRow, state: { forbidden?: string }): Promise<void> {
	const { def } = scope;
	const id = Number(row.id);
	let current: CanonicalRecord;
	try {
		current = canonicalFromRow(def, row);
	} catch (error) {
		if (!(error instanceof FieldValueError)) throw error;
		// Not the person's final word (a reference to a row created later, a value to correct): tried again next run.
		return hold(scope, row, `${def.singular} ${id} cannot be created in ServiceTitan yet: ${error.message}`, null, 'create_waiting');
	}
	const refused = row.push_refused as CanonicalRecord | null;
	if (refused && sameContent(def, current, refused)) return;
	const missing = CREATE_REQUIRES[def.type].filter((c) => current[c] === null || current[c] === '');
	if (missing.length > 0) {
		const message = `ServiceTitan needs ${missing.join(' and ')} to create a ${def.singular}: fill ${missing.length > 1 ? 'them' : 'it'} in (nothing was sent)`;
		return hold(scope, row, message, current, 'create_refused_missing_fields');
	}
	if (scope.dryRun) {
		scope.tally.count({ id, category: 'modifiedLocalOnly', action: 'push', reason: 'created locally: would be created in ServiceTitan' });
		return;
	}
	if (state.forbidden) return hold(scope, row, state.forbidden, null, null);

	const inFlight = row.push_in_flight as CreateInFlight | null;
	if (inFlight?.create) {
		const found = await findCreated(scope, inFlight.create, inFlight);
		if (found) return recordFound(scope, row, current, inFlight, found, false);
	}
	// Marked before sending, with ServiceTitan's clock (the look-up after a lost answer compares createdOn with it).
	const fields = def.fields.filter((f) => current[f.column] !== null).map((f) => f.column);
	const stNow = await scope.st.serverNow(def.type);
	const sent: CreateInFlight = { create: current, sentAt: (stNow ?? scope.now()).toISOString() };
	const marked = await scope.t.tx('create-in-flight', async (tx) => {
		await markEngineWrites(tx);
		return markCreateInFlight(tx, def.table, id, Number(row.row_version), sent);
	});
	if (marked === null) return; // edited meanwhile: the next run creates it as it is then
	let answer: StRecord;
	try {
		answer = await scope.st.create(def.type, patchBodyFromCanonical(def, current, fields));
	} catch (error) {
		if (isStApiError(error) && error.kind === 'validation') {
			const detail = error.errors ? ` ${JSON.stringify(error.errors)}` : '';
			return hold(
				scope,
				row,
				`ServiceTitan refused to create it: ${error.message}${detail}; fix the row (or retry) and it is sent again`,
				current,
				'create_rejected',
			);
		}
		if (isStApiError(error) && error.kind === 'forbidden') {
			state.forbidden = `create forbidden: ${error.message}`;
			return hold(scope, row, state.forbidden, null, null);
		}
		// The answer may be lost with the item created: the mark stays, the next run looks it up first.
		throw error;
	}
	const created = await readBack(scope, answer);
	if (!created) throw new Error(`ServiceTitan created ${def.singular} ${String(answer.id)} but its record is invalid (see the error log)`);
	await recordCreated(scope, row, current, marked, created, { foundByLookup: false, beforeListing: false });
}

/**
 * ServiceTitan's record shows a change after its creation (modifiedOn other than createdOn, or no stamps to tell). For an
 * item found by look-up after a lost answer, a field that differs from what was sent may then be a ServiceTitan
 * user's edit made since, not a value ServiceTitan refused on create.
 */
function changedSinceCreated(st: StItem): boolean {
	const { createdOn, modifiedOn } = st.record as { createdOn?: unknown; modifiedOn?: unknown };
	if (typeof createdOn !== 'string' || typeof modifiedOn !== 'string') return true;
	// Any other stamp than the creation's is a change: after ServiceTitan's clock stepped back, a later edit can even
	// carry a stamp before createdOn.
	return compareStTimestamps(modifiedOn, createdOn) !== 0;
}

/** What ServiceTitan stores for the created item, read back by id (its POST answer may show what it did not keep). */
async function readBack(scope: RunScope, answer: StRecord): Promise<StItem | undefined> {
	const id = answer.id;
	const stored = typeof id === 'number' ? await scope.st.get(scope.def.type, id) : null;
	return (await prepareStItems(scope, [stored ?? answer]))[0];
}

/**
 * The item an earlier create of this row made, if ServiceTitan has it: by code (ServiceTitan's text search, then the
 * exact code), created around when the create was sent; a category by name, type and parent.
 */
async function findCreated(scope: RunScope, current: CanonicalRecord, inFlight: CreateInFlight): Promise<StItem | null> {
	const { def } = scope;
	const records: StRecord[] = [];
	if (def.type === 'categories') {
		for await (const page of scope.st.iteratePages(def.type, { pageSize: 5000, active: 'Any' })) records.push(...page.data);
	} else {
		const page = await scope.st.listPage(def.type, { page: 1, pageSize: 50, active: 'Any', searchText: String(current.code) });
		records.push(...page.data);
	}
	const since = Date.parse(inFlight.sentAt) - LOOKUP_MARGIN_MS;
	const items = (await prepareStItems(scope, records)).filter((item) => {
		const c = item.canonical;
		if (def.type === 'categories') return c.name === current.name && c.category_type === current.category_type && c.parent_id === current.parent_id;
		const createdOn = Date.parse(String(item.record.createdOn ?? ''));
		return c.code === current.code && (!Number.isFinite(createdOn) || createdOn >= since);
	});
	// Several matches: the newest is the one most recently created (ids grow).
	return items.sort((a, b) => b.id - a.id)[0] ?? null;
}

/** ServiceTitan's id written back, with what it stored: a field it normalized is adopted, one it did not take is held. */
/**
 * `foundByLookup`: the item was found after a lost answer, not answered to our POST. `beforeListing`: written back
 * before the run lists anything; the listing (or, for an item it does not list, the re-read of pending rows) then
 * decides and counts the item like any other, pushing an edit made since and opening a conflict where one is due.
 */
async function recordCreated(
	scope: RunScope,
	row: StoredRow,
	current: CanonicalRecord,
	version: number,
	st: StItem,
	{ foundByLookup, beforeListing }: { foundByLookup: boolean; beforeListing: boolean },
): Promise<void> {
	const { def } = scope;
	const temporaryId = Number(row.id);
	const sent = def.fields.filter((f) => current[f.column] !== null).map((f) => f.column);
	// Fields not sent (empty locally) take ServiceTitan's defaults: they were no one's edit. A sent field stored neither
	// as sent nor in an equivalent form was not taken (there is no earlier ServiceTitan value to tell "ignored" from
	// "changed by someone else" for a new item).
	const unsent = def.fields.map((f) => f.column).filter((c) => !sent.includes(c));
	const checked = verifyPush(def, sent, current, { ...current, ...pick(st.canonical, unsent) }, st.canonical);
	const differing = [...checked.ignored, ...checked.elsewhere];
	// Found by look-up and changed in ServiceTitan since it was created: which differing field ServiceTitan did not take
	// and which a ServiceTitan user edited since cannot be told. Neither side is taken over the other: the row keeps the
	// person's values with no base, and the ordinary comparison below opens a conflict for a person to decide.
	const uncertain = foundByLookup && differing.length > 0 && changedSinceCreated(st);
	const ignored = uncertain ? [] : differing;
	const verdict = uncertain ? { ...checked, elsewhere: differing, ignored: [] } : { ...checked, ignored, elsewhere: [] };
	const heldMessage =
		ignored.length > 0
			? `ServiceTitan created the item but did not take ${ignored.join(', ')}; held until the row is edited again or a person retries it`
			: null;
	const columns = def.fields.map((f) => f.column);
	const now = scope.now();
	const counted = await scope.t.tx('created-in-st', async (tx) => {
		await markEngineWrites(tx);
		// The row as it is now: a field a person changed since the create was sent keeps their value (pending against
		// the new base, like any edit); every other field takes ServiceTitan's form, except those it did not take.
		const locked = await lockLocalCreate(tx, def, temporaryId);
		let local: CanonicalRecord | null = null;
		try {
			local = locked && Number(locked.row_version) === version ? current : locked ? canonicalFromRow(def, locked) : null;
		} catch (error) {
			if (!(error instanceof FieldValueError)) throw error;
		}
		const editedSince = local ? differingFields(def, local, current) : columns;
		const held = ignored.length > 0 ? pick(current, ignored) : null;
		// Uncertain: only the fields that differ stay the person's (and become the conflict); fields they left empty take
		// ServiceTitan's defaults like any create, so the conflict is about what someone actually chose.
		const keptLocal = uncertain ? [...new Set([...differing, ...editedSince])] : editedSince;
		// A run may have brought the item in under its own id meanwhile (a change webhook's entity run) and a person
		// may have edited that copy: the copy is folded into this row, and its edits stay, pending like any edit.
		const copy = editsOnCopy(def, await lockCopyOfCreated(tx, def.table, st.id));
		const values = !local ? null : rowValuesFromCanonical(def, { ...st.canonical, ...(held ?? {}), ...pick(local, keptLocal), ...copy.values });
		const synced = !uncertain && values !== null && held === null && editedSince.length === 0 && !copy.edited;
		await writeBackCreated(
			tx,
			def,
			columns,
			{ temporaryId, st: stWrite(def, st), values, synced, held, heldMessage, unknownBase: uncertain, deletedAt: copy.deletedAt },
			now,
		);
		await logChanges(
			tx,
			scope.runId,
			def.type,
			[
				{
					entityId: st.id,
					action: 'created_in_st',
					// The copy a run brought in meanwhile, as it was before it was folded into this row.
					before: { temporaryId, ...(copy.row ? { foldedCopy: copy.row } : {}) },
					after: st.canonical,
					receipt: pushReceipt(sent, current, st.canonical, verdict),
				},
			],
			now,
		);
		if (heldMessage)
			await logErrors(
				tx,
				scope.runId,
				def.type,
				[{ entityId: st.id, kind: 'create_not_applied', message: heldMessage, details: { fields: ignored } }],
				now,
			);
		if (beforeListing) return false;
		// A run counts each item once: this run's listing may already have brought the item in (and counted it) when
		// an earlier create's answer was lost; the copy it made is the row folded in above.
		return scope.runId === null || (await recordSeen(tx, scope.runId, [st.id])).length > 0;
	});
	scope.log('info', `${def.singular} ${temporaryId} created in ServiceTitan as ${st.id}`);
	if (beforeListing) return;
	if (uncertain) {
		// Decided (and counted) like any item now that it has ServiceTitan's id: local edit, no base, ServiceTitan
		// different, so a conflict with both versions.
		// Already counted when this run's listing brought the item in: decided here all the same, counted once.
		const tally = counted ? scope.tally : new Tally(false);
		await processBatch({ ...scope, tally }, [{ id: st.id, st }], { push: false });
		if (!counted) {
			scope.tally.conflictsDetected += tally.conflictsDetected;
			scope.tally.errors += tally.errors;
		}
		return;
	}
	if (counted)
		scope.tally.count({
			id: st.id,
			category: 'modifiedLocalOnly',
			action: 'push',
			reason: `created locally (row ${temporaryId}); created in ServiceTitan`,
		});
	scope.tally.itemsPushed += ignored.length > 0 ? 0 : 1;
	scope.tally.pushes[ignored.length > 0 ? 'ignored' : pushOutcome(verdict)] += 1;
	if (heldMessage) scope.tally.errors += 1;
}

/**
 * What a person changed on the copy of a created item a run brought in under ServiceTitan's id: its fields that
 * differ from the copy's base (or from nothing known, every field), and a soft delete.
 */
function editsOnCopy(
	def: EntityDefinition,
	copy: StoredRow | null,
): { values: CanonicalRecord; deletedAt: Date | null; edited: boolean; row?: Record<string, unknown> } {
	if (!copy) return { values: {}, deletedAt: null, edited: false };
	const deletedAt = copy.deleted_at ?? null;
	const row = Object.fromEntries(def.fields.map((f) => [f.column, copy[f.column]]));
	let current: CanonicalRecord;
	try {
		current = canonicalFromRow(def, copy);
	} catch (error) {
		if (!(error instanceof FieldValueError)) throw error;
		// A value the sync cannot read: the created row's values stand, and the copy's row as it was goes to the change
		// log entry of the write-back (see recordCreated), so the person's edit can be seen and typed again.
		return { values: {}, deletedAt, edited: deletedAt !== null, row };
	}
	if (copy.sync_status === 'synced' && deletedAt === null) return { values: {}, deletedAt, edited: false };
	const base = copy.sync_base ? canonicalFromRow(def, copy.sync_base as Record<string, unknown>) : null;
	const fields = base ? differingFields(def, current, base) : def.fields.map((f) => f.column);
	return { values: pick(current, fields), deletedAt, edited: fields.length > 0 || deletedAt !== null, row };
}

/** Keeps the row as it is with the reason (Retool shows push_error), logged once while the reason stays the same. */
async function hold(scope: RunScope, row: StoredRow, message: string, refused: CanonicalRecord | null, kind: string | null): Promise<void> {
	const { def } = scope;
	const id = Number(row.id);
	if (row.push_error === message && !row.push_in_flight) return;
	if (scope.dryRun) return;
	const errors: ErrorLogEntry[] = kind ? [{ entityId: id, kind, message }] : [];
	await scope.t.tx('create-held', async (tx) => {
		await markEngineWrites(tx);
		await holdLocalCreate(tx, def.table, id, message, refused);
		await logErrors(tx, scope.runId, def.type, errors, scope.now());
	});
	scope.tally.errors += errors.length;
	scope.log('warn', `${def.singular} ${id} not created in ServiceTitan: ${message}`);
}
