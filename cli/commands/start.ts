import * as path from 'node:path';
import { mkdirSync } from 'node:fs';
import {
	closeDb,
	connectDb,
	describeDbTarget,
	ENTITY_TYPES,
	failureKindOfRuns,
	getSyncStatus,
	listConflicts,
	listRuns,
	migrate,
	passwordFileOf,
	renderStatusPage,
	ServiceTitanClient,
	startEmbeddedPostgres,
	SyncEngine,
	wholeNumberOf,
	type Db,
	type EmbeddedPostgres,
	type RunResult,
} from '../../lib';
import { startSimulator } from '../../sim/server';
import type { SimulatorHandle } from '../../sim/types';
import type { FlagSpec, ParsedArgs } from '../args';
import { ExitCode, requireDatabaseUrl, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';
import { Progress } from '../progress';
import { describeResult, serviceTitanFromEnv } from './sync-runs';
import { writeFileSync } from 'node:fs';

const PROJECT_ROOT = path.resolve(__dirname, '../../..');

/**
 * The main job, `npm start`: a real sync. With DATABASE_URL and ServiceTitan settings it runs against them; with
 * none, against the embedded default: embedded PostgreSQL (data kept under .data/ and reused) and the bundled
 * ServiceTitan simulator as a sandbox tenant, where it also shows a day of syncing (an edit on each side and a
 * conflict). A real ServiceTitan tenant is never edited by this command.
 */
export const startCommand = {
	name: 'start',
	summary: 'the main job: migrate, full sync with progress, then (sandbox only) a day of changes; what `npm start` runs',
	usage: 'pricebook-sync start [--items <n>]',
	flags: { items: { type: 'string', valueName: 'n', description: 'sandbox only: materials in the simulated tenant (default 5000)' } } as Record<
		string,
		FlagSpec
	>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const items =
			args.flags.items === undefined ? 5000 : wholeNumberOf(args.flags.items, 'items', { label: '--items', min: 10, max: 200_000, showRange: true });
		const say = (line = '') => ctx.stdout(line);
		const started = Date.now();
		let embedded: EmbeddedPostgres | undefined;
		let sim: SimulatorHandle | undefined;
		let db: Db | undefined;
		let st: ServiceTitanClient | undefined;
		try {
			let dbUrl: string;
			if (ctx.env.DATABASE_URL) {
				dbUrl = requireDatabaseUrl(ctx.env);
				say(`database: ${describeDbTarget(dbUrl)} (DATABASE_URL)`);
			} else {
				const dataDir = path.join(PROJECT_ROOT, '.data', 'postgres');
				mkdirSync(path.dirname(dataDir), { recursive: true });
				say('database: embedded PostgreSQL (no DATABASE_URL set), data in .data/postgres');
				embedded = await startEmbeddedPostgres({ dataDir, persistent: true, onNotice: (line) => say(`note: ${line}`) });
				const admin = connectDb({ connectionString: embedded.url, max: 1, applicationName: 'pricebook-start-admin' });
				if (!(await admin.oneOrNone("SELECT 1 FROM pg_database WHERE datname = 'pricebook'"))) await admin.none('CREATE DATABASE pricebook');
				await closeDb(admin);
				dbUrl = embedded.url.replace(/\/postgres$/, '/pricebook');
			}
			const sandbox = !ctx.env.ST_CLIENT_ID;
			if (sandbox) {
				sim = await startSimulator({
					seed: 2024,
					counts: { categories: 60, materials: items, equipment: Math.ceil(items / 10), services: Math.ceil(items / 5) },
				});
				st = new ServiceTitanClient(sim.stConfig(), { requestsPerSecond: 1000 });
				say(`ServiceTitan: the bundled simulator as a sandbox tenant (no ST_CLIENT_ID set), ${items} materials, at ${sim.url}`);
			} else {
				st = serviceTitanFromEnv(ctx.env);
				say(`ServiceTitan: tenant ${ctx.env.ST_TENANT_ID} (${ctx.env.ST_ENV ?? 'production'})`);
			}
			db = connectDb({ connectionString: dbUrl, max: 10 });
			const migrated = await migrate(db);
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

			if (sim) await dayOfChanges(db, sim, engine, progress, say);
			const page = path.join(PROJECT_ROOT, '.data', 'status.html');
			mkdirSync(path.dirname(page), { recursive: true });
			const status = await getSyncStatus(db);
			writeFileSync(page, renderStatusPage({ status, conflicts: await listConflicts(db), runs: await listRuns(db, { limit: 30 }) }));
			say('');
			say(`Health: ${status.health.toUpperCase()} (${status.healthReasons.join('; ')})`);
			say('Where to look next (with DATABASE_URL set to the same database):');
			if (embedded) {
				// The password stays in its 0600 file rather than on the screen and in scrollback or CI logs.
				const hidden = dbUrl.replace(/:[^:@/]*@/, `:$(cat ${path.relative(process.cwd(), passwordFileOf(embedded.dataDir))})@`);
				say(`  export DATABASE_URL="${hidden}"   # the embedded server runs only while npm start does`);
			}
			say('  npx pricebook-sync status             the health light and counts');
			say('  npx pricebook-sync conflicts          conflicts with their side-by-side diff');
			say('  npx pricebook-sync logs --csv         the run log');
			say(`  status page: ${path.relative(process.cwd(), page) || page}`);
			say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
			return ExitCode.ok;
		} finally {
			st?.close();
			if (db) await closeDb(db);
			await sim?.stop();
			await embedded?.stop();
		}
	},
};

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
	sim.control.updateItem('materials', both, { price: 11.11 });
	await db.none('UPDATE pricebook_materials SET price = 22.22 WHERE id = $1', [both]);
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
		say(`   Resolve it: npx pricebook-sync resolve ${c.id} --resolution use_st|use_local|merged --by <you> (needs the ST_* settings too)`);
	}
}
