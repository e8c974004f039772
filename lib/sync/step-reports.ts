import type { StoredConflictRow } from '../db/conflict-store';
import { differingFields } from '../entities/canonical';
import { entityDefinition } from '../entities/definitions';
import type { CanonicalRecord, EntityType } from '../entities/types';
import { CATEGORIES, type Category } from './categorize';
import { SyncValidationError } from './errors';
import type { RunResult } from './run-types';
import type { FetchedPage, StagedPhaseResult, StagedRunRef } from './staged-run';
import type { PushCounts, Summary } from './tally';

/**
 * What each node of a run split across n8n nodes outputs (Start Sync Run … Finish Sync Run): the run reference
 * the next node needs, `hasMore` for Sync Next Page, one line (`message`) saying what this step did, and this
 * step's own figures. Each node reports only its own step, so no figure is repeated down the chain. Pure: built
 * from what the library's step functions return.
 */
// Type aliases, not interfaces: n8n takes a node's output as an index-signature object, which interfaces are not.
export type StepReport = Pick<StagedRunRef, 'runId' | 'entityType' | 'kind' | 'page'> & { message: string };

/** Conflicts a Store Conflicts step lists one by one; the count is complete. */
export type StoredConflictEntry = {
	conflictId: number;
	entityType: EntityType;
	itemId: number;
	/** Code and display name (a category's name), as the local row had them. */
	label: string | null;
	kind: string;
	/** The fields the two sides differ in; for a delete in ServiceTitan, the fields edited locally. */
	fields: string[];
};

// A guard against a loop that never ends (ServiceTitan answering hasMore forever): 5,000 pages of 5,000 items.
export const MAX_PAGES = 5000;

const CATEGORY_WORDS: Record<Category, (n: number) => string> = {
	newInST: (n) => `${n} new in ServiceTitan`,
	deletedInST: (n) => `${n} deleted in ServiceTitan`,
	modifiedInSTOnly: (n) => `${n} changed in ServiceTitan`,
	modifiedLocalOnly: (n) => `${n} changed locally`,
	conflicts: (n) => plural(n, 'conflict'),
	noChange: (n) => `${n} unchanged`,
};

function plural(n: number, noun: string, nouns = `${noun}s`): string {
	return `${n} ${n === 1 ? noun : nouns}`;
}

function refOf(ref: StagedRunRef): StagedRunRef {
	return { runId: ref.runId, entityType: ref.entityType, kind: ref.kind, page: ref.page };
}

const runHead = (ref: StagedRunRef) => `${ref.entityType} run ${ref.runId}`;
const pageHead = (ref: StagedRunRef) => `${runHead(ref)}, page ${ref.page}`;
const pagesLeft = (hasMore: boolean) => (hasMore ? 'more pages follow' : 'last page');

/** The six categories, those that occur, in the spec's order. */
export function describeCategories(summary: Summary): string {
	const parts = CATEGORIES.filter((c) => summary[c] > 0).map((c) => CATEGORY_WORDS[c](summary[c]));
	return parts.length > 0 ? parts.join(', ') : 'nothing';
}

/** Start Sync Run, Started output: one run reference per entity type. */
export function startedReport(ref: StagedRunRef, trigger: string, ranAsFullBecause?: string): StepReport & { trigger: string; ranAsFullBecause?: string } {
	const instead = ranAsFullBecause ? ` (runs as a full sync: ${ranAsFullBecause})` : '';
	return {
		...refOf(ref),
		trigger,
		message: `${runHead(ref)}: ${ref.kind} sync started${instead}, trigger ${trigger}`,
		...(ranAsFullBecause ? { ranAsFullBecause } : {}),
	};
}

/**
 * ST Fetch Page. For categories ServiceTitan pages and counts the roots only and nests their subcategories, so
 * the page holds more categories than its top-level entries, and `totalCount` counts roots: the line says so.
 */
export function fetchedReport(
	page: FetchedPage,
): StepReport & Pick<FetchedPage, 'hasMore' | 'listed' | 'totalCount' | 'source' | 'readBefore'> & { itemsRead: number } {
	const n = page.fetched;
	const { listed, totalCount } = page;
	let what: string;
	if (page.readBefore) {
		what = `fetched before: ${plural(n, 'item')} staged, ServiceTitan not asked again`;
	} else if (page.source === 'export') {
		what = `${plural(n, 'item')} read from ServiceTitan's export feed of changes`;
	} else if (listed !== null && listed < n) {
		const total = totalCount !== null ? `; ServiceTitan lists ${plural(totalCount, 'top-level category', 'top-level categories')} in all` : '';
		what = `${plural(n, 'category', 'categories')} read: ${listed} top-level with their ${plural(n - listed, 'subcategory', 'subcategories')}${total}`;
	} else {
		what = `${plural(n, 'item')} read${totalCount !== null ? ` (ServiceTitan lists ${totalCount} in all)` : ''}`;
	}
	return {
		...refOf(page.ref),
		hasMore: page.hasMore,
		message: `${pageHead(page.ref)}: ${what}; ${pagesLeft(page.hasMore)}`,
		itemsRead: n,
		listed,
		totalCount,
		source: page.source,
		readBefore: page.readBefore,
	};
}

/** Categorize Changes: the page's items per category, decided once. */
export function categorizedReport(result: { ref: StagedRunRef; summary: Summary; items: number; hasMore: boolean }): StepReport & {
	hasMore: boolean;
	itemsCompared: number;
	counts: Summary;
} {
	const what = result.items === 0 ? 'no items on this page' : `${plural(result.items, 'item')} compared: ${describeCategories(result.summary)}`;
	return {
		...refOf(result.ref),
		hasMore: result.hasMore,
		message: `${pageHead(result.ref)}: ${what}`,
		itemsCompared: result.items,
		counts: { ...result.summary },
	};
}

function describePushes(pushed: number, pushes: PushCounts): string[] {
	const how = [
		pushes.verified > 0 ? `${pushes.verified} stored as sent` : '',
		pushes.normalized > 0 ? `${pushes.normalized} stored in ServiceTitan's own form` : '',
	].filter(Boolean);
	return [
		pushed > 0 ? `${plural(pushed, 'local edit')} pushed to ServiceTitan${how.length > 0 ? ` (${how.join(', ')})` : ''}` : '',
		pushes.ignored > 0 ? `${plural(pushes.ignored, 'local edit')} held: ServiceTitan did not apply ${pushes.ignored === 1 ? 'it' : 'them'}` : '',
	].filter(Boolean);
}

/** Apply Changes: what the page's plan changed on either side (its conflicts are Store Conflicts' part). */
export function appliedReport(result: StagedPhaseResult): StepReport & {
	hasMore: boolean;
	counts: Summary;
	itemsSynced: number;
	itemsPushed: number;
	pushes: PushCounts;
	appliedBefore: boolean;
} {
	const { counts } = result;
	const s = counts.summary;
	const parts = [
		s.newInST > 0 ? `${s.newInST} new in ServiceTitan added locally` : '',
		s.modifiedInSTOnly > 0 ? `${s.modifiedInSTOnly} changed in ServiceTitan updated locally` : '',
		s.deletedInST > 0 ? `${s.deletedInST} deleted in ServiceTitan soft-deleted locally` : '',
		...describePushes(counts.itemsPushed, counts.pushes),
		s.noChange > 0 ? `${s.noChange} unchanged` : '',
	].filter(Boolean);
	const what = parts.length > 0 ? parts.join(', ') : 'nothing to apply';
	return {
		...refOf(result.ref),
		hasMore: result.hasMore,
		message: `${pageHead(result.ref)}: ${result.alreadyDone ? `applied before, nothing done again: ${what}` : what}`,
		counts: { ...s },
		itemsSynced: counts.itemsSynced,
		itemsPushed: counts.itemsPushed,
		pushes: { ...counts.pushes },
		appliedBefore: result.alreadyDone,
	};
}

/** Code and display name of a row (`MAT-1 (Copper pipe)`), a category's name, or null. */
export function itemLabel(values: CanonicalRecord | null | undefined): string | null {
	if (!values) return null;
	const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
	const code = text(values.code);
	const name = text(values.display_name) ?? text(values.name);
	if (code && name) return `${code} (${name})`;
	return code ?? name;
}

/** One stored conflict as a person reads it: which item, which fields. */
export function storedConflictEntry(entityType: EntityType, row: StoredConflictRow): StoredConflictEntry {
	const diff = row.diff ?? {};
	let fields = diff.fields ?? [];
	// A delete in ServiceTitan is stored with every field; what matters is what the person changed.
	if (row.kind === 'deleted_in_st' && diff.baseValues && diff.localValues) {
		fields = differingFields(entityDefinition(entityType), diff.baseValues as CanonicalRecord, diff.localValues as CanonicalRecord);
	}
	return {
		conflictId: row.id,
		entityType,
		itemId: row.entity_id,
		label: itemLabel(row.local as CanonicalRecord | null),
		kind: row.kind,
		fields,
	};
}

function describeConflict(entry: StoredConflictEntry): string {
	const singular = entityDefinition(entry.entityType).singular;
	const fields = entry.fields.join(', ');
	const what =
		entry.kind === 'deleted_in_st'
			? `deleted in ServiceTitan, edited locally${fields ? ` (${fields})` : ''}`
			: `${fields || 'the values'} ${entry.fields.length === 1 ? 'differs' : 'differ'}`;
	return `${singular} ${entry.itemId}${entry.label ? ` "${entry.label}"` : ''}: ${what}, conflict ${entry.conflictId}`;
}

/** In the one line; the `conflicts` list holds more. */
const CONFLICTS_IN_MESSAGE = 3;

/** Store Conflicts: the conflicts stored for a person, listed (capped) so an admin sees them in n8n. */
export function storedConflictsReport(result: StagedPhaseResult): StepReport & {
	hasMore: boolean;
	conflictsStored: number;
	conflicts: StoredConflictEntry[];
	conflictsNotListed?: number;
	storedBefore: boolean;
} {
	const stored = result.stored ?? { total: 0, rows: [] };
	const entries = stored.rows.map((row) => storedConflictEntry(result.ref.entityType, row));
	const shown = entries.slice(0, CONFLICTS_IN_MESSAGE).map(describeConflict);
	const more = stored.total - shown.length;
	const what =
		stored.total === 0
			? 'no conflicts'
			: `${plural(stored.total, 'conflict')} stored for a person to resolve: ${shown.join('; ')}${more > 0 ? `; and ${more} more (see conflicts)` : ''}`;
	return {
		...refOf(result.ref),
		hasMore: result.hasMore,
		message: `${pageHead(result.ref)}: ${result.alreadyDone ? `stored before, nothing done again: ${what}` : what}`,
		conflictsStored: stored.total,
		conflicts: entries,
		...(stored.total > entries.length ? { conflictsNotListed: stored.total - entries.length } : {}),
		storedBefore: result.alreadyDone,
	};
}

/** Sync Next Page: the next page's reference, or the run's, done, for Finish Sync Run. */
export function nextPageStep(ref: StagedRunRef, hasMore: unknown): { more: boolean; report: StepReport } {
	if (typeof hasMore !== 'boolean') throw new SyncValidationError('hasMore', 'the item has no hasMore flag: connect this node after ST Fetch Page');
	if (!hasMore) {
		return { more: false, report: { ...refOf(ref), message: `${runHead(ref)}: page ${ref.page} was the last; Finish Sync Run ends the run` } };
	}
	if (ref.page >= MAX_PAGES) {
		throw new SyncValidationError('page', `run ${ref.runId} reached ${MAX_PAGES} pages; ServiceTitan keeps answering hasMore, stopping`);
	}
	const next = { ...refOf(ref), page: ref.page + 1 };
	return { more: true, report: { ...next, message: `${runHead(ref)}: page ${ref.page} done, page ${next.page} next` } };
}

/** Finish Sync Run: the run's result (as the CLI's --json prints it), with one line also when it succeeded. */
export function finishedReport(result: RunResult): RunResult & { message: string } {
	if (result.message) return { ...result, message: result.message };
	const head = `${result.entityType} run ${result.runId ?? '-'}: ${result.kind} sync ${result.status}`;
	const did = [
		`${result.itemsSynced} taken from ServiceTitan`,
		`${result.itemsPushed} pushed`,
		`${plural(result.conflictsDetected, 'conflict')} stored`,
		...(result.errors > 0 ? [plural(result.errors, 'error')] : []),
	].join(', ');
	return { ...result, message: `${head}: ${describeCategories(result.summary)}; ${did}` };
}
