import { canonicalFromSt, rowValuesFromCanonical } from '../../lib/entities/canonical';
import { materials } from '../../lib/entities/definitions';
import type { ConflictRecord } from '../../lib/db/conflict-store';
import type { StoredRow } from '../../lib/db/pricebook-store';
import type { StRecord } from '../../lib/servicetitan/types';
import { SyncStateError, SyncValidationError } from '../../lib/sync/errors';
import { acceptPatchAnswer, decideResolution, mergedDataRefusal, type DecisionInput } from '../../lib/sync/resolve-decision';
import { resolutionWrites } from '../../lib/sync/resolve-writes';
import { materialStRecord } from '../support/material-record';

/** Material 9404: synced at price 10 / cost 4; then ServiceTitan set price 11 and a description, locally price 12.5 and cost 3.25. */
const stRecord = (over: Record<string, unknown> = {}) => materialStRecord({ modifiedOn: '2024-12-10T14:30:00.0000000Z', ...over }) as StRecord;
const canon = (over: Record<string, unknown> = {}) => canonicalFromSt(materials, stRecord(over));
const stNow = stRecord({ price: 11, description: 'ST description' });
const now = new Date('2024-12-10T16:00:00Z');

/** A decision as it goes on the wire: a PATCH body's exact decimals serialize to JSON numbers. */
const wire = (d: unknown): unknown => JSON.parse(JSON.stringify(d));

function row(over: Partial<StoredRow> = {}): StoredRow {
	return {
		...rowValuesFromCanonical(materials, canon({ price: '12.5', cost: '3.25' })),
		id: 9404,
		row_version: 7,
		sync_status: 'conflict',
		sync_base: canon(),
		st_modified_on_raw: '2024-12-10T09:59:00.0000000Z',
		local_modified_at: new Date('2024-12-10T15:00:00Z'),
		last_synced_at: new Date('2024-12-10T10:00:00Z'),
		deleted_at: null,
		deleted_in_st: false,
		has_conflict: true,
		push_in_flight: null,
		push_error: null,
		push_refused: null,
		...over,
	};
}

/** The open conflict, shown with ServiceTitan's version `shown` (null: shown as deleted in ServiceTitan). */
function conflict(shown: Record<string, unknown> | null = stNow): ConflictRecord {
	return {
		id: 31,
		entity_type: 'materials',
		entity_id: 9404,
		kind: shown ? 'modified' : 'deleted_in_st',
		status: 'open',
		detected_at: new Date('2024-12-10T15:30:00Z'),
		conflict_data: { stVersion: { data: shown, deleted: shown === null } },
		suggested_merge: null,
		resolution: null,
		resolved_by: null,
		resolved_at: null,
	};
}

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
	def: materials,
	conflict: conflict(),
	st: stNow,
	row: row(),
	resolution: 'use_st',
	now,
	...over,
});

describe('decideResolution', () => {
	it("use_st writes ServiceTitan's current version locally and pushes nothing", () => {
		const d = decideResolution(input());
		expect(d).toMatchObject({ kind: 'write', st: { record: stNow, canonical: canon({ price: 11, description: 'ST description' }) } });
		expect(d.kind === 'write' && d.before).toEqual({
			st: canon({ price: 11, description: 'ST description' }),
			local: canon({ price: '12.5', cost: '3.25' }),
		});
	});

	it('use_st over a delete in ServiceTitan accepts the delete', () => {
		expect(decideResolution(input({ conflict: conflict(null), st: null }))).toMatchObject({ kind: 'write', st: null, before: { st: null } });
	});

	it('use_local pushes exactly the fields that differ from ServiceTitan, in its names and shapes', () => {
		const d = decideResolution(input({ resolution: 'use_local' }));
		expect(wire(d)).toMatchObject({ kind: 'push', fields: ['description', 'cost', 'price'], body: { description: 'Pipe', cost: 3.25, price: 12.5 } });
	});

	it("use_local with nothing to send writes ServiceTitan's version without a PATCH", () => {
		const same = stRecord({ price: 12.5, cost: 3.25 });
		expect(decideResolution(input({ resolution: 'use_local', conflict: conflict(same), st: same }))).toMatchObject({ kind: 'write', st: { record: same } });
	});

	it('merged fills the fields nobody chose from the side that changed them', () => {
		const d = decideResolution(input({ resolution: 'merged', mergedData: { price: '11.75' } }));
		// description changed only in ST, so it is already there; cost changed only locally; price chosen.
		expect(wire(d)).toMatchObject({ kind: 'push', fields: ['cost', 'price'], body: { cost: 3.25, price: 11.75 } });
	});

	it.each([
		[{ price: 'cheap' }, 'mergedData.price'],
		[{ nonsense: 1 }, 'mergedData.nonsense'],
		[{ cost: 1 }, 'mergedData.price'],
	])('merged %p is refused naming %s, refreshing nothing', (mergedData, field) => {
		const d = decideResolution(input({ resolution: 'merged', mergedData }));
		expect(d).toMatchObject({ kind: 'refuse', reason: 'validation', refresh: null });
		expect(d.kind === 'refuse' && d.reason !== 'stale' && d.error).toMatchObject({ name: 'SyncValidationError', field });
		expect(mergedDataRefusal(materials, conflict(), row(), mergedData)).toMatchObject({ field });
	});

	it('mergedDataRefusal accepts a complete merge, and leaves a missing row to the decision', () => {
		expect(mergedDataRefusal(materials, conflict(), row(), { price: 11 })).toBeNull();
		expect(mergedDataRefusal(materials, conflict(), null, { nonsense: 1 })).toBeNull();
	});

	it('use_local over a ServiceTitan version nobody saw is stale: the conflict is refreshed, nothing pushed', () => {
		const moved = stRecord({ price: 14, modifiedOn: '2024-12-10T15:45:00.0000000Z' });
		const d = decideResolution(input({ resolution: 'use_local', st: moved }));
		expect(d).toMatchObject({ kind: 'refuse', reason: 'stale', result: { status: 'stale', conflictId: 31, resolution: null } });
		if (d.kind !== 'refuse') throw new Error('expected a refusal');
		expect(d.refresh).toMatchObject({
			kind: 'modified',
			stModifiedOnRaw: '2024-12-10T15:45:00.0000000Z',
			conflictData: { conflictId: 31, detectedAt: now.toISOString(), diff: { stValues: { price: '14' } } },
			suggestedMerge: { suggestion: true },
		});
	});

	it('use_local on an item ServiceTitan deleted is refused as gone; the conflict is refreshed only if it was shown as present', () => {
		const gone = decideResolution(input({ resolution: 'use_local', st: null }));
		expect(gone).toMatchObject({ kind: 'refuse', reason: 'gone_in_st', refresh: { kind: 'deleted_in_st', stModifiedOnRaw: null, suggestedMerge: null } });
		expect(gone.kind === 'refuse' && gone.reason !== 'stale' && gone.error).toBeInstanceOf(SyncStateError);
		expect(decideResolution(input({ resolution: 'use_local', conflict: conflict(null), st: null }))).toMatchObject({
			kind: 'refuse',
			reason: 'gone_in_st',
			refresh: null,
		});
	});

	it('refuses to decide on an invalid ServiceTitan record, whatever the choice', () => {
		for (const resolution of ['use_st', 'use_local'] as const) {
			const d = decideResolution(input({ resolution, st: stRecord({ code: null }) }));
			expect(d).toMatchObject({ kind: 'refuse', reason: 'invalid_st', refresh: null });
			expect(d.kind === 'refuse' && d.reason !== 'stale' && d.error).toMatchObject({ reason: 'stale' });
		}
	});
});

describe('acceptPatchAnswer', () => {
	it('takes a valid answer and rejects one the sync could not store', () => {
		expect(acceptPatchAnswer(materials, stNow).canonical.price).toBe('11');
		expect(() => acceptPatchAnswer(materials, stRecord({ id: -1 }))).toThrow(/invalid record/);
		expect(() => acceptPatchAnswer(materials, stRecord({ id: -1 }))).not.toThrow(SyncValidationError);
	});
});

describe('resolutionWrites', () => {
	const request = { conflictId: 31, resolution: 'use_local' as const, resolvedBy: '  ann@perfectcatch ', trigger: 'webhook' };
	const before = { st: canon({ price: 11 }), local: canon({ price: '12.5' }) };
	const at = new Date('2024-12-10T16:00:05Z');

	it('writes the answer with compare-and-set on the row version read, and records who, what and when', () => {
		const answer = acceptPatchAnswer(materials, stRecord({ price: 12.5, modifiedOn: '2024-12-10T16:00:04.1234567Z' }));
		const w = resolutionWrites(materials, conflict(), request, row(), before, answer, at);
		expect(w.row).toMatchObject({ id: 9404, rowVersion: 7, stModifiedOnRaw: '2024-12-10T16:00:04.1234567Z', values: { price: '12.5' } });
		expect(w).toMatchObject({
			at,
			syncDirection: 'to_st',
			decided: { resolution: 'use_local', resolvedBy: 'ann@perfectcatch' },
			run: { kind: 'resolution', entityType: 'materials', trigger: 'webhook', details: { conflictId: 31 } },
			change: { entityId: 9404, action: 'resolved_use_local', before },
			progress: { itemsSynced: 0, itemsPushed: 1 },
			result: { status: 'resolved', resolvedAt: at.toISOString(), resolvedBy: 'ann@perfectcatch', message: 'resolved with use_local' },
		});
	});

	it('accepting a delete writes no ServiceTitan version and records the delete as the outcome', () => {
		const w = resolutionWrites(materials, conflict(null), { ...request, resolution: 'use_st' }, row(), { st: null, local: before.local }, null, at);
		expect(w).toMatchObject({
			row: null,
			syncDirection: 'from_st',
			closing: { after: { deleted: true } },
			progress: { itemsSynced: 1, itemsPushed: 0 },
			result: { after: null },
		});
		expect(w.result.message).toMatch(/stays deleted/);
	});
});
