import type { StoredConflictRow } from '../../lib/db/conflict-store';
import type { RunResult } from '../../lib/sync/run-types';
import type { FetchedPage, StagedPhaseResult, StagedRunRef } from '../../lib/sync/staged-run';
import {
	appliedReport,
	categorizedReport,
	fetchedReport,
	finishedReport,
	itemLabel,
	MAX_PAGES,
	nextPageStep,
	startedReport,
	storedConflictsReport,
} from '../../lib/sync/step-reports';
import type { Summary } from '../../lib/sync/tally';

const ref = (entityType: StagedRunRef['entityType'] = 'materials', page = 1): StagedRunRef => ({ runId: 7, entityType, kind: 'full', page });
const summary = (counts: Partial<Summary> = {}): Summary => ({
	newInST: 0,
	deletedInST: 0,
	modifiedInSTOnly: 0,
	modifiedLocalOnly: 0,
	conflicts: 0,
	noChange: 0,
	...counts,
});
const fetched = (page: Partial<FetchedPage>): FetchedPage => ({
	ref: ref(),
	fetched: 0,
	hasMore: false,
	totalCount: null,
	listed: null,
	source: 'listing',
	readBefore: false,
	...page,
});
const phase = (result: Omit<Partial<StagedPhaseResult>, 'counts'> & { counts?: Partial<StagedPhaseResult['counts']> }): StagedPhaseResult => ({
	ref: ref(),
	alreadyDone: false,
	hasMore: true,
	...result,
	counts: { summary: summary(), itemsSynced: 0, itemsPushed: 0, pushes: { verified: 0, normalized: 0, ignored: 0 }, conflictsDetected: 0, ...result.counts },
});
const conflictRow = (id: number, entityId: number, extra: Partial<StoredConflictRow> = {}): StoredConflictRow => ({
	id,
	entity_id: entityId,
	kind: 'modified',
	diff: { fields: ['price'] },
	local: { code: `M-${entityId}`, display_name: 'Copper pipe' },
	...extra,
});

describe('step reports: what each node of a staged run outputs', () => {
	it('Start Sync Run: the run reference, the trigger, and why an incremental run runs as full', () => {
		expect(startedReport(ref('categories'), 'manual', 'first sync of categories')).toEqual({
			runId: 7,
			entityType: 'categories',
			kind: 'full',
			page: 1,
			trigger: 'manual',
			ranAsFullBecause: 'first sync of categories',
			message: 'categories run 7: full sync started (runs as a full sync: first sync of categories), trigger manual',
		});
	});

	it('ST Fetch Page, categories: the roots ServiceTitan pages and counts, and the subcategories nested in them', () => {
		const report = fetchedReport(fetched({ ref: ref('categories'), fetched: 40, listed: 8, totalCount: 8 }));
		expect(report.message).toBe(
			'categories run 7, page 1: 40 categories read: 8 top-level with their 32 subcategories; ServiceTitan lists 8 top-level categories in all; last page',
		);
		expect(report).toMatchObject({ itemsRead: 40, listed: 8, totalCount: 8, hasMore: false });
	});

	it('ST Fetch Page, other types: items read of the total; the export feed; a page fetched before', () => {
		expect(fetchedReport(fetched({ fetched: 7, listed: 7, totalCount: 500, hasMore: true })).message).toBe(
			'materials run 7, page 1: 7 items read (ServiceTitan lists 500 in all); more pages follow',
		);
		expect(fetchedReport(fetched({ fetched: 1, source: 'export' })).message).toBe(
			"materials run 7, page 1: 1 item read from ServiceTitan's export feed of changes; last page",
		);
		expect(fetchedReport(fetched({ fetched: 3, readBefore: true })).message).toBe(
			'materials run 7, page 1: fetched before: 3 items staged, ServiceTitan not asked again; last page',
		);
	});

	it('Categorize Changes: the six categories that occur, and nothing from the steps before', () => {
		const report = categorizedReport({ ref: ref(), items: 3, hasMore: true, summary: summary({ modifiedInSTOnly: 1, conflicts: 1, noChange: 1 }) });
		expect(report).toEqual({
			runId: 7,
			entityType: 'materials',
			kind: 'full',
			page: 1,
			hasMore: true,
			message: 'materials run 7, page 1: 3 items compared: 1 changed in ServiceTitan, 1 conflict, 1 unchanged',
			itemsCompared: 3,
			counts: summary({ modifiedInSTOnly: 1, conflicts: 1, noChange: 1 }),
		});
	});

	it('Apply Changes: what changed on either side, how pushes were stored; a re-run says it did nothing again', () => {
		const result = phase({
			counts: {
				summary: summary({ newInST: 2, modifiedLocalOnly: 3, noChange: 5 }),
				itemsSynced: 2,
				itemsPushed: 2,
				pushes: { verified: 1, normalized: 1, ignored: 1 },
			},
		});
		expect(appliedReport(result).message).toBe(
			"materials run 7, page 1: 2 new in ServiceTitan added locally, 2 local edits pushed to ServiceTitan (1 stored as sent, 1 stored in ServiceTitan's own form), " +
				'1 local edit held: ServiceTitan did not apply it, 5 unchanged',
		);
		expect(appliedReport({ ...phase({}), alreadyDone: true })).toMatchObject({
			message: 'materials run 7, page 1: applied before, nothing done again: nothing to apply',
			appliedBefore: true,
		});
	});

	it('Store Conflicts: each conflict with its item, label, fields and id, three in the line, all listed ones in `conflicts`', () => {
		const rows = [
			conflictRow(11, 101),
			conflictRow(12, 102, {
				kind: 'deleted_in_st',
				diff: {
					fields: ['code', 'price', 'cost'],
					baseValues: { code: 'M-102', price: '1', cost: '2' },
					localValues: { code: 'M-102', price: '3', cost: '2' },
				},
			}),
			conflictRow(13, 103, { diff: { fields: ['price', 'cost'] }, local: { code: 'M-103' } }),
			conflictRow(14, 104),
		];
		const report = storedConflictsReport(phase({ stored: { total: 60, rows } }));
		expect(report.message).toBe(
			'materials run 7, page 1: 60 conflicts stored for a person to resolve: material 101 "M-101 (Copper pipe)": price differs, conflict 11; ' +
				'material 102 "M-102 (Copper pipe)": deleted in ServiceTitan, edited locally (price), conflict 12; material 103 "M-103": price, cost differ, conflict 13; ' +
				'and 57 more (see conflicts)',
		);
		expect(report.conflicts[1]).toEqual({
			conflictId: 12,
			entityType: 'materials',
			itemId: 102,
			label: 'M-102 (Copper pipe)',
			kind: 'deleted_in_st',
			fields: ['price'],
		});
		expect(report).toMatchObject({ conflictsStored: 60, conflictsNotListed: 56, storedBefore: false });
		expect(storedConflictsReport(phase({ stored: { total: 0, rows: [] } }))).toMatchObject({
			message: 'materials run 7, page 1: no conflicts',
			conflicts: [],
			conflictsStored: 0,
		});
	});

	it("labels: code and display name, a category's name", () => {
		expect(itemLabel({ code: 'S-1', display_name: 'Pool opening' })).toBe('S-1 (Pool opening)');
		expect(itemLabel({ name: 'Pumps' })).toBe('Pumps');
		expect(itemLabel({ code: '  ', display_name: null })).toBeNull();
	});

	it('Sync Next Page: the next page, or done; refuses an item without hasMore and a listing that never ends', () => {
		expect(nextPageStep(ref('services', 2), true)).toEqual({
			more: true,
			report: { runId: 7, entityType: 'services', kind: 'full', page: 3, message: 'services run 7: page 2 done, page 3 next' },
		});
		expect(nextPageStep(ref('services', 2), false)).toEqual({
			more: false,
			report: { runId: 7, entityType: 'services', kind: 'full', page: 2, message: 'services run 7: page 2 was the last; Finish Sync Run ends the run' },
		});
		expect(() => nextPageStep(ref(), undefined)).toThrow(expect.objectContaining({ field: 'hasMore' }));
		expect(() => nextPageStep(ref('materials', MAX_PAGES), true)).toThrow(expect.objectContaining({ field: 'page' }));
	});

	it("Finish Sync Run: the run's result with one line, or its failure message as it was", () => {
		const result: RunResult = {
			entityType: 'materials',
			runId: 7,
			kind: 'incremental',
			dryRun: false,
			success: true,
			status: 'succeeded',
			summary: summary({ modifiedInSTOnly: 1, conflicts: 1 }),
			itemsSynced: 1,
			itemsPushed: 0,
			pushes: { verified: 0, normalized: 0, ignored: 0 },
			conflictsDetected: 1,
			errors: 0,
			syncedAt: '2026-11-25T08:00:00.000Z',
		};
		expect(finishedReport(result)).toEqual({
			...result,
			message:
				'materials run 7: incremental sync succeeded: 1 changed in ServiceTitan, 1 conflict; 1 taken from ServiceTitan, 0 pushed, 1 conflict stored',
		});
		expect(finishedReport({ ...result, success: false, status: 'failed', message: 'the listing changed' }).message).toBe('the listing changed');
	});
});
