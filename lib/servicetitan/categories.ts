import type { StRecord } from './types';

/**
 * Whether ST nests category listings (`subcategories`) or returns them flat is not documented, so both are
 * read into one flat shape: every category once, children after their parent, each carrying its `parentId`,
 * none carrying `subcategories` (the tree is rebuilt from `parentId` where it is needed).
 */
export function flattenCategories(records: readonly StRecord[]): StRecord[] {
	const out: StRecord[] = [];
	const seen = new Set<number>();
	const visit = (record: StRecord, parentId: number | null): void => {
		const { subcategories, ...rest } = record;
		if (!seen.has(record.id)) {
			seen.add(record.id);
			const ownParent = rest.parentId;
			out.push({ ...rest, parentId: typeof ownParent === 'number' ? ownParent : parentId } as StRecord);
		}
		if (Array.isArray(subcategories)) {
			for (const child of subcategories) visit(child as StRecord, record.id);
		}
	};
	for (const record of records) visit(record, null);
	return out;
}
