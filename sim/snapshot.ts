import { SIM_ENTITIES, type SeedData, type SimEntity, type SimRecord } from './data';
import type { SimQuirks } from './types';

export const SNAPSHOT_FORMAT = 'pricebook-st-simulator-tenant';

/**
 * A simulated tenant as plain JSON: its records and tombstones, id counters, ServiceTitan's clock and the
 * credentials its clients use. `startSimulator({ restore })` serves the same tenant again, so a sandbox tenant can
 * outlive the process that made it (the CLI keeps the demo's tenant under `.data`). Not kept: issued tokens
 * (clients fetch new ones), faults and the request log, which belong to one test or one run.
 */
export interface SimSnapshot {
	format: typeof SNAPSHOT_FORMAT;
	version: 1;
	savedAt: string;
	/** The seed the tenant was generated from (its later random choices start from a seed derived from it). */
	seed: number;
	tenantId: string;
	clientId: string;
	clientSecret: string;
	appKey: string;
	/** How far ServiceTitan's clock runs ahead of the machine's, ms (`control.advanceClock`). */
	clockOffsetMs: number;
	quirks: SimQuirks;
	records: Record<SimEntity, SimRecord[]>;
	tombstones: Record<SimEntity, SimRecord[]>;
	nextSkuId: number;
	nextCategoryId: number;
	nextVendorLinkId: number;
	/** The latest modifiedOn handed out, in ticks, as a decimal string (JSON has no bigint). */
	lastTicks: string;
}

/** The store's contents as a snapshot holds them. */
export function snapshotContents(
	contents: SeedData,
): Pick<SimSnapshot, 'records' | 'tombstones' | 'nextSkuId' | 'nextCategoryId' | 'nextVendorLinkId' | 'lastTicks'> {
	const none = (): SimRecord[] => [];
	return {
		records: { services: contents.services, materials: contents.materials, equipment: contents.equipment, categories: contents.categories },
		tombstones: contents.tombstones ?? { services: none(), materials: none(), equipment: none(), categories: none() },
		nextSkuId: contents.nextSkuId,
		nextCategoryId: contents.nextCategoryId,
		nextVendorLinkId: contents.nextVendorLinkId,
		lastTicks: contents.lastTicks.toString(),
	};
}

/** What the store is built from when a snapshot is restored. */
export function contentsOf(snapshot: SimSnapshot): SeedData {
	return {
		...snapshot.records,
		tombstones: snapshot.tombstones,
		nextSkuId: snapshot.nextSkuId,
		nextCategoryId: snapshot.nextCategoryId,
		nextVendorLinkId: snapshot.nextVendorLinkId,
		lastTicks: BigInt(snapshot.lastTicks),
	};
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `value` as a snapshot, or an error naming the first thing that is wrong: a file read back may be damaged, cut
 * short, or from another version, and a tenant half restored would serve wrong data without saying so.
 */
export function checkSnapshot(value: unknown): SimSnapshot {
	const fail = (what: string): never => {
		throw new Error(`not a simulated tenant snapshot this version reads: ${what}`);
	};
	if (!isObject(value) || value.format !== SNAPSHOT_FORMAT) return fail(`format is not "${SNAPSHOT_FORMAT}"`);
	if (value.version !== 1) return fail(`version ${String(value.version)} (this version reads 1)`);
	for (const key of ['tenantId', 'clientId', 'clientSecret', 'appKey', 'savedAt', 'lastTicks'] as const) {
		if (typeof value[key] !== 'string') fail(`${key} is missing`);
	}
	if (!/^\d+$/.test(value.lastTicks as string)) fail('lastTicks is not a whole number');
	for (const key of ['seed', 'clockOffsetMs', 'nextSkuId', 'nextCategoryId', 'nextVendorLinkId'] as const) {
		if (typeof value[key] !== 'number' || !Number.isFinite(value[key])) fail(`${key} is not a number`);
	}
	if (!isObject(value.quirks)) fail('quirks are missing');
	for (const group of ['records', 'tombstones'] as const) {
		const lists = value[group];
		if (!isObject(lists)) return fail(`${group} are missing`);
		for (const entity of SIM_ENTITIES) {
			const list = lists[entity];
			if (!Array.isArray(list)) return fail(`${group}.${entity} is not a list`);
			const bad = list.findIndex((r) => !isObject(r) || typeof r.id !== 'number' || typeof r.modifiedOn !== 'string' || typeof r.createdOn !== 'string');
			if (bad >= 0) fail(`${group}.${entity}[${bad}] is not a record`);
		}
	}
	return value as unknown as SimSnapshot;
}
