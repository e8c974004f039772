import { pgp } from '../../lib/db/connection';
import { ServiceTitanClient } from '../../lib/servicetitan/client';
import { SyncEngine } from '../../lib/sync/engine';
import type { SyncSettings } from '../../lib/sync/runs';
import type { SimulatorHandle, SimulatorOptions } from '../../sim/types';
import { startCheckedSimulator, type ContractLog } from './st-sim';
import { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from './database';

export interface SyncHarness {
	t: TestDatabase;
	sim: SimulatorHandle;
	/** Every exchange with the simulator, checked against ServiceTitan's OpenAPI document on close(). */
	contract: ContractLog;
	client: ServiceTitanClient;
	engine: SyncEngine;
	/** Environment for the CLI pointing at this database and simulator. */
	env: NodeJS.ProcessEnv;
	close(): Promise<void>;
}

/** A fresh database, a running simulator, a client and an engine wired together. */
export async function startHarness(
	options: { sim?: SimulatorOptions; settings?: Partial<SyncSettings>; database?: TestDatabaseOptions } = {},
): Promise<SyncHarness> {
	const t = await createTestDatabase(options.database);
	const checked = await startCheckedSimulator({
		seed: 7,
		counts: { categories: 12, materials: 60, equipment: 20, services: 30 },
		...options.sim,
	});
	const sim = checked.sim;
	const client = checked.client({ maxRetries: 3, requestsPerSecond: 10_000 });
	const engine = new SyncEngine({ db: t.db, st: client, settings: options.settings });
	return {
		t,
		sim,
		contract: checked.contract,
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
			await checked.stop();
			await t.drop();
			const violations = checked.contract.violations();
			if (violations.length > 0) throw new Error(`ServiceTitan contract violations:\n${violations.slice(0, 20).join('\n')}`);
		},
	};
}

/** A plain UPDATE as Retool sends it: no session settings, no special columns. */
export async function retoolUpdate(t: TestDatabase, table: string, id: number, values: Record<string, unknown>): Promise<void> {
	await t.db.none('UPDATE $1:name SET $2:raw WHERE id = $3', [table, pgp().helpers.sets(values), id]);
}
