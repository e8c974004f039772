import { closeDb, connectDb } from '../../lib/db/connection';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(60_000);

const made: TestDatabase[] = [];
afterAll(async () => {
	for (const t of made) await t.drop();
});

describe('database handles', () => {
	it('opens handles to two databases on one server without a false "duplicate database object" warning', async () => {
		// CI's server URL has no password; pg-promise's own check then masked the database name and took the
		// second handle for a duplicate of the first, printing a warning in every test file with two databases.
		const printed = jest.spyOn(console, 'log');
		try {
			made.push(await createTestDatabase({ migrated: false }), await createTestDatabase({ migrated: false }));
			const names = await Promise.all(made.map((t) => t.db.one<{ name: string }>('SELECT current_database() AS name')));
			expect(names.map((n) => n.name)).toEqual(made.map((t) => t.name));
			expect(printed.mock.calls.flat().join('\n')).not.toMatch(/duplicate database object/);
		} finally {
			printed.mockRestore();
		}
	});

	it('keeps one handle per connection however the configuration spells it, and a fresh one after closing', async () => {
		const [t] = made;
		const url = t.url; // t.db is a handle of its own (max 8), untouched here
		const first = connectDb(url);
		expect(connectDb({ connectionString: url })).toBe(first);
		expect(connectDb({ connectionString: url, max: 10, applicationName: 'pricebook-sync' })).toBe(first);
		expect(connectDb({ connectionString: url, max: 2 })).not.toBe(first);
		await closeDb(connectDb({ connectionString: url, max: 2 }));
		await closeDb(first);
		const again = connectDb(url);
		expect(again).not.toBe(first);
		expect((await again.one<{ ok: number }>('SELECT 1 AS ok')).ok).toBe(1);
		await closeDb(again);
	});
});
