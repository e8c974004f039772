import { parseTicks, type SimClock } from './clock';
import type { SimEntity, SimRecord } from './data';
import { decodeCursor, encodeCursor } from './export-cursor';
import type { RecordOrders } from './ordering';
import { boolParam, intParam } from './query-params';
import type { SimRenderer } from './render';
import { BadRequest } from './results';
import type { SimStore } from './store';
import type { SimQuirks } from './types';

const MAX_PAGE_SIZE = 5000;
const MAX_IDS = 50;
/** Listings whose page order is remembered (see pageOrder); the oldest is forgotten first. */
const MAX_SNAPSHOTS = 50;

/** The read side of the API: filtered, paged listings and the export feed. Throws BadRequest for bad queries. */
export class SimListing {
	/** Per listing (its query without `page`), the ids in the order page 1 saw them. */
	private readonly snapshots = new Map<string, number[]>();

	constructor(
		private readonly store: SimStore,
		private readonly orders: RecordOrders,
		private readonly renderer: SimRenderer,
		private readonly clock: SimClock,
		private readonly quirks: () => SimQuirks,
	) {}

	/** The body of a 200 answer to a listing. */
	list(entity: SimEntity, query: URLSearchParams): Record<string, unknown> {
		const page = intParam(query, 'page', 1);
		const pageSize = intParam(query, 'pageSize', 50);
		if (page < 1) throw new BadRequest({ page: ['The field page must be greater than or equal to 1.'] });
		if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
			throw new BadRequest({ pageSize: [`The field pageSize must be between 1 and ${MAX_PAGE_SIZE}.`] });
		}
		const includeTotal = boolParam(query, 'includeTotal') ?? false;
		const matches = this.filter(entity, query);
		const nested = entity === 'categories' && this.quirks().categoriesNested;
		const matchIds = new Set(matches.map((r) => r.id));
		// Nested: a match whose parent also matches is shown inside the parent, never on its own.
		const top = nested ? matches.filter((r) => !(typeof r.parentId === 'number' && matchIds.has(r.parentId))) : matches;
		const ordered = this.pageOrder(entity, query, top);
		const slice = ordered.slice((page - 1) * pageSize, page * pageSize);
		const data = nested
			? slice.map((r) =>
					this.renderer.renderTree(
						r,
						matches.map((m) => m.id),
						matchIds,
					),
				)
			: slice.map((r) => this.renderer.render(entity, r));
		return { page, pageSize, hasMore: page * pageSize < ordered.length, totalCount: includeTotal ? ordered.length : null, data };
	}

	/**
	 * The body of a 200 answer from the export feed: every record (inactive and deleted ones too) in
	 * (modifiedOn, id) order, resumable from `continueFrom`. Changes younger than `exportDelayMs` wait unless
	 * `includeRecentChanges=true`.
	 */
	exportFeed(entity: SimEntity, query: URLSearchParams): Record<string, unknown> {
		const includeRecent = boolParam(query, 'includeRecentChanges') ?? false;
		const from = query.get('from');
		const start = from ? decodeCursor(from) : { ticks: -1n, id: 0 };
		const horizon = includeRecent ? undefined : BigInt(this.clock.now() - this.quirks().exportDelayMs) * 10_000n;
		const all = this.orders.exportOrder(entity);
		const after = all.filter((r) => {
			const t = this.store.ticks(r).modified;
			return (t > start.ticks || (t === start.ticks && r.id > start.id)) && (horizon === undefined || t <= horizon);
		});
		const batch = after.slice(0, this.quirks().exportBatchSize);
		const last = batch[batch.length - 1];
		const continueFrom = last ? encodeCursor(this.store.ticks(last).modified, last.id) : (from ?? encodeCursor(-1n, 0));
		return {
			hasMore: after.length > batch.length,
			continueFrom,
			data: batch.map((r) => this.renderer.renderExport(entity, r)),
		};
	}

	/** The live records a listing's filters (active, modified/created bounds, ids, categoryType, searchText) let through. */
	private filter(entity: SimEntity, query: URLSearchParams): SimRecord[] {
		const active = (query.get('active') ?? 'True').toLowerCase();
		if (!['true', 'false', 'any'].includes(active)) {
			throw new BadRequest({ active: [`The value '${query.get('active')}' is not valid. Values: [True, Any, False]`] });
		}
		const bound = (name: string): bigint | undefined => {
			const value = query.get(name);
			if (value === null || value === '') return undefined;
			try {
				return parseTicks(value);
			} catch {
				throw new BadRequest({ [name]: [`The value '${value}' is not valid.`] });
			}
		};
		const modifiedOnOrAfter = bound('modifiedOnOrAfter');
		const modifiedBefore = bound('modifiedBefore');
		const createdOnOrAfter = bound('createdOnOrAfter');
		const createdBefore = bound('createdBefore');
		let ids: Set<number> | undefined;
		const idsParam = query.get('ids');
		if (entity !== 'categories' && idsParam) {
			const parts = idsParam
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean);
			if (parts.length > MAX_IDS) throw new BadRequest({ ids: [`Maximum ${MAX_IDS} IDs are allowed.`] });
			if (parts.some((p) => !/^\d+$/.test(p))) throw new BadRequest({ ids: [`The value '${idsParam}' is not valid.`] });
			ids = new Set(parts.map(Number));
		}
		const categoryType = entity === 'categories' ? query.get('categoryType') : null;
		if (categoryType && categoryType !== 'Services' && categoryType !== 'Materials') {
			throw new BadRequest({ categoryType: ['Values: [Services, Materials]'] });
		}
		// ServiceTitan's text search: a case-insensitive match anywhere in the code, name or description (not exact:
		// a client looking for one code must check the code of what comes back). Categories declare no searchText.
		const search = entity !== 'categories' ? (query.get('searchText') ?? '').trim().toLowerCase() : '';
		// Categories without timestamps (a live tenant's) cannot be filtered by them: the filters are ignored.
		const timeFiltered = entity !== 'categories' || this.quirks().categoryTimestamps;
		const out: SimRecord[] = [];
		for (const record of this.store.live(entity)) {
			if (active === 'true' && !record.active) continue;
			if (active === 'false' && record.active) continue;
			if (ids && !ids.has(record.id)) continue;
			if (categoryType && record.categoryType !== categoryType) continue;
			if (
				search &&
				!['code', 'displayName', 'description'].some((k) =>
					String(record[k] ?? '')
						.toLowerCase()
						.includes(search),
				)
			)
				continue;
			if (
				timeFiltered &&
				(modifiedOnOrAfter !== undefined || modifiedBefore !== undefined || createdOnOrAfter !== undefined || createdBefore !== undefined)
			) {
				const t = this.store.ticks(record);
				if (modifiedOnOrAfter !== undefined && t.modified < modifiedOnOrAfter) continue;
				if (modifiedBefore !== undefined && t.modified >= modifiedBefore) continue;
				if (createdOnOrAfter !== undefined && t.created < createdOnOrAfter) continue;
				if (createdBefore !== undefined && t.created >= createdBefore) continue;
			}
			out.push(record);
		}
		return out;
	}

	/** The order pages are cut from; see the `order` and `pageDrift` quirks. */
	private pageOrder(entity: SimEntity, query: URLSearchParams, matches: SimRecord[]): SimRecord[] {
		const ordering = this.orders.ordering(entity, query);
		const sorted = this.orders.sortedAll(entity, ordering);
		const keep = new Set(matches);
		const live = matches.length === this.store.size(entity) ? sorted : sorted.filter((r) => keep.has(r));
		if (this.quirks().pageDrift) return live;
		const listingKey = [...query.entries()]
			.filter(([k]) => k !== 'page')
			.map(([k, v]) => `${k}=${v}`)
			.sort()
			.join('&');
		const key = `${entity}?${listingKey}`;
		const page = intParam(query, 'page', 1);
		if (page === 1 || !this.snapshots.has(key)) {
			this.snapshots.set(
				key,
				live.map((r) => r.id),
			);
			if (this.snapshots.size > MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value as string);
		}
		const ids = this.snapshots.get(key) as number[];
		return ids.flatMap((id) => {
			const r = this.store.get(entity, id);
			return r ? [r] : [];
		});
	}
}
