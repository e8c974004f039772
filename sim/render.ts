import type { SimEntity, SimRecord } from './data';
import type { SimStore } from './store';
import type { SimQuirks } from './types';

/**
 * Stored records in the shape ST answers with: a service's category ids become {id, name, active} objects,
 * a category gets its `subcategories` (empty, or the nested tree when the `categoriesNested` quirk is on).
 */
export class SimRenderer {
	constructor(
		private readonly store: SimStore,
		private readonly quirks: () => SimQuirks,
	) {}

	render(entity: SimEntity, record: SimRecord, nested = this.quirks().categoriesNested): Record<string, unknown> {
		if (entity === 'services') {
			const ids = Array.isArray(record.categories) ? (record.categories as number[]) : [];
			const categories = ids.flatMap((id) => {
				const c = this.store.get('categories', id);
				return c ? [{ id: c.id, name: c.name, active: c.active }] : [];
			});
			return { ...record, categories };
		}
		if (entity === 'categories') {
			if (!nested) return { ...record, subcategories: [] };
			const all = this.store.liveIds('categories');
			return this.renderTree(record, all, new Set(all));
		}
		return record;
	}

	/** A category with its children among `candidates` that are also `allowed`, ordered by position, nested. */
	renderTree(record: SimRecord, candidates: number[], allowed: Set<number>): Record<string, unknown> {
		const children = candidates
			.map((id) => this.store.get('categories', id))
			.filter((c): c is SimRecord => c !== undefined && c.parentId === record.id && allowed.has(c.id))
			.sort((a, b) => (a.position as number) - (b.position as number) || a.id - b.id);
		return { ...record, subcategories: children.map((c) => this.renderTree(c, candidates, allowed)) };
	}
}
