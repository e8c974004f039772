import { pgp } from '../../lib/db/connection';
import { ServiceTitanClient } from '../../lib/servicetitan/client';
import { SyncEngine } from '../../lib/sync/engine';
import type { SyncSettings } from '../../lib/sync/runs';
import { startSimulator } from '../../sim/server';
import type { SimulatorHandle, SimulatorOptions } from '../../sim/types';
import { createTestDatabase, type TestDatabase } from './database';

export interface SyncHarness {
	t: TestDatabase;
	sim: SimulatorHandle;
	client: ServiceTitanClient;
	engine: SyncEngine;
	/** Environment for the CLI pointing at this database and simulator. */
	env: NodeJS.ProcessEnv;
	close(): Promise<void>;
}

export function clientFor(sim: SimulatorHandle): ServiceTitanClient {
	return new ServiceTitanClient(
		{
			clientId: sim.clientId,
			clientSecret: sim.clientSecret,
			appKey: sim.appKey,
			tenantId: sim.tenantId,
			environment: 'integration',
			authUrl: sim.tokenUrl,
			apiBaseUrl: sim.apiBaseUrl,
		},
		// Tests do not wait out real backoff: retries still happen, just without the pause.
		{ sleep: async () => undefined, maxRetries: 3, requestsPerSecond: 10_000 },
	);
}

/** A fresh database, a running simulator, a client and an engine wired together. */
export async function startHarness(
	options: { sim?: SimulatorOptions; settings?: Partial<SyncSettings> } = {},
): Promise<SyncHarness> {
	const t = await createTestDatabase();
	const sim = await startSimulator({ seed: 7, counts: { categories: 12, materials: 60, equipment: 20, services: 30 }, ...options.sim });
	const client = clientFor(sim);
	const engine = new SyncEngine({ db: t.db, st: client, settings: options.settings });
	return {
		t,
		sim,
		client,
		engine,
		env: {
			DATABASE_URL: t.url,
			ST_CLIENT_ID: sim.clientId,
			ST_CLIENT_SECRET: sim.clientSecret,
			ST_APP_KEY: sim.appKey,
			ST_TENANT_ID: sim.tenantId,
			ST_ENV: 'integration',
			ST_AUTH_URL: sim.tokenUrl,
			ST_API_BASE_URL: sim.apiBaseUrl,
		},
		close: async () => {
			await sim.stop();
			await t.drop();
		},
	};
}

/** A plain UPDATE as Retool sends it: no session settings, no special columns. */
export async function retoolUpdate(t: TestDatabase, table: string, id: number, values: Record<string, unknown>): Promise<void> {
	await t.db.none('UPDATE $1:name SET $2:raw WHERE id = $3', [table, pgp().helpers.sets(values), id]);
}
