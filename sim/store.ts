import { atLeastDigits, formatStTicks, parseTicks, randomPrecisionTicks, type SimClock } from './clock';
import { SIM_ENTITIES, type SeedData, type SimEntity, type SimRecord } from './data';
import type { Rng } from './random';

/** A record's modifiedOn and createdOn as ticks, for comparing without parsing again. */
export interface RecordTicks {
	modified: bigint;
	created: bigint;
}

const perEntity = <T>(make: () => T): Record<SimEntity, T> => ({ services: make(), materials: make(), equipment: make(), categories: make() });

/**
 * The tenant's stored pricebook: live records, tombstones of hard-deleted ones, the id counters and ST's
 * modifiedOn clock. Nothing here validates; callers decide what may be stored.
 */
export class SimStore {
	private readonly items: Record<SimEntity, Map<number, SimRecord>>;
	/** Hard-deleted records, still visible (inactive) in the export feed. */
	private readonly tombstones = perEntity(() => new Map<number, SimRecord>());
	/** Bumped on every change of an entity, so orders cached for it know they are stale. */
	private readonly versions = perEntity(() => 0);
	private readonly ticksCache = new WeakMap<SimRecord, RecordTicks>();
	private nextSkuId: number;
	private nextCategoryId: number;
	private nextVendorLinkId: number;
	private lastTicks: bigint;

	constructor(
		private readonly rng: Rng,
		private readonly clock: SimClock,
		seed: SeedData,
		/** The fewest fractional digits a new modifiedOn has (see the `timestampDigits` quirk). */
		private readonly minDigits: () => number = () => 0,
	) {
		const byId = (records: SimRecord[]): Map<number, SimRecord> => new Map(records.map((r) => [r.id, r]));
		this.items = {
			services: byId(seed.services),
			materials: byId(seed.materials),
			equipment: byId(seed.equipment),
			categories: byId(seed.categories),
		};
		for (const entity of SIM_ENTITIES) for (const record of seed.tombstones?.[entity] ?? []) this.tombstones[entity].set(record.id, record);
		this.nextSkuId = seed.nextSkuId;
		this.nextCategoryId = seed.nextCategoryId;
		this.nextVendorLinkId = seed.nextVendorLinkId;
		this.lastTicks = seed.lastTicks;
		// Parsed now, at start-up, not inside the first request that filters or orders by time: a benchmark times
		// the sync's requests, and the simulator's one-off parsing of 50,000 stamps is not the sync's cost.
		for (const map of Object.values(this.items)) for (const record of map.values()) this.ticks(record);
	}

	/** Everything stored, in the shape the constructor takes: a restarted store given it holds the same tenant. */
	contents(): SeedData {
		return {
			services: [...this.items.services.values()],
			materials: [...this.items.materials.values()],
			equipment: [...this.items.equipment.values()],
			categories: [...this.items.categories.values()],
			tombstones: {
				services: [...this.tombstones.services.values()],
				materials: [...this.tombstones.materials.values()],
				equipment: [...this.tombstones.equipment.values()],
				categories: [...this.tombstones.categories.values()],
			},
			nextSkuId: this.nextSkuId,
			nextCategoryId: this.nextCategoryId,
			nextVendorLinkId: this.nextVendorLinkId,
			lastTicks: this.lastTicks,
		};
	}

	get(entity: SimEntity, id: number): SimRecord | undefined {
		return this.items[entity].get(id);
	}

	has(entity: SimEntity, id: number): boolean {
		return this.items[entity].has(id);
	}

	/** How many live records the entity has. */
	size(entity: SimEntity): number {
		return this.items[entity].size;
	}

	/** Live records in insertion order. */
	live(entity: SimEntity): IterableIterator<SimRecord> {
		return this.items[entity].values();
	}

	liveIds(entity: SimEntity): number[] {
		return [...this.items[entity].keys()];
	}

	tombstoned(entity: SimEntity): IterableIterator<SimRecord> {
		return this.tombstones[entity].values();
	}

	version(entity: SimEntity): number {
		return this.versions[entity];
	}

	/** Stores `record` as live (bringing a tombstoned id back to life). */
	put(entity: SimEntity, record: SimRecord): void {
		this.items[entity].set(record.id, record);
		this.tombstones[entity].delete(record.id);
		this.versions[entity] += 1;
	}

	/** Removes a live record, leaving `tombstone` for the export feed. */
	bury(entity: SimEntity, id: number, tombstone: SimRecord): void {
		this.items[entity].delete(id);
		this.tombstones[entity].set(id, tombstone);
		this.versions[entity] += 1;
	}

	allocateSkuId(): number {
		return this.nextSkuId++;
	}

	allocateCategoryId(): number {
		return this.nextCategoryId++;
	}

	allocateVendorLinkId(): number {
		return this.nextVendorLinkId++;
	}

	/** A new, strictly later modifiedOn from ST's clock, at a random precision as ST's own values have. */
	touch(): { modifiedOn: string } {
		const minDigits = this.minDigits();
		let ticks = randomPrecisionTicks(this.rng, this.clock.now(), minDigits);
		if (ticks <= this.lastTicks) ticks = atLeastDigits(this.lastTicks + 1n, minDigits);
		this.lastTicks = ticks;
		return { modifiedOn: formatStTicks(ticks) };
	}

	/**
	 * ServiceTitan's clock was stepped (a correction, or a jump that is undone): later stamps follow the clock as
	 * it now reads, even when that is before stamps already handed out, as a server whose clock moved does.
	 */
	followClock(): void {
		this.lastTicks = BigInt(Math.floor(this.clock.now())) * 10_000n - 1n;
	}

	/** A modifiedOn set from outside (the control interface); later touches stay after it. */
	explicitStamp(modifiedOn: string): { modifiedOn: string } {
		const ticks = parseTicks(modifiedOn);
		if (ticks > this.lastTicks) this.lastTicks = ticks;
		return { modifiedOn };
	}

	ticks(record: SimRecord): RecordTicks {
		let cached = this.ticksCache.get(record);
		if (!cached) {
			cached = { modified: parseTicks(record.modifiedOn), created: parseTicks(record.createdOn) };
			this.ticksCache.set(record, cached);
		}
		return cached;
	}
}
