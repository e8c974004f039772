import { createTestDatabase, type TestDatabase } from '../support/database';
import { runCliCaptured } from '../support/cli';

let t: TestDatabase;

beforeAll(async () => {
	t = await createTestDatabase({ migrated: false });
});
afterAll(async () => t.drop());

describe('pricebook-sync migrate', () => {
	it('migrates an empty database, then reports it up to date', async () => {
		const first = await runCliCaptured(['migrate', '--json'], { DATABASE_URL: t.url });
		expect(first.code).toBe(0);
		const result = JSON.parse(first.stdout);
		expect(result.applied).toContain('0001_initial_schema');
		const tables = await t.db.any("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'pricebook_%' ORDER BY 1");
		expect(tables.map((r) => r.tablename)).toEqual(['pricebook_categories', 'pricebook_equipment', 'pricebook_materials', 'pricebook_services']);

		const second = await runCliCaptured(['migrate'], { DATABASE_URL: t.url });
		expect(second.code).toBe(0);
		expect(second.stdout).toMatch(/up to date/);
	});

	it('exits 2 with one line naming DATABASE_URL when it is missing or malformed', async () => {
		const missing = await runCliCaptured(['migrate'], {});
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/DATABASE_URL is not set/);
		const malformed = await runCliCaptured(['migrate'], { DATABASE_URL: 'mysql://nope' });
		expect(malformed.code).toBe(2);
		expect(malformed.stderr).toMatch(/not a postgres:\/\/ URL/);
	});

	it('exits 2 with a clear line when the server cannot be reached, without echoing the password', async () => {
		const run = await runCliCaptured(['migrate'], { DATABASE_URL: 'postgres://u:s3cret-pw@127.0.0.1:1/x' });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/cannot connect to PostgreSQL/);
		expect(run.stderr).not.toContain('s3cret-pw');
		expect(run.stderr.split('\n')).toHaveLength(1);
	});

	it('exits 2 on an unknown option and shows the usage', async () => {
		const run = await runCliCaptured(['migrate', '--bogus'], { DATABASE_URL: t.url });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/unknown option --bogus/);
		expect(run.stderr).toMatch(/Usage: pricebook-sync migrate/);
	});

	it('prints help for the tool and the command', async () => {
		const tool = await runCliCaptured(['--help'], {});
		expect(tool.code).toBe(0);
		expect(tool.stdout).toMatch(/migrate/);
		const command = await runCliCaptured(['migrate', '--help'], {});
		expect(command.code).toBe(0);
		expect(command.stdout).toMatch(/--json/);
	});
});
