import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ENTITY_TYPES } from '../../../lib/servicetitan/types';
import { closeDatabase } from '../../../nodes/shared/database';
import { closeServiceTitanClients } from '../../../nodes/shared/servicetitan';
import { credentialsFor } from '../../support/n8n-credentials';
import { shutdownN8n } from '../../support/n8n-harness';
import { retoolUpdate, startHarness, type SyncHarness } from '../../support/sync-harness';
import { publishHostileFigures } from './figures';
import { forgetFingerprint } from './untouched';

/**
 * Fixed seed, so every run tries the same inputs; a failure prints the shrunk input and the seed to replay it.
 * Each fc.assert starts from this seed, so splitting the suite into files tries exactly the inputs it did as one.
 */
export const SEED = 20261125;
export const RUNS = { webhook: 150, resolveWebhook: 200, statusWebhook: 60, cli: 120, roundTripGenerated: 40 };

/**
 * What each hostile-input test file does around its tests: a timeout for hundreds of inputs, and at the end its
 * figures published as `part` and n8n's engine stopped (a no-op when the file ran no workflow).
 */
export function hostileInputFile(part: string): void {
	jest.setTimeout(120_000);
	afterAll(() => {
		shutdownN8n();
		publishHostileFigures(part);
	});
}

/** Every generated input of `arb` must satisfy `predicate`. */
export function check<T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>): Promise<void> {
	forgetFingerprint();
	return fc.assert(fc.asyncProperty(arb, predicate), { seed: SEED, numRuns });
}

/** What the refusal tests run against: synced data, one open conflict, and a folder holding a vendor feed. */
export interface RefusalWorld {
	h: SyncHarness;
	conflictId: number;
	materialIds: number[];
	dir: string;
}

/**
 * Sets up a RefusalWorld before the enclosing describe's tests and removes it after them; its fields are
 * filled in by the time a test runs.
 */
export function useRefusalWorld(): RefusalWorld {
	const world = {} as RefusalWorld;
	beforeAll(async () => {
		const h = await startHarness();
		world.h = h;
		await h.engine.runMany('full', [...ENTITY_TYPES]);
		world.materialIds = h.sim.control.listIds('materials');
		world.conflictId = await openConflict(h, world.materialIds[2]);
		world.dir = mkdtempSync(path.join(tmpdir(), 'pricebook-hostile-'));
		writeFileSync(path.join(world.dir, 'feed.csv'), 'SKU,Price\nA-1,1.00\n');
	});
	beforeEach(forgetFingerprint);
	afterAll(async () => {
		if (world.dir) rmSync(world.dir, { recursive: true, force: true });
		await closeHarness(world.h);
	});
	return world;
}

/** A conflict on each material: price changed in ServiceTitan (303) and in Retool (333) since the last sync. */
export async function openConflicts(h: SyncHarness, materialIds: number[]): Promise<number[]> {
	h.sim.control.advanceClock(60_000);
	for (const id of materialIds) {
		h.sim.control.updateItem('materials', id, { price: 303 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 333 });
	}
	await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	const conflictOf = async (id: number) =>
		(await h.t.db.one<{ id: number }>("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id;
	const conflictIds = [];
	for (const id of materialIds) conflictIds.push(await conflictOf(id));
	return conflictIds;
}

export const openConflict = async (h: SyncHarness, materialId: number) => (await openConflicts(h, [materialId]))[0];

export async function closeHarness(h: SyncHarness | undefined): Promise<void> {
	if (!h) return;
	await closeDatabase(credentialsFor(h).pricebookDatabase);
	closeServiceTitanClients();
	await h.close();
}
