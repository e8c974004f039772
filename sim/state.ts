import { minFractionDigits, type SimClock } from './clock';
import type { SeedData, SimEntity, SimRecord } from './data';
import { SimListing } from './listing';
import { SimMutations } from './mutations';
import { RecordOrders } from './ordering';
import type { Rng } from './random';
import { SimRenderer } from './render';
import { badRequestAnswer, notFound, type SimResult } from './results';
import { SimStore } from './store';
import type { SimQuirks } from './types';

// The server answers its own errors (401, 404, 429) in the same shape.
export { problem, type SimResult } from './results';

/**
 * The simulated pricebook as the server and the control interface see it: each API operation as a status and
 * body. The work is done by SimStore (records, ids, clock), SimListing (filters, paging, export feed) and
 * SimMutations (validated and raw changes); this turns their BadRequests into 400 answers.
 */
export class SimState {
	private readonly store: SimStore;
	private readonly renderer: SimRenderer;
	private readonly listing: SimListing;
	private readonly mutations: SimMutations;

	constructor(
		private readonly rng: Rng,
		clock: SimClock,
		quirks: () => SimQuirks,
		setQuirks: (quirks: Partial<SimQuirks>) => void,
		/** The tenant's records: generated from a seed, or restored from a snapshot. */
		contents: SeedData,
	) {
		this.store = new SimStore(rng, clock, contents, () => minFractionDigits(quirks().timestampDigits));
		this.renderer = new SimRenderer(this.store, quirks);
		this.listing = new SimListing(this.store, new RecordOrders(this.store, quirks), this.renderer, clock, quirks);
		this.mutations = new SimMutations(this.store, quirks, setQuirks);
	}

	// ---- reads ----

	/** See SimStore.contents. */
	contents(): SeedData {
		return this.store.contents();
	}

	record(entity: SimEntity, id: number): SimRecord | undefined {
		return this.store.get(entity, id);
	}

	/** See SimStore.followClock. */
	followClock(): void {
		this.store.followClock();
	}

	ids(entity: SimEntity, includeInactive: boolean): number[] {
		return [...this.store.live(entity)].filter((r) => includeInactive || r.active).map((r) => r.id);
	}

	/** The response shape of one record (services get category objects; categories their children if nested). */
	render(entity: SimEntity, record: SimRecord, nested?: boolean): Record<string, unknown> {
		return this.renderer.render(entity, record, nested);
	}

	// ---- API operations ----

	list(entity: SimEntity, query: URLSearchParams): SimResult {
		return this.answer(() => ({ status: 200, body: this.listing.list(entity, query) }));
	}

	getOne(entity: SimEntity, id: number): SimResult {
		const record = this.store.get(entity, id);
		if (!record) return notFound(entity, id, this.rng);
		return { status: 200, body: this.renderer.render(entity, record) };
	}

	create(entity: SimEntity, body: unknown): SimResult {
		return this.answer(() => ({ status: 201, body: this.renderer.render(entity, this.mutations.create(entity, body)) }));
	}

	patch(entity: SimEntity, id: number, body: unknown): SimResult {
		if (!this.store.has(entity, id)) return notFound(entity, id, this.rng);
		return this.answer(() => ({ status: 200, body: this.renderer.render(entity, this.mutations.patch(entity, id, body).answered) }));
	}

	remove(entity: SimEntity, id: number): SimResult {
		if (!this.store.has(entity, id)) return notFound(entity, id, this.rng);
		this.mutations.deleteRecord(entity, id);
		return { status: 204 };
	}

	/** See SimListing.exportFeed. */
	exportFeed(entity: SimEntity, query: URLSearchParams): SimResult {
		return this.answer(() => ({ status: 200, body: this.listing.exportFeed(entity, query) }));
	}

	// ---- changes made "in ServiceTitan" by the control interface ----

	updateRaw(entity: SimEntity, id: number, patch: Record<string, unknown>, modifiedOn?: string): SimRecord {
		return this.mutations.updateRaw(entity, id, patch, modifiedOn);
	}

	deactivate(entity: SimEntity, id: number): SimRecord {
		return this.mutations.deactivate(entity, id);
	}

	deleteRecord(entity: SimEntity, id: number): void {
		this.mutations.deleteRecord(entity, id);
	}

	createRaw(entity: SimEntity, fields: Record<string, unknown>): SimRecord {
		return this.mutations.createRaw(entity, fields);
	}

	private answer(operation: () => SimResult): SimResult {
		try {
			return operation();
		} catch (error: unknown) {
			return badRequestAnswer(error, this.rng);
		}
	}
}
