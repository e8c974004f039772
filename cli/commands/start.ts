import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
	bindTenant,
	closeDb,
	connectDb,
	describeDbTarget,
	ENTITY_TYPES,
	failureKindOfRuns,
	getSyncStatus,
	hasSyncHistory,
	listConflicts,
	listRuns,
	migrate,
	readTenantBinding,
	renderStatusPage,
	ServiceTitanClient,
	budgetedStClient,
	stConfigFromEnv,
	SyncEngine,
	wholeNumberOf,
	type Db,
	type RunResult,
} from '../../lib';
import type { SimulatorHandle } from '../../sim/types';
import type { FlagSpec, ParsedArgs } from '../args';
import { ConfigurationError, dataFolderOf, ExitCode, hasStSettings, requireDatabaseUrl, type CliContext, type ExitCodeValue } from '../context';
import { lockDataFolder } from '../data-lock';
import { exitCodeFor } from '../errors';
import { startLocalDatabase } from '../local-database';
import { Progress } from '../progress';
import { withTeardown, type Teardown } from '../resources';
import { createSandbox, openSavedSandbox, SANDBOX_FILE, type Sandbox } from '../sandbox';
import { realTenantBinding, requireTenant, sandboxNotHere } from '../tenant-binding';
import { describeResult } from './sync-runs';

const DEFAULT_ITEMS = 5000;

/**
 * The main job, `npm start`: a real sync. With DATABASE_URL and ServiceTitan settings it runs against them; with
 * none, against the embedded default: embedded PostgreSQL and the bundled ServiceTitan simulator as a sandbox
 * tenant, both kept in `.data` and reused, where it also shows a day of syncing (an edit on each side and a
 * conflict). Every command it suggests next works on the same database and tenant (cli/resources.ts). A real
 * ServiceTitan tenant is never edited by this command.
 */
export const startCommand = {
	name: 'start',
	summary: 'the main job: migrate, full sync with progress, then (sandbox only) a day of changes; what `npm start` runs',
	usage: 'pricebook-sync start [--items <n>]',
	flags: {
		items: { type: 'string', valueName: 'n', description: `sandbox only: materials in a new simulated tenant (default ${DEFAULT_ITEMS})` },
	} as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const items =
			args.flags.items === undefined ? undefined : wholeNumberOf(args.flags.items, 'items', { label: '--items', min: 10, max: 200_000, showRange: true });
		const say = (line = '') => ctx.stdout(line);
		const started = Date.now();
		const cwd = ctx.cwd ?? process.cwd();
		const folder = dataFolderOf(ctx);
		const shown = (file: string) => path.relative(cwd, file) || file;
		// Every setting is checked before anything starts: a wrong one ends the command at once.
		const sandboxWanted = !hasStSettings(ctx.env);
		const stConfig = sandboxWanted ? undefined : stConfigFromEnv(ctx.env);
		const databaseUrl = ctx.env.DATABASE_URL ? requireDatabaseUrl(ctx.env) : undefined;

		return withTeardown(async (teardown) => {
			if (databaseUrl === undefined || sandboxWanted) {
				const lock = await lockDataFolder(folder, { command: 'start', onWait: (line) => ctx.stderr(line) });
				teardown.add(() => lock.release());
			}
			let dbUrl: string;
			if (databaseUrl !== undefined) {
				dbUrl = databaseUrl;
				say(`database: ${describeDbTarget(dbUrl)} (DATABASE_URL)`);
			} else {
				say(`database: embedded PostgreSQL (no DATABASE_URL set), data in ${shown(path.join(folder, 'postgres'))}`);
				const local = await startLocalDatabase(folder, (line) => say(`note: ${line}`));
				teardown.add(() => local.stop());
				dbUrl = local.url;
			}
			const db = connectDb({ connectionString: dbUrl, max: 10 });
			teardown.add(() => closeDb(db));
			const migrated = await migrate(db);

			let st: ServiceTitanClient;
			let sandbox: Sandbox | undefined;
			if (stConfig) {
				await requireTenant(db, realTenantBinding(stConfig), true);
				st = budgetedStClient(db, stConfig);
				say(`ServiceTitan: tenant ${stConfig.tenantId} (${stConfig.environment})`);
			} else {
				sandbox = await sandboxFor(db, { folder, cwd, items, external: databaseUrl !== undefined, teardown, say });
				st = sandbox.client();
			}
			teardown.add(() => st.close());
			say(`schema: ${migrated.applied.length ? `migrated to ${migrated.current}` : `up to date (${migrated.current})`}`);

			// Through the command's stdout like every other line: written straight to process.stdout, it escaped
			// whoever runs the command in-process (the tests' captured runs printed it among passing tests).
			const progress = new Progress((text) => ctx.stdout(text.replace(/\n$/, '')), ctx.isTTY);
			const engine = new SyncEngine({ db, st, onProgress: (e) => progress.update(e) });
			say('');
			say('1. Full sync of all four entity types (categories first):');
			const full = await engine.runMany('full', ENTITY_TYPES, { trigger: 'start' });
			progress.done();
			for (const r of full) say(describeResult(r));
			const failed = failureKindOfRuns(full);
			if (failed !== undefined) return exitCodeFor(failed);

			if (sandbox) await dayOfChanges(db, sandbox.sim, engine, progress, say);
			const page = path.join(folder, 'status.html');
			mkdirSync(folder, { recursive: true });
			const status = await getSyncStatus(db);
			const conflicts = await listConflicts(db);
			writeFileSync(page, renderStatusPage({ status, conflicts, runs: await listRuns(db, { limit: 30 }) }));
			say('');
			say(`Health: ${status.health.toUpperCase()} (${status.healthReasons.join('; ')})`);
			say(nextStepsHeading(databaseUrl !== undefined, sandbox !== undefined, shown(folder)));
			say('  npx pricebook-sync status             the health light and counts');
			say('  npx pricebook-sync conflicts          conflicts with their side-by-side diff');
			say('  npx pricebook-sync logs --csv         the run log');
			const open = conflicts.find((c) => c.status === 'open');
			if (open) say(`  npx pricebook-sync resolve ${open.id} --resolution use_st|use_local|merged --by <you>   decide conflict ${open.id}`);
			say('  npx pricebook-sync incremental        sync what changed since (what n8n runs every 15 minutes)');
			say(`  status page: ${shown(page)}`);
			say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
			return ExitCode.ok;
		});
	},
};

function nextStepsHeading(external: boolean, sandbox: boolean, folder: string): string {
	const tenant = sandbox ? `the sandbox tenant kept in ${folder}` : 'the same ST_* settings';
	return external
		? `Where to look next (in this folder, with DATABASE_URL set to the same database; ServiceTitan: ${tenant}):`
		: `Where to look next (in this folder: without DATABASE_URL each command starts the embedded database in ${folder} for as long as it runs; ServiceTitan: ${tenant}):`;
}

/**
 * The sandbox tenant for this database (the caller holds the data folder's lock): the one it is synced with, kept
 * in the data folder; or, for a database synced with none yet, the one kept there or a new one, which it is then
 * bound to. Refuses a database synced with a real tenant, or with a sandbox tenant kept elsewhere: mixing tenants'
 * items would corrupt both.
 */
async function sandboxFor(
	db: Db,
	options: { folder: string; cwd: string; items: number | undefined; external: boolean; teardown: Teardown; say: (line: string) => void },
): Promise<Sandbox> {
	const { folder, cwd, items, external, teardown, say } = options;
	const file = path.relative(cwd, path.join(folder, SANDBOX_FILE)) || path.join(folder, SANDBOX_FILE);
	const bound = await readTenantBinding(db);
	if (bound?.kind === 'servicetitan') {
		throw new ConfigurationError(
			`this database is synced with ${bound.description}, and the sandbox tenant would mix made-up items into it: ` +
				"set that tenant's ST_* settings (in the environment or .env), or give the sandbox a database of its own",
		);
	}
	if (!bound && external && (await hasSyncHistory(db))) {
		throw new ConfigurationError(
			'the database in DATABASE_URL already holds syncs of a ServiceTitan tenant it does not name, and the sandbox tenant would mix made-up items into it: ' +
				'use an empty database for the sandbox, or leave DATABASE_URL unset for the embedded one',
		);
	}
	const saved = await openSavedSandbox(folder);
	if (saved) teardown.add(() => saved.close());
	if (bound && saved?.id !== bound.key) throw sandboxNotHere(bound, saved?.id, folder, cwd);
	const sandbox = saved ?? (await createSandbox(folder, items ?? DEFAULT_ITEMS));
	if (!saved) teardown.add(() => sandbox.close());
	const nowBound = await bindTenant(db, sandbox.binding());
	if (nowBound.key !== sandbox.id) throw sandboxNotHere(nowBound, sandbox.id, folder, cwd);
	const materials = sandbox.materials();
	say(
		`ServiceTitan: the bundled simulator as a sandbox tenant (no ST_* settings set), ${materials} materials, ` +
			`${saved ? 'the one kept' : 'new, kept'} in ${file}`,
	);
	if (saved && items !== undefined && items !== materials)
		say(`note: --items ${items} applies to a new sandbox tenant only; delete ${path.relative(cwd, folder) || folder} to start afresh with one`);
	return sandbox;
}

/** Sandbox only: what the sync does day to day, on the simulated tenant. */
async function dayOfChanges(db: Db, sim: SimulatorHandle, engine: SyncEngine, progress: Progress, say: (line?: string) => void): Promise<void> {
	const [stEdit, localEdit, both] = sim.control.listIds('materials').slice(10, 13);
	const name = async (id: number) => (await db.one<{ code: string }>('SELECT code FROM pricebook_materials WHERE id = $1', [id])).code;
	sim.control.advanceClock(60_000);
	say('');
	say('2. A day of changes:');
	const stPrice = Math.round(Math.random() * 9000 + 100) / 100;
	sim.control.updateItem('materials', stEdit, { price: stPrice });
	say(`   - in ServiceTitan, someone sets the price of ${await name(stEdit)} to ${stPrice}`);
	await db.none('UPDATE pricebook_materials SET description = $2 WHERE id = $1', [localEdit, `Edited in Retool at ${new Date().toISOString()}`]);
	say(`   - in Retool, someone edits the description of ${await name(localEdit)} (a plain SQL UPDATE)`);
	// New prices each time: the tenant is kept, so a later start still shows a conflict rather than values already agreed.
	const stBothPrice = Math.round(Math.random() * 9000 + 100) / 100;
	sim.control.updateItem('materials', both, { price: stBothPrice });
	await db.none('UPDATE pricebook_materials SET price = $2 WHERE id = $1', [both, Math.round((stBothPrice + 11.11) * 100) / 100]);
	say(`   - and ${await name(both)} gets a different price on each side`);
	say('');
	say('3. The next incremental sync (what n8n runs every 15 minutes):');
	const results: RunResult[] = await engine.runMany('incremental', ENTITY_TYPES, { trigger: 'start' });
	progress.done();
	for (const r of results) say(describeResult(r));
	const conflicts = await listConflicts(db, { entityType: 'materials' });
	const c = conflicts.find((x) => x.entityId === both);
	if (c) {
		say('');
		say(`   Conflict ${c.id} waits for a person (nothing was overwritten on either side):`);
		for (const d of c.diff)
			say(`     ${d.field}: last synced ${JSON.stringify(d.base)}, ServiceTitan ${JSON.stringify(d.st)}, local ${JSON.stringify(d.local)}`);
		say(`   Resolve it: npx pricebook-sync resolve ${c.id} --resolution use_st|use_local|merged --by <you> (against this same sandbox tenant)`);
	}
}
