/**
 * Whether n8n's node panel lists a node for what a user typed. The editor (n8n 2.41.1, `searchNodes` in its
 * node creator) runs `sublimeSearch` from @n8n/utils over two fields of each node description: `displayName` and
 * every entry of `codex.alias` (its DEFAULT_KEYS). A node is listed when one of them passes `fuzzyMatchSimple`,
 * every typed character found in order, ignoring case; the fuzzy score that follows only orders the list (for a
 * filter under 256 characters it never drops a node that passed). This is that rule, so tests can ask the question
 * without the editor; the e2e run asks n8n's own sublimeSearch on what a real n8n serves.
 */
export interface SearchableNode {
	displayName: string;
	codex?: { alias?: string[] };
}

/** The fields the editor searches, in its order. */
export function searchedFields(node: SearchableNode): string[] {
	return [node.displayName, ...(node.codex?.alias ?? [])];
}

function fuzzyMatchSimple(pattern: string, target: string): boolean {
	let p = 0;
	for (let t = 0; p < pattern.length && t < target.length; t++) {
		if (pattern.charAt(p).toLowerCase() === target.charAt(t).toLowerCase()) p++;
	}
	return pattern.length !== 0 && target.length !== 0 && p === pattern.length;
}

/** What the editor does with the typed text first: lower case, the word "trigger" removed, trailing spaces cut. */
function editorFilter(typed: string): string {
	return typed.toLowerCase().replace('trigger', '').trimEnd();
}

export function editorFindsNode(typed: string, node: SearchableNode): boolean {
	const filter = editorFilter(typed);
	return searchedFields(node).some((field) => fuzzyMatchSimple(filter, field));
}
