import type { StItem } from './prepare';

/**
 * The validated items of the pages this process staged last, so the n8n steps that follow ST Fetch Page in the
 * same process (an n8n execution runs on one worker, queue mode included) do not read back and parse the JSON
 * they just wrote. PostgreSQL stays the source: a step on another process, or after this cache dropped the page,
 * reads sync_page_stage. A staged page never changes once written, and each staging has a random token
 * (sync_page_stage.token): a hit counts only when the token matches the row's, so the same run id and page in
 * another database, or in one that was reset, never serve another page's items. Only the newest few pages are
 * kept, so memory stays at a page or two.
 */
const KEEP = 4;
const pages = new Map<string, { token: string; items: readonly StItem[] }>();

const key = (runId: number, page: number) => `${runId}:${page}`;

export function rememberStagedItems(runId: number, page: number, token: string, items: readonly StItem[]): void {
	pages.set(key(runId, page), { token, items });
	while (pages.size > KEEP) pages.delete(pages.keys().next().value as string);
}

/** The items staged under `token`, when this process staged them. */
export function stagedItemsInMemory(runId: number, page: number, token: string): readonly StItem[] | undefined {
	const hit = pages.get(key(runId, page));
	return hit?.token === token ? hit.items : undefined;
}

export function forgetStagedItems(runId: number): void {
	for (const k of [...pages.keys()]) if (k.startsWith(`${runId}:`)) pages.delete(k);
}
