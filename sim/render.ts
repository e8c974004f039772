import type { SimEntity, SimRecord } from './data';
import type { SimStore } from './store';
import type { SimQuirks } from './types';

/**
 * Stored records in the shape ST answers with: a service's category ids become {id, name, active} objects (and,
 * as on a live tenant, a service carries `useStaticPrices` and `calculatedPrice`, both null); a category gets its
 * `subcategories` (empty, or the nested tree when the `categoriesNested` quirk is on) and loses its timestamps
 * unless the `categoryTimestamps` quirk is on. The export feed keeps every timestamp (`renderExport`).
 */
export class SimRenderer {
	constructor(
		private readonly store: SimStore,
		private readonly quirks: () => SimQuirks,
	) {}

	render(entity: SimEntity, record: SimRecord, nested = this.quirks().categoriesNested): Record<string, unknown> {
		if (entity === 'services') return this.renderService(record);
		if (entity === 'categories') {
			if (!nested) return { ...this.categoryFields(record), subcategories: [] };
			const all = this.store.liveIds('categories');
			return this.renderTree(record, all, new Set(all));
		}
		return record;
	}

	/** A record as the export feed answers with it: flat, and categories keep `createdOn` and `modifiedOn`. */
	renderExport(entity: SimEntity, record: SimRecord): Record<string, unknown> {
		if (entity === 'categories') return { ...record, subcategories: [] };
		return this.render(entity, record, false);
	}

	/** A category with its children among `candidates` that are also `allowed`, ordered by position, nested. */
	renderTree(record: SimRecord, candidates: number[], allowed: Set<number>): Record<string, unknown> {
		const children = candidates
			.map((id) => this.store.get('categories', id))
			.filter((c): c is SimRecord => c !== undefined && c.parentId === record.id && allowed.has(c.id))
			.sort((a, b) => (a.position as number) - (b.position as number) || a.id - b.id);
		return { ...this.categoryFields(record), subcategories: children.map((c) => this.renderTree(c, candidates, allowed)) };
	}

	private categoryFields(record: SimRecord): Record<string, unknown> {
		if (this.quirks().categoryTimestamps) return record;
		const { createdOn: _created, modifiedOn: _modified, ...rest } = record;
		return rest;
	}

	private renderService(record: SimRecord): Record<string, unknown> {
		const ids = Array.isArray(record.categories) ? (record.categories as number[]) : [];
		const categories = ids.flatMap((id) => {
			const c = this.store.get('categories', id);
			return c ? [{ id: c.id, name: c.name, active: c.active }] : [];
		});
		const extra = this.quirks().serviceNullPricing ? { useStaticPrices: null, calculatedPrice: null } : {};
		return { ...record, categories, ...extra };
	}
}
