import type { SimEntity, SimRecord } from './data';
import { hash32 } from './random';
import { BadRequest } from './results';
import type { SimStore } from './store';
import type { SimQuirks } from './types';

/** ST's sort names (any case) → the stored field. */
const SORT_FIELDS: Record<string, string> = {
	id: 'id',
	modifiedon: 'modifiedOn',
	createdon: 'createdOn',
	code: 'code',
	displayname: 'displayName',
	name: 'name',
	price: 'price',
};

export interface Ordering {
	field: string;
	descending: boolean;
}

/**
 * The orders records are listed in, cached per entity until the entity next changes: sorting the whole
 * pricebook for every page would make large listings quadratic.
 */
export class RecordOrders {
	private readonly cache = new Map<string, { version: number; records: SimRecord[] }>();

	constructor(
		private readonly store: SimStore,
		private readonly quirks: () => SimQuirks,
	) {}

	/** The `sort` parameter, or the `order` quirk when there is none; an unsupported sort is a 400. */
	ordering(entity: SimEntity, query: URLSearchParams): Ordering | 'shuffled' {
		const order = this.quirks().order;
		if (order === 'shuffled') return 'shuffled';
		const sort = query.get('sort');
		if (sort) {
			const m = /^([+-]?)\s*(\w+)$/.exec(sort.trim());
			const field = m ? SORT_FIELDS[m[2].toLowerCase()] : undefined;
			const allowed = entity === 'categories' ? ['id', 'name'] : ['id', 'modifiedOn', 'createdOn', 'code', 'displayName', 'price'];
			if (!m || !field || !allowed.includes(field)) {
				throw new BadRequest({ sort: [`Sorting by '${sort}' is not supported.`] });
			}
			return { field, descending: m[1] === '-' };
		}
		return { field: order === 'modifiedOn' ? 'modifiedOn' : 'id', descending: false };
	}

	/** Every live record of the entity in `ordering`; ties broken by id. */
	sortedAll(entity: SimEntity, ordering: Ordering | 'shuffled'): SimRecord[] {
		const key = `${entity}:${ordering === 'shuffled' ? 'shuffled' : `${ordering.field}:${ordering.descending}`}`;
		return this.cached(entity, key, () => {
			const records = [...this.store.live(entity)];
			if (ordering === 'shuffled') {
				records.sort((a, b) => hash32('order', a.id) - hash32('order', b.id) || a.id - b.id);
				return records;
			}
			const { field, descending } = ordering;
			const value = (r: SimRecord): bigint | number | string => {
				if (field === 'modifiedOn') return this.store.ticks(r).modified;
				if (field === 'createdOn') return this.store.ticks(r).created;
				const v = r[field];
				return typeof v === 'number' ? v : String(v ?? '');
			};
			records.sort((a, b) => {
				const va = value(a);
				const vb = value(b);
				const c = va < vb ? -1 : va > vb ? 1 : a.id - b.id;
				return descending ? -c : c;
			});
			return records;
		});
	}

	/** Live and tombstoned records in (modifiedOn, id) order: the export feed's order. */
	exportOrder(entity: SimEntity): SimRecord[] {
		return this.cached(entity, `${entity}:export`, () => {
			// Each record's ticks looked up once, not at every comparison: a 50,000-item feed sorts in tens of ms.
			const keyed = [...this.store.live(entity), ...this.store.tombstoned(entity)].map((r) => ({ r, t: this.store.ticks(r).modified }));
			keyed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.r.id - b.r.id));
			return keyed.map((k) => k.r);
		});
	}

	private cached(entity: SimEntity, key: string, sort: () => SimRecord[]): SimRecord[] {
		const cached = this.cache.get(key);
		if (cached && cached.version === this.store.version(entity)) return cached.records;
		const records = sort();
		this.cache.set(key, { version: this.store.version(entity), records });
		return records;
	}
}
