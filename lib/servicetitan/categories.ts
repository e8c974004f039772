import { DEFAULT_MAX_RECORD_DEPTH, limitRecordDepth, TOO_DEEP_MARKER } from './depth';
import type { StRecord } from './types';

/**
 * Whether ST nests category listings (`subcategories`) or returns them flat is not documented, so both are
 * read into one flat shape: every category once, children after their parent, each carrying its `parentId`,
 * none carrying `subcategories` (the tree is rebuilt from `parentId` where it is needed).
 *
 * Iterative, so no nesting can exhaust the stack. Each category counts as a record of its own for the depth
 * limit (`maxDepth` JSON levels, its `subcategories` left out); a category whose place in the tree lies deeper
 * than `maxDepth` JSON levels below its root is replaced by a placeholder (see depth.ts) and its subtree is not
 * read: every category above it is kept.
 */
export function flattenCategories(records: readonly unknown[], maxDepth: number = DEFAULT_MAX_RECORD_DEPTH): StRecord[] {
	const out: StRecord[] = [];
	const seen = new Set<unknown>();
	// A category at tree level L (roots at 1) sits 2L - 1 JSON levels below its root: record, array, record, ...
	const maxLevel = Math.floor((maxDepth + 1) / 2);
	const stack: Array<{ record: unknown; parentId: number | null; level: number }> = [];
	for (let i = records.length - 1; i >= 0; i--) stack.push({ record: records[i], parentId: null, level: 1 });
	for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
		const { record, parentId, level } = item;
		if (typeof record !== 'object' || record === null || Array.isArray(record)) {
			// Not a category: handed on as it is, for the caller to refuse.
			out.push(record as StRecord);
			continue;
		}
		const { subcategories, ...rest } = record as Record<string, unknown>;
		if (level > maxLevel) {
			out.push({ [TOO_DEEP_MARKER]: `nested deeper than ${maxDepth} levels`, id: rest.id, parentId } as unknown as StRecord);
			continue;
		}
		if (!seen.has(rest.id)) {
			seen.add(rest.id);
			const ownParent = rest.parentId;
			out.push(limitRecordDepth({ ...rest, parentId: typeof ownParent === 'number' ? ownParent : parentId }, maxDepth) as StRecord);
		}
		if (Array.isArray(subcategories)) {
			const id = typeof rest.id === 'number' ? rest.id : null;
			for (let i = subcategories.length - 1; i >= 0; i--) stack.push({ record: subcategories[i], parentId: id, level: level + 1 });
		}
	}
	return out;
}
