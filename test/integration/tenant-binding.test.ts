import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bindTenant, readTenantBinding } from '../../lib';
import { runCliCaptured } from '../support/cli';
import { createTestDatabase } from '../support/database';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(120_000);

/**
 * A database is synced with one ServiceTitan tenant; the command line records which and refuses to sync, push or
 * resolve against another (migration 0015, cli/tenant-binding.ts).
 */
describe('the tenant a database is synced with', () => {
	let h: SyncHarness;
	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(async () => h.close());

	it('is recorded by the first command that talks to ServiceTitan and does its work (not a dry run, not a refused one); another tenant is refused', async () => {
		const dry = await runCliCaptured(['full', '--dry-run', '--entity', 'categories'], h.env);
		expect(dry.code).toBe(0);
		expect(await readTenantBinding(h.t.db)).toBeUndefined();
		// A refused command writes nothing, the binding included.
		const unknown = await runCliCaptured(['resolve', '12345', '--resolution', 'use_st', '--by', 'ann'], h.env);
		expect(unknown.code).toBe(1);
		expect(await readTenantBinding(h.t.db)).toBeUndefined();

		const first = await runCliCaptured(['full', '--entity', 'categories'], h.env);
		expect(first.code).toBe(0);
		expect(await readTenantBinding(h.t.db)).toEqual({
			kind: 'servicetitan',
			key: `integration:${h.sim.tenantId}`,
			description: `ServiceTitan tenant ${h.sim.tenantId} (integration)`,
		});

		const requestsBefore = h.sim.control.requestCounts().api;
		for (const other of [{ ST_TENANT_ID: '999' }, { ST_ENV: 'production' }]) {
			for (const argv of [['incremental'], ['entity', 'materials', '1'], ['resolve', '1', '--resolution', 'use_st', '--by', 'ann']]) {
				const refused = await runCliCaptured(argv, { ...h.env, ...other });
				expect({ argv, other, code: refused.code }).toEqual({ argv, other, code: 2 });
				expect(refused.stderr).toMatch(
					new RegExp(
						`this database is synced with ServiceTitan tenant ${h.sim.tenantId} \\(integration\\), not with ServiceTitan tenant \\d+ \\(\\w+\\): set the ST_\\* settings of`,
					),
				);
			}
		}
		// Refused before a single request reached either tenant.
		expect(h.sim.control.requestCounts().api).toBe(requestsBefore);
		// Without ST_* settings the message names the tenant whose settings are wanted.
		const noSettings = await runCliCaptured(['incremental'], { DATABASE_URL: h.env.DATABASE_URL });
		expect(noSettings.code).toBe(2);
		expect(noSettings.stderr).toMatch(new RegExp(`synced with ServiceTitan tenant ${h.sim.tenantId} \\(integration\\): set that tenant's ST_\\* settings`));
	});

	it("start's sandbox tenant is refused for a database synced with a real tenant, or holding syncs of an unnamed one", async () => {
		const cwd = mkdtempSync(path.join(tmpdir(), 'pricebook-binding-'));
		const bound = await createTestDatabase();
		const unnamed = await createTestDatabase();
		try {
			await bindTenant(bound.db, { kind: 'servicetitan', key: 'production:42', description: 'ServiceTitan tenant 42 (production)' });
			const refused = await runCliCaptured(['start', '--items', '20'], { DATABASE_URL: bound.url }, { cwd });
			expect(refused.code).toBe(2);
			expect(refused.stderr).toMatch(/synced with ServiceTitan tenant 42 \(production\), and the sandbox tenant would mix made-up items into it/);

			await unnamed.db.none("INSERT INTO sync_runs (entity_type, kind, status, trigger) VALUES ('materials', 'full', 'succeeded', 'n8n')");
			const history = await runCliCaptured(['start', '--items', '20'], { DATABASE_URL: unnamed.url }, { cwd });
			expect(history.code).toBe(2);
			expect(history.stderr).toMatch(/already holds syncs of a ServiceTitan tenant it does not name/);
			expect(await readTenantBinding(unnamed.db)).toBeUndefined();
			expect(await unnamed.db.one('SELECT count(*)::int AS n FROM pricebook_materials')).toEqual({ n: 0 });
		} finally {
			await bound.drop();
			await unnamed.drop();
			rmSync(cwd, { recursive: true, force: true });
		}
	});
});
