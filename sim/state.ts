import { formatStTicks, parseTicks, randomPrecisionTicks, type SimClock } from './clock';
import { generateSeedData, VENDORS, type SeedData, type SimCounts, type SimEntity, type SimRecord } from './data';
import { convertField, FieldError, REQUIRED_ON_CREATE, WRITABLE_FIELDS, type FieldContext } from './fields';
import { hash32, randomHex, type Rng } from './random';
import type { SimQuirks } from './types';

export interface SimResult {
	status: number;
	body?: unknown;
}

const MAX_PAGE_SIZE = 5000;
const MAX_IDS = 50;

/** An RFC 7807 body as ST sends it (ApiErrorResponse: every field required). */
export function problem(status: number, title: string, rng: Rng, errors: Record<string, string[]> = {}): SimResult {
	const types: Record<number, string> = {
		400: 'https://tools.ietf.org/html/rfc7231#section-6.5.1',
		401: 'https://tools.ietf.org/html/rfc7235#section-3.1',
		404: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
	};
	return {
		status,
		body: {
			type: types[status] ?? 'about:blank',
			title,
			status,
			traceId: `00-${randomHex(rng, 16)}-${randomHex(rng, 8)}-00`,
			errors,
			data: {},
		},
	};
}

class BadRequest extends Error {
	constructor(readonly errors: Record<string, string[]>) {
		super('One or more validation errors occurred.');
	}
}

const SORT_FIELDS: Record<string, string> = {
	id: 'id',
	modifiedon: 'modifiedOn',
	createdon: 'createdOn',
	code: 'code',
	displayname: 'displayName',
	name: 'name',
	price: 'price',
};

interface Ordering {
	field: string;
	descending: boolean;
}

/** The simulated pricebook: records, their lifecycle, listing, paging and the export feed. */
export class SimState {
	private readonly items: Record<SimEntity, Map<number, SimRecord>>;
	/** Hard-deleted records, still visible (inactive) in the export feed. */
	private readonly tombstones: Record<SimEntity, Map<number, SimRecord>>;
	private readonly versions: Record<SimEntity, number> = { services: 0, materials: 0, equipment: 0, categories: 0 };
	private readonly ticksCache = new WeakMap<SimRecord, { modified: bigint; created: bigint }>();
	private readonly orderCache = new Map<string, { version: number; records: SimRecord[] }>();
	private readonly snapshots = new Map<string, number[]>();
	private readonly vendorNames = new Map(VENDORS.map((v) => [v.vendorId, v.vendorName]));
	private nextSkuId: number;
	private nextCategoryId: number;
	private nextVendorLinkId: number;
	private lastTicks: bigint;

	constructor(
		private readonly rng: Rng,
		private readonly clock: SimClock,
		private readonly quirks: () => SimQuirks,
		counts: SimCounts,
	) {
		const seed: SeedData = generateSeedData(rng, counts, clock.now());
		const byId = (records: SimRecord[]): Map<number, SimRecord> => new Map(records.map((r) => [r.id, r]));
		this.items = {
			services: byId(seed.services),
			materials: byId(seed.materials),
			equipment: byId(seed.equipment),
			categories: byId(seed.categories),
		};
		this.tombstones = { services: new Map(), materials: new Map(), equipment: new Map(), categories: new Map() };
		this.nextSkuId = seed.nextSkuId;
		this.nextCategoryId = seed.nextCategoryId;
		this.nextVendorLinkId = seed.nextVendorLinkId;
		this.lastTicks = seed.lastTicks;
	}

	// ---- reads ----

	record(entity: SimEntity, id: number): SimRecord | undefined {
		return this.items[entity].get(id);
	}

	ids(entity: SimEntity, includeInactive: boolean): number[] {
		return [...this.items[entity].values()].filter((r) => includeInactive || r.active).map((r) => r.id);
	}

	/** The response shape of one record (services get category objects; categories their children if nested). */
	render(entity: SimEntity, record: SimRecord, nested = this.quirks().categoriesNested): Record<string, unknown> {
		if (entity === 'services') {
			const ids = Array.isArray(record.categories) ? (record.categories as number[]) : [];
			const categories = ids.flatMap((id) => {
				const c = this.items.categories.get(id);
				return c ? [{ id: c.id, name: c.name, active: c.active }] : [];
			});
			return { ...record, categories };
		}
		if (entity === 'categories') {
			if (!nested) return { ...record, subcategories: [] };
			const all = [...this.items.categories.keys()];
			return this.renderTree(record, all, new Set(all));
		}
		return record;
	}

	// ---- API operations ----

	list(entity: SimEntity, query: URLSearchParams): SimResult {
		try {
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
				? slice.map((r) => this.renderTree(r, matches.map((m) => m.id), matchIds))
				: slice.map((r) => this.render(entity, r));
			return {
				status: 200,
				body: { page, pageSize, hasMore: page * pageSize < ordered.length, totalCount: includeTotal ? ordered.length : null, data },
			};
		} catch (error: unknown) {
			return this.failure(error);
		}
	}

	getOne(entity: SimEntity, id: number): SimResult {
		const record = this.items[entity].get(id);
		if (!record) return this.notFound(entity, id);
		return { status: 200, body: this.render(entity, record) };
	}

	create(entity: SimEntity, body: unknown): SimResult {
		try {
			if (!isObject(body)) throw new BadRequest({ '': ['A non-empty request body is required.'] });
			const missing = REQUIRED_ON_CREATE[entity].filter((f) => body[f] === undefined || body[f] === null);
			if (missing.length > 0) throw new BadRequest(Object.fromEntries(missing.map((f) => [f, [`The ${f} field is required.`]])));
			const base = this.blankRecord(entity);
			const record = { ...base, ...this.convert(entity, base, body) } as SimRecord;
			this.store(entity, record);
			return { status: 201, body: this.render(entity, record) };
		} catch (error: unknown) {
			return this.failure(error);
		}
	}

	patch(entity: SimEntity, id: number, body: unknown): SimResult {
		const current = this.items[entity].get(id);
		if (!current) return this.notFound(entity, id);
		try {
			if (!isObject(body)) throw new BadRequest({ '': ['A non-empty request body is required.'] });
			const changes = this.convert(entity, current, body);
			const updated = { ...current, ...changes, ...this.touch() } as SimRecord;
			this.store(entity, updated);
			return { status: 200, body: this.render(entity, updated) };
		} catch (error: unknown) {
			return this.failure(error);
		}
	}

	remove(entity: SimEntity, id: number): SimResult {
		if (!this.items[entity].has(id)) return this.notFound(entity, id);
		this.deleteRecord(entity, id);
		return { status: 204 };
	}

	/**
	 * The export feed: every record (inactive and deleted ones too) in (modifiedOn, id) order, resumable from
	 * `continueFrom`. Changes younger than `exportDelayMs` wait unless `includeRecentChanges=true`.
	 */
	exportFeed(entity: SimEntity, query: URLSearchParams): SimResult {
		try {
			const includeRecent = boolParam(query, 'includeRecentChanges') ?? false;
			const from = query.get('from');
			const start = from ? decodeCursor(from) : { ticks: -1n, id: 0 };
			const horizon = includeRecent ? undefined : BigInt(this.clock.now() - this.quirks().exportDelayMs) * 10_000n;
			const all = this.exportOrder(entity);
			const after = all.filter((r) => {
				const t = this.ticks(r).modified;
				return (t > start.ticks || (t === start.ticks && r.id > start.id)) && (horizon === undefined || t <= horizon);
			});
			const batch = after.slice(0, this.quirks().exportBatchSize);
			const last = batch[batch.length - 1];
			const continueFrom = last ? encodeCursor(this.ticks(last).modified, last.id) : (from ?? encodeCursor(-1n, 0));
			return {
				status: 200,
				body: {
					hasMore: after.length > batch.length,
					continueFrom,
					data: batch.map((r) => this.render(entity, r, false)),
				},
			};
		} catch (error: unknown) {
			return this.failure(error);
		}
	}

	// ---- changes made "in ServiceTitan" by the control interface ----

	updateRaw(entity: SimEntity, id: number, patch: Record<string, unknown>, modifiedOn?: string): SimRecord {
		const current = this.requireRecord(entity, id);
		const stamp = modifiedOn ? this.explicitStamp(modifiedOn) : this.touch();
		const updated = { ...current, ...patch, id, ...stamp, createdOn: current.createdOn } as SimRecord;
		this.store(entity, updated);
		return updated;
	}

	deactivate(entity: SimEntity, id: number): SimRecord {
		return this.updateRaw(entity, id, { active: false });
	}

	deleteRecord(entity: SimEntity, id: number): void {
		const current = this.requireRecord(entity, id);
		if (this.quirks().deleteMode === 'deactivate') {
			this.updateRaw(entity, id, { active: false });
			return;
		}
		this.items[entity].delete(id);
		this.tombstones[entity].set(id, { ...current, active: false, ...this.touch() });
		this.versions[entity] += 1;
	}

	createRaw(entity: SimEntity, fields: Record<string, unknown>): SimRecord {
		const base = this.blankRecord(entity);
		const record = { ...base, ...fields, id: base.id, createdOn: base.createdOn, modifiedOn: base.modifiedOn } as SimRecord;
		this.store(entity, record);
		return record;
	}

	// ---- internals ----

	private requireRecord(entity: SimEntity, id: number): SimRecord {
		const record = this.items[entity].get(id);
		if (!record) throw new Error(`simulator: no ${entity} record ${id}`);
		return record;
	}

	private store(entity: SimEntity, record: SimRecord): void {
		this.items[entity].set(record.id, record);
		this.tombstones[entity].delete(record.id);
		this.versions[entity] += 1;
	}

	/** A new, strictly later modifiedOn from ST's clock, at a random precision as ST's own values have. */
	private touch(): { modifiedOn: string } {
		let ticks = randomPrecisionTicks(this.rng, this.clock.now());
		if (ticks <= this.lastTicks) ticks = this.lastTicks + 1n;
		this.lastTicks = ticks;
		return { modifiedOn: formatStTicks(ticks) };
	}

	private explicitStamp(modifiedOn: string): { modifiedOn: string } {
		const ticks = parseTicks(modifiedOn);
		if (ticks > this.lastTicks) this.lastTicks = ticks;
		return { modifiedOn };
	}

	private ticks(record: SimRecord): { modified: bigint; created: bigint } {
		let cached = this.ticksCache.get(record);
		if (!cached) {
			cached = { modified: parseTicks(record.modifiedOn), created: parseTicks(record.createdOn) };
			this.ticksCache.set(record, cached);
		}
		return cached;
	}

	private convert(entity: SimEntity, current: SimRecord, body: Record<string, unknown>): Record<string, unknown> {
		const specs = WRITABLE_FIELDS[entity];
		const errors: Record<string, string[]> = {};
		const out: Record<string, unknown> = {};
		const ctx: FieldContext = {
			vendorName: (vendorId) => this.vendorNames.get(vendorId),
			exists: (target, id) => this.items[target].has(id),
			nextVendorLinkId: () => this.nextVendorLinkId++,
			current: (field) => current[field],
			wouldCycle: (parentId) => {
				for (let at: number | null = parentId; at !== null; ) {
					if (at === current.id) return true;
					const parent: unknown = this.items.categories.get(at)?.parentId;
					at = typeof parent === 'number' ? parent : null;
				}
				return false;
			},
		};
		for (const [field, value] of Object.entries(body)) {
			const spec = specs[field];
			if (!spec || value === undefined) continue; // unknown or read-only: ignored, like ST
			try {
				const converted = convertField(field, spec, value, ctx);
				if (spec.kind !== 'writeOnly') out[spec.storeAs ?? field] = converted;
			} catch (error: unknown) {
				if (!(error instanceof FieldError)) throw error;
				(errors[error.field] ??= []).push(error.message);
			}
		}
		if (Object.keys(errors).length > 0) throw new BadRequest(errors);
		return out;
	}

	private blankRecord(entity: SimEntity): SimRecord {
		const stamp = this.touch();
		const times = { createdOn: stamp.modifiedOn, modifiedOn: stamp.modifiedOn };
		if (entity === 'categories') {
			return {
				id: this.nextCategoryId++,
				name: '',
				active: true,
				description: null,
				image: null,
				parentId: null,
				position: 0,
				categoryType: 'Materials',
				businessUnitIds: [],
				skuImages: [],
				skuVideos: [],
				source: null,
				externalId: null,
				hideInMobile: false,
				...times,
			};
		}
		const sku = {
			id: this.nextSkuId++,
			code: '',
			displayName: null,
			description: '',
			active: true,
			price: 0,
			memberPrice: 0,
			addOnPrice: 0,
			addOnMemberPrice: 0,
			hours: 0,
			bonus: 0,
			commissionBonus: 0,
			paysCommission: false,
			taxable: true,
			account: null,
			cost: 0,
			categories: [],
			assets: [],
			source: null,
			externalId: null,
			externalData: null,
			defaultAssetUrl: null,
			budgetCostCode: null,
			budgetCostType: null,
			...times,
		};
		if (entity === 'materials') {
			return {
				...sku,
				deductAsJobCost: false,
				unitOfMeasure: null,
				isInventory: false,
				costOfSaleAccount: null,
				assetAccount: null,
				primaryVendor: null,
				otherVendors: [],
				isConfigurableMaterial: false,
				chargeableByDefault: true,
				variationsOrConfigurableMaterials: [],
				businessUnitId: null,
				createdById: 1001,
				displayInAmount: false,
				generalLedgerAccountId: null,
				isOtherDirectCost: false,
				costTypeId: null,
			};
		}
		if (entity === 'equipment') {
			return {
				...sku,
				manufacturer: null,
				model: null,
				manufacturerWarranty: { duration: 0 },
				serviceProviderWarranty: { duration: 0 },
				recommendations: [],
				upgrades: [],
				equipmentMaterials: [],
				primaryVendor: null,
				otherVendors: [],
				costOfSaleAccount: null,
				assetAccount: null,
				crossSaleGroup: null,
				unitOfMeasure: null,
				isInventory: false,
				isConfigurableEquipment: false,
				variationsOrConfigurableEquipment: [],
				typeId: null,
				displayInAmount: false,
				generalLedgerAccountId: null,
				dimensions: null,
			};
		}
		return {
			...sku,
			warranty: null,
			isLabor: false,
			recommendations: [],
			upgrades: [],
			serviceMaterials: [],
			serviceEquipment: [],
			crossSaleGroup: null,
			businessUnitId: null,
			soldByCommission: 0,
		};
	}

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
			const parts = idsParam.split(',').map((s) => s.trim()).filter(Boolean);
			if (parts.length > MAX_IDS) throw new BadRequest({ ids: [`Maximum ${MAX_IDS} IDs are allowed.`] });
			if (parts.some((p) => !/^\d+$/.test(p))) throw new BadRequest({ ids: [`The value '${idsParam}' is not valid.`] });
			ids = new Set(parts.map(Number));
		}
		const categoryType = entity === 'categories' ? query.get('categoryType') : null;
		if (categoryType && categoryType !== 'Services' && categoryType !== 'Materials') {
			throw new BadRequest({ categoryType: ['Values: [Services, Materials]'] });
		}
		const out: SimRecord[] = [];
		for (const record of this.items[entity].values()) {
			if (active === 'true' && !record.active) continue;
			if (active === 'false' && record.active) continue;
			if (ids && !ids.has(record.id)) continue;
			if (categoryType && record.categoryType !== categoryType) continue;
			if (modifiedOnOrAfter !== undefined || modifiedBefore !== undefined || createdOnOrAfter !== undefined || createdBefore !== undefined) {
				const t = this.ticks(record);
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
		const ordering = this.ordering(entity, query);
		const sorted = this.sortedAll(entity, ordering);
		const keep = new Set(matches);
		const live = matches.length === this.items[entity].size ? sorted : sorted.filter((r) => keep.has(r));
		if (this.quirks().pageDrift) return live;
		const listingKey = [...query.entries()].filter(([k]) => k !== 'page').map(([k, v]) => `${k}=${v}`).sort().join('&');
		const key = `${entity}?${listingKey}`;
		const page = intParam(query, 'page', 1);
		if (page === 1 || !this.snapshots.has(key)) {
			this.snapshots.set(key, live.map((r) => r.id));
			if (this.snapshots.size > 50) this.snapshots.delete(this.snapshots.keys().next().value as string);
		}
		const ids = this.snapshots.get(key) as number[];
		return ids.flatMap((id) => {
			const r = this.items[entity].get(id);
			return r ? [r] : [];
		});
	}

	private ordering(entity: SimEntity, query: URLSearchParams): Ordering | 'shuffled' {
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

	private sortedAll(entity: SimEntity, ordering: Ordering | 'shuffled'): SimRecord[] {
		const key = `${entity}:${ordering === 'shuffled' ? 'shuffled' : `${ordering.field}:${ordering.descending}`}`;
		const cached = this.orderCache.get(key);
		if (cached && cached.version === this.versions[entity]) return cached.records;
		const records = [...this.items[entity].values()];
		if (ordering === 'shuffled') {
			records.sort((a, b) => hash32('order', a.id) - hash32('order', b.id) || a.id - b.id);
		} else {
			const { field, descending } = ordering;
			const value = (r: SimRecord): bigint | number | string => {
				if (field === 'modifiedOn') return this.ticks(r).modified;
				if (field === 'createdOn') return this.ticks(r).created;
				const v = r[field];
				return typeof v === 'number' ? v : String(v ?? '');
			};
			records.sort((a, b) => {
				const va = value(a);
				const vb = value(b);
				const c = va < vb ? -1 : va > vb ? 1 : a.id - b.id;
				return descending ? -c : c;
			});
		}
		this.orderCache.set(key, { version: this.versions[entity], records });
		return records;
	}

	private exportOrder(entity: SimEntity): SimRecord[] {
		const key = `${entity}:export`;
		const cached = this.orderCache.get(key);
		if (cached && cached.version === this.versions[entity]) return cached.records;
		const records = [...this.items[entity].values(), ...this.tombstones[entity].values()];
		records.sort((a, b) => {
			const ta = this.ticks(a).modified;
			const tb = this.ticks(b).modified;
			return ta < tb ? -1 : ta > tb ? 1 : a.id - b.id;
		});
		this.orderCache.set(key, { version: this.versions[entity], records });
		return records;
	}

	private renderTree(record: SimRecord, candidates: number[], allowed: Set<number>): Record<string, unknown> {
		const children = candidates
			.map((id) => this.items.categories.get(id))
			.filter((c): c is SimRecord => c !== undefined && c.parentId === record.id && allowed.has(c.id))
			.sort((a, b) => (a.position as number) - (b.position as number) || a.id - b.id);
		return { ...record, subcategories: children.map((c) => this.renderTree(c, candidates, allowed)) };
	}

	private notFound(entity: SimEntity, id: number): SimResult {
		const noun = { services: 'Service', materials: 'Material', equipment: 'Equipment', categories: 'Category' }[entity];
		return problem(404, `${noun} with id ${id} was not found.`, this.rng);
	}

	private failure(error: unknown): SimResult {
		if (error instanceof BadRequest) return problem(400, error.message, this.rng, error.errors);
		throw error;
	}
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intParam(query: URLSearchParams, name: string, fallback: number): number {
	const value = query.get(name);
	if (value === null || value === '') return fallback;
	if (!/^-?\d+$/.test(value)) throw new BadRequest({ [name]: [`The value '${value}' is not valid.`] });
	return Number(value);
}

function boolParam(query: URLSearchParams, name: string): boolean | undefined {
	const value = query.get(name);
	if (value === null || value === '') return undefined;
	if (/^true$/i.test(value)) return true;
	if (/^false$/i.test(value)) return false;
	throw new BadRequest({ [name]: [`The value '${value}' is not valid.`] });
}

function encodeCursor(ticks: bigint, id: number): string {
	return Buffer.from(`v1:${ticks}:${id}`).toString('base64url');
}

/** A continuation token of ours, or a date/time such as `2020-01-01` (start at that moment). */
function decodeCursor(from: string): { ticks: bigint; id: number } {
	const decoded = Buffer.from(from, 'base64url').toString('utf8');
	const m = /^v1:(-?\d+):(\d+)$/.exec(decoded);
	if (m) return { ticks: BigInt(m[1]), id: Number(m[2]) };
	const date = /^\d{4}-\d{2}-\d{2}$/.test(from) ? `${from}T00:00:00Z` : from;
	try {
		// "On or after" the date: start just before it.
		return { ticks: parseTicks(date) - 1n, id: Number.MAX_SAFE_INTEGER };
	} catch {
		throw new BadRequest({ from: [`The value '${from}' is not a valid continuation token or date.`] });
	}
}
