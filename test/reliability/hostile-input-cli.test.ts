import { expectCliRefuses } from './hostile/cli';
import { entityCommandCases, reportingCases, resolveCommandCases, runCommandCases, startCases, unknownCommand, vendorCases } from './hostile/cli-cases';
import { check, hostileInputFile, RUNS, useRefusalWorld } from './hostile/harness';

/**
 * Hostile input to every command of the CLI: generated malformed command lines (unknown options, bad entity
 * types and ids, bad --since, --resolution, --by and --merged-data, bad vendor feeds and mapping files, SQL
 * injection, Unicode edge cases). Each must exit with code 2 and a message naming the problem, before anything
 * is written: the database (every table) and ServiceTitan (not one request) stay as they were.
 */
hostileInputFile('cli');

describe('hostile input is refused, naming the problem, and changes nothing', () => {
	const world = useRefusalWorld();

	describe('command line', () => {
		it('full and incremental: bad --entity, --since, options and arguments → exit 2 naming the problem', async () => {
			await check(runCommandCases('full'), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli full', c));
			await check(runCommandCases('incremental'), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli incremental', c));
		});

		it("entity: unknown types, ids that are neither ServiceTitan's nor a new row's temporary id (0, fractions, text), missing and extra arguments → exit 2", async () => {
			await check(entityCommandCases(world.materialIds), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli entity', c));
		});

		it('resolve: bad ids, resolutions, --by and --merged-data → exit 2 naming the problem', async () => {
			await check(resolveCommandCases(world.conflictId), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli resolve', c));
			expect(await world.h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [world.conflictId])).toEqual({ status: 'open' });
		});

		it('conflicts, status, logs and migrate: bad filters and options → exit 2', async () => {
			for (const name of ['conflicts', 'status', 'logs', 'migrate'] as const) {
				await check(reportingCases(name), RUNS.cli, (c) => expectCliRefuses(world.h, `cli ${name}`, c));
			}
		});

		it('vendor-prices: bad actions, vendors, sources, formats, timeouts, mapping files and URLs → exit 2', async () => {
			await check(vendorCases(world.dir), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli vendor-prices', c));
		});

		it('start and unknown commands → exit 2', async () => {
			await check(startCases(), RUNS.cli, (c) => expectCliRefuses(world.h, 'cli start', c));
			await check(unknownCommand, RUNS.cli, (c) => expectCliRefuses(world.h, 'cli unknown command', c));
		});
	});
});
