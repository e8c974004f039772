import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCliCaptured } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(120_000);

let t: TestDatabase;
/** Where start runs: it keeps the sandbox tenant (and the status page) in .data there. */
let cwd: string;
beforeAll(async () => {
	t = await createTestDatabase({ migrated: false });
	cwd = mkdtempSync(path.join(tmpdir(), 'pricebook-start-'));
});
afterAll(async () => {
	await t.drop();
	rmSync(cwd, { recursive: true, force: true });
});

describe('pricebook-sync start (npm start)', () => {
	it('migrates, runs a full sync, then shows a day of changes on the sandbox tenant, and says where to look', async () => {
		const run = await runCliCaptured(['start', '--items', '300'], { DATABASE_URL: t.url }, { cwd });
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		expect(run.stdout).toMatch(/ServiceTitan: the bundled simulator as a sandbox tenant/);
		expect(run.stdout).toMatch(/schema: migrated to/);
		// The progress lines go where the command's output goes (not around it, to the process's stdout).
		expect(run.stdout).toMatch(/^materials: page 1, 300 of 300 items$/m);
		expect(run.stdout).toMatch(/materials\s+full: succeeded[\s\S]*new 300/);
		expect(run.stdout).toMatch(/materials\s+incremental: succeeded[\s\S]*changed in ST 1, changed locally 1, conflicts 1/);
		expect(run.stdout).toMatch(/Conflict \d+ waits for a person/);
		expect(run.stdout).toMatch(/Health: YELLOW/);
		expect(run.stdout).toMatch(/pricebook-sync conflicts/);
		const rows = await t.db.one("SELECT count(*)::int AS n FROM pricebook_materials WHERE sync_status = 'conflict'");
		expect(rows.n).toBe(1);
		// Again on the same database: the data and the sandbox tenant are reused, the sync converges, nothing breaks.
		const again = await runCliCaptured(['start'], { DATABASE_URL: t.url }, { cwd });
		expect(again.stderr).toBe('');
		expect(again.code).toBe(0);
		expect(again.stdout).toMatch(/schema: up to date/);
		expect(again.stdout).toMatch(/sandbox tenant .*300 materials, the one kept in \.data\/sandbox-tenant\.json\.gz/);
		expect(again.stdout).toMatch(/materials\s+full: succeeded[\s\S]*new 0, deleted in ST 0, changed in ST 0/);
		expect(again.stdout).toMatch(/Conflict \d+ waits for a person/);
	});

	it('bad configuration ends at once with one line that says what to fix', async () => {
		const unreachable = await runCliCaptured(['start'], { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' });
		expect(unreachable.code).toBe(2);
		expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
		expect(unreachable.stderr).toMatch(/cannot connect to PostgreSQL/);
		const partialSt = await runCliCaptured(['start'], { DATABASE_URL: t.url, ST_CLIENT_ID: 'abc' });
		expect(partialSt.code).toBe(2);
		expect(partialSt.stderr).toMatch(/ST_CLIENT_SECRET is missing/);
		expect((await runCliCaptured(['start', '--items', 'lots'], { DATABASE_URL: t.url })).code).toBe(2);
	});
});
