import type { StItem } from './prepare';

/**
 * The validated items of the pages this process staged last, so the n8n steps that follow ST Fetch Page in the
 * same process (an n8n execution runs on one worker, queue mode included) do not read back and parse the JSON
 * they just wrote. PostgreSQL stays the source: a step on another process, or after this cache dropped the page,
 * reads sync_page_stage. A staged page never changes once written, so a hit is always what PostgreSQL holds.
 * Keyed by run id and page; only the newest few pages are kept, so memory stays at a page or two.
 */
const KEEP = 4;
const pages = new Map<string, readonly StItem[]>();

const key = (runId: number, page: number) => `${runId}:${page}`;

export function rememberStagedItems(runId: number, page: number, items: readonly StItem[]): void {
	pages.set(key(runId, page), items);
	while (pages.size > KEEP) pages.delete(pages.keys().next().value as string);
}

export function stagedItemsInMemory(runId: number, page: number): readonly StItem[] | undefined {
	return pages.get(key(runId, page));
}

export function forgetStagedItems(runId: number): void {
	for (const k of [...pages.keys()]) if (k.startsWith(`${runId}:`)) pages.delete(k);
}
