import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closeDb, connectDb, type Db } from '../../lib/db/connection';
import { markEngineWrites } from '../../lib/db/engine-session';
import { loadMigrations, migrate } from '../../lib/db/migrate';
import { roleSetupSql, type RoleNames } from '../../lib/db/roles';
import { SyncEngine } from '../../lib/sync/engine';
import { runCliCaptured } from '../support/cli';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

/**
 * The three roles of docs/security.md, set up in a fresh database exactly as `pricebook-sync roles` prints them, each
 * used through a login of its own: the protections hold only because the roles differ, so nothing here runs as the
 * superuser that the rest of the tests use.
 */
let h: SyncHarness;
let names: RoleNames;
let admin: Db;
let engine: Db;
let retool: Db;
let dashboard: Db;
let engineUrl: string;
let dashboardUrl: string;

function asRole(url: string, role: string, password: string): string {
	const u = new URL(url);
	u.username = role;
	u.password = password;
	return u.toString();
}

const denied = /permission denied|must be owner/;

beforeAll(async () => {
	h = await startHarness({ database: { migrated: false } });
	// Roles belong to the whole server: names taken from this file's own database, so concurrent test runs never
	// share or drop each other's.
	names = { engine: `${h.t.name}_engine`, retool: `${h.t.name}_retool`, dashboard: `${h.t.name}_dashboard` };
	admin = connectDb({ connectionString: h.t.url, max: 1, applicationName: `roles-admin-${h.t.name}` });
	const password = randomBytes(12).toString('hex');
	for (const statement of roleSetupSql(names)) await admin.none(statement);
	for (const role of Object.values(names)) await admin.none('ALTER ROLE $1:name PASSWORD $2', [role, password]);
	engineUrl = asRole(h.t.url, names.engine, password);
	dashboardUrl = asRole(h.t.url, names.dashboard, password);
	engine = connectDb({ connectionString: engineUrl, max: 4, applicationName: `engine-${h.t.name}` });
	retool = connectDb({ connectionString: asRole(h.t.url, names.retool, password), max: 2, applicationName: `retool-${h.t.name}` });
	dashboard = connectDb({ connectionString: dashboardUrl, max: 2, applicationName: `dashboard-${h.t.name}` });
});

afterAll(async () => {
	for (const db of [engine, retool, dashboard, admin]) if (db) await closeDb(db);
	await h?.close();
	if (names) {
		const server = connectDb({ connectionString: process.env.TEST_DATABASE_URL as string, max: 1, applicationName: `roles-drop-${h.t.name}` });
		try {
			for (const role of Object.values(names)) await server.none('DROP ROLE IF EXISTS $1:name', [role]);
		} finally {
			await closeDb(server);
		}
	}
});

describe('the engine role', () => {
	it('migrates and grants without being a superuser', async () => {
		expect(await engine.one('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).toEqual({ rolsuper: false });
		await migrate(engine);
		const grant = await runCliCaptured(['roles', '--apply', '--engine', names.engine, '--retool', names.retool, '--dashboard', names.dashboard], {
			DATABASE_URL: engineUrl,
		});
		expect(grant.stderr).toBe('');
		expect(grant.code).toBe(0);
		expect(await engine.one("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'pricebook_materials'::regclass")).toEqual({
			owner: names.engine,
		});
	});

	it('runs a full sync against ServiceTitan and pushes what Retool edited', async () => {
		const sync = new SyncEngine({ db: engine, st: h.client });
		for (const r of await sync.runMany('full', ['categories', 'services', 'materials', 'equipment'])) expect(r.success).toBe(true);
		const synced = await engine.one<{ n: number }>("SELECT count(*)::int AS n FROM pricebook_materials WHERE sync_status = 'synced'");
		expect(synced.n).toBe(h.sim.control.listIds('materials').length);

		const id = h.sim.control.listIds('materials')[0];
		await retool.none('UPDATE pricebook_materials SET display_name = $2 WHERE id = $1', [id, 'Edited in Retool']);
		h.sim.control.advanceClock(60_000);
		const pushed = await sync.run({ kind: 'incremental', entityType: 'materials' });
		expect(pushed.success).toBe(true);
		expect(await engine.one('SELECT sync_status, display_name FROM pricebook_materials WHERE id = $1', [id])).toEqual({
			sync_status: 'synced',
			display_name: 'Edited in Retool',
		});
	});

	it('runs status', async () => {
		const run = await runCliCaptured(['status', '--json'], { DATABASE_URL: engineUrl });
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		expect(JSON.parse(run.stdout).materials.total).toBeGreaterThan(0);
	});

	it('may hard-delete and TRUNCATE only after opting in for the transaction', async () => {
		await engine.tx(async (tx) => {
			await markEngineWrites(tx);
			await tx.none("INSERT INTO pricebook_equipment (id, code, sync_status) VALUES (990001, 'GONE', 'synced')");
		});
		await expect(engine.none('DELETE FROM pricebook_equipment WHERE id = 990001')).rejects.toThrow(/hard DELETE/);
		await expect(engine.none('TRUNCATE vendor_price_history')).rejects.toThrow(/TRUNCATE of vendor_price_history is not allowed/);
		await engine.tx(async (tx) => {
			await tx.none("SET LOCAL pricebook_sync.allow_hard_delete = 'on'");
			await tx.none('DELETE FROM pricebook_equipment WHERE id = 990001');
			await tx.none('TRUNCATE vendor_price_history');
		});
		expect(await engine.one('SELECT count(*)::int AS n FROM pricebook_equipment WHERE id = 990001')).toEqual({ n: 0 });
	});
});

describe('the Retool role', () => {
	let synced: number;
	beforeAll(async () => {
		synced = (await engine.one<{ id: number }>("SELECT id FROM pricebook_materials WHERE sync_status = 'synced' ORDER BY id LIMIT 1")).id;
	});

	it('inserts new items and vendor prices: a new item waits to be created in ServiceTitan', async () => {
		const { id } = await retool.one<{ id: number }>(
			"INSERT INTO pricebook_materials (code, description, price) VALUES ('RT-NEW', 'New from Retool', 3.5) RETURNING id",
		);
		expect(id).toBeLessThan(0);
		await retool.none("INSERT INTO vendor_prices (material_id, vendor, vendor_sku, price) VALUES ($1, 'ced', 'RT-CED-1', 2.25)", [id]);
		expect(await retool.one('SELECT sync_status FROM pricebook_materials WHERE id = $1', [id])).toEqual({ sync_status: 'pending_push' });
	});

	it('cannot pass its edits off as the engine: the setting is ignored, the edit is still pushed', async () => {
		// Session-level, as a pooled connection would keep it for every later edit.
		await retool.task(async (task) => {
			await task.none("SET pricebook_sync.origin = 'engine'");
			await task.none('UPDATE pricebook_materials SET price = 77.7 WHERE id = $1', [synced]);
			await task.none('RESET pricebook_sync.origin');
		});
		expect(await engine.one('SELECT sync_status, sync_direction FROM pricebook_materials WHERE id = $1', [synced])).toEqual({
			sync_status: 'pending_push',
			sync_direction: 'to_st',
		});
		// Nor can it write the sync's own columns, or give a row ServiceTitan's id, under the mark.
		await expect(
			retool.tx(async (tx) => {
				await markEngineWrites(tx);
				await tx.none("UPDATE pricebook_materials SET sync_status = 'synced' WHERE id = $1", [synced]);
			}),
		).rejects.toThrow(/kept by the sync/);
		await expect(
			retool.tx(async (tx) => {
				await markEngineWrites(tx);
				await tx.none("INSERT INTO pricebook_materials (id, code) VALUES (424242, 'FORGED')");
			}),
		).rejects.toThrow(/get their id from ServiceTitan/);
	});

	it('cannot delete, truncate or change the schema', async () => {
		await expect(retool.none('DELETE FROM pricebook_materials WHERE id = $1', [synced])).rejects.toThrow(denied);
		await expect(retool.none('DELETE FROM vendor_prices')).rejects.toThrow(denied);
		await expect(retool.none('TRUNCATE pricebook_materials CASCADE')).rejects.toThrow(denied);
		await expect(retool.none('ALTER TABLE pricebook_materials DISABLE TRIGGER USER')).rejects.toThrow(denied);
		await expect(retool.none('CREATE TABLE retool_scratch (id int)')).rejects.toThrow(denied);
		await expect(retool.none('UPDATE sync_conflicts SET status = status')).rejects.toThrow(denied);
		await expect(retool.none('UPDATE vendor_price_history SET price = price')).rejects.toThrow(denied);
	});

	it('reads the views', async () => {
		const rows = await retool.any('SELECT entity_type FROM pricebook_sync_status_v');
		expect(rows).toHaveLength(4);
	});

	it('cannot switch off the delete guards even when granted DELETE and TRUNCATE by mistake', async () => {
		await engine.none('GRANT DELETE, TRUNCATE ON pricebook_materials, vendor_prices, vendor_price_history TO $1:name', [names.retool]);
		const before = await engine.one<{ n: number }>('SELECT count(*)::int AS n FROM vendor_prices');
		expect(before.n).toBeGreaterThan(0);
		await expect(
			retool.tx(async (tx) => {
				await tx.none("SET LOCAL pricebook_sync.allow_hard_delete = 'on'");
				await tx.none('DELETE FROM pricebook_materials WHERE id = $1', [synced]);
			}),
		).rejects.toMatchObject({ message: expect.stringMatching(/hard DELETE/), hint: expect.stringMatching(/counts only for the engine's role/) });
		await expect(
			retool.tx(async (tx) => {
				await tx.none("SET LOCAL pricebook_sync.allow_hard_delete = 'on'");
				await tx.none('TRUNCATE pricebook_materials CASCADE');
			}),
		).rejects.toThrow(/TRUNCATE of pricebook_materials is not allowed/);
		expect(await engine.one('SELECT count(*)::int AS n FROM vendor_prices')).toEqual(before);

		// Applying the grants again leaves exactly the documented ones.
		const again = await runCliCaptured(['roles', '--apply', '--engine', names.engine, '--retool', names.retool, '--dashboard', names.dashboard], {
			DATABASE_URL: engineUrl,
		});
		expect(again.code).toBe(0);
		await expect(retool.none('DELETE FROM vendor_prices')).rejects.toThrow(denied);
	});
});

describe('the dashboard role', () => {
	it('reads the tables and views and writes nothing', async () => {
		expect((await dashboard.any('SELECT * FROM pricebook_open_conflicts_v')).length).toBeGreaterThanOrEqual(0);
		expect((await dashboard.one<{ n: number }>('SELECT count(*)::int AS n FROM pricebook_materials')).n).toBeGreaterThan(0);
		await expect(dashboard.none("UPDATE pricebook_materials SET price = 1 WHERE code = 'RT-NEW'")).rejects.toThrow(denied);
		await expect(dashboard.none("INSERT INTO pricebook_materials (code) VALUES ('DASH')")).rejects.toThrow(denied);
		await expect(dashboard.none("INSERT INTO vendor_prices (vendor, vendor_sku, price) VALUES ('ced', 'D-1', 1)")).rejects.toThrow(denied);
		await expect(dashboard.none('DELETE FROM sync_runs')).rejects.toThrow(denied);
		await expect(dashboard.none('CREATE TABLE dashboard_scratch (id int)')).rejects.toThrow(denied);
	});

	it('runs pricebook-sync status, which must not need CREATE on the schema', async () => {
		const run = await runCliCaptured(['status', '--json'], { DATABASE_URL: dashboardUrl });
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
	});
});

describe('pricebook-sync roles --apply', () => {
	it('refuses a Retool role that could pass for the engine', async () => {
		await admin.none('GRANT $1:name TO $2:name', [names.engine, names.retool]);
		try {
			const run = await runCliCaptured(['roles', '--apply', '--engine', names.engine, '--retool', names.retool, '--dashboard', names.dashboard], {
				DATABASE_URL: engineUrl,
			});
			expect(run.code).toBe(2);
			expect(run.stderr).toMatch(new RegExp(`role ${names.retool} is a member of the engine role`));
		} finally {
			await admin.none('REVOKE $1:name FROM $2:name', [names.engine, names.retool]);
		}
	});

	it('refuses to migrate as a role that is not the engine, saying who may', async () => {
		const dir = await fs.mkdtemp(path.join(tmpdir(), 'pb-roles-'));
		try {
			for (const m of await loadMigrations()) await fs.writeFile(path.join(dir, `${m.version}_${m.name}.sql`), m.sql);
			await fs.writeFile(path.join(dir, '9999_later.sql'), 'CREATE TABLE later_table (id int);');
			await expect(migrate(dashboard, { dir })).rejects.toThrow(/Migration 9999_later needs the engine's role .*permission denied for schema public/);
		} finally {
			await fs.rm(dir, { recursive: true, force: true });
		}
	});
});

describe('pricebook-sync roles', () => {
	it('prints the setup and the grants, with the names given', async () => {
		const run = await runCliCaptured(['roles', '--retool', 'rt'], {});
		expect(run.code).toBe(0);
		expect(run.stdout).toContain('CREATE ROLE "pricebook_engine" LOGIN;');
		expect(run.stdout).toContain('GRANT USAGE ON SEQUENCE "public"."pricebook_local_id_seq" TO "rt";');
		expect(run.stdout).not.toMatch(/GRANT[^;]*DELETE/);
		const bad = await runCliCaptured(['roles', '--retool', 'Robert"; DROP'], {});
		expect(bad.code).toBe(2);
	});
});
