import * as path from 'node:path';
import { budgetedStClient, closeDb, connectDb, describeDbTarget, migrate, readTenantBinding, ServiceTitanClient, stConfigFromEnv, type Db } from '../lib';
import { dataFolderOf, hasStSettings, requireDatabaseUrl, type CliContext } from './context';
import { lockDataFolder } from './data-lock';
import { hasLocalDatabase, noDatabaseHere, startLocalDatabase } from './local-database';
import { openSavedSandbox } from './sandbox';
import { missingStSettings, realTenantBinding, requireTenant, sandboxNotHere } from './tenant-binding';

/** Steps that undo what a command set up, run last first; every step runs even when one fails. */
export class Teardown {
	private readonly steps: Array<() => unknown> = [];

	add(step: () => unknown): void {
		this.steps.push(step);
	}

	/** Runs every step; the first failure is thrown after all ran (a failure of the work itself is thrown instead). */
	async run(): Promise<void> {
		let failure: unknown;
		for (const step of this.steps.splice(0).reverse()) {
			try {
				await step();
			} catch (error) {
				failure ??= error;
			}
		}
		if (failure !== undefined) throw failure;
	}
}

/** Runs `work`, then the teardown; a failure of the work wins over one of the teardown. */
export async function withTeardown<T>(work: (teardown: Teardown) => Promise<T>): Promise<T> {
	const teardown = new Teardown();
	let result: T;
	try {
		result = await work(teardown);
	} catch (error) {
		await teardown.run().catch(() => undefined);
		throw error;
	}
	await teardown.run();
	return result;
}

export interface CommandNeeds {
	/** The command's name, for whoever waits for it to finish with the data folder. */
	command: string;
	maxConnections: number;
	/** It talks to ServiceTitan (runs, resolve). */
	serviceTitan?: boolean;
	/** It records which tenant the database is synced with, once its work is done (false for dry runs, which write nothing). */
	recordTenant?: boolean;
	/** Bring the schema up to date first (default true; migrate does it itself, to report on it). */
	migrate?: boolean;
}

export interface CommandResources {
	db: Db;
	/** The database as messages name it (never with its password). */
	where: string;
	/** Only when `serviceTitan` was asked for. */
	st?: ServiceTitanClient;
}

/**
 * DATABASE_URL, checked; undefined when it is not set and this folder has the embedded database to fall back on.
 * For commands with work to do before they open the database (a download), so a wrong setting still ends them first.
 */
export function checkDatabaseSetting(ctx: CliContext): string | undefined {
	if (ctx.env.DATABASE_URL) return requireDatabaseUrl(ctx.env);
	const folder = dataFolderOf(ctx);
	if (!hasLocalDatabase(folder)) throw noDatabaseHere(folder, ctx.cwd ?? process.cwd());
	return undefined;
}

/**
 * What a command works on. The database: DATABASE_URL, or else the embedded one `start` made in this folder's
 * `.data`, started for this command and stopped after it. ServiceTitan: the tenant the ST_* settings name, or
 * without them the sandbox tenant `start` keeps in `.data`, served again as it was left. Either way it must be the
 * tenant the database is synced with. The data folder is used by one command at a time (cli/data-lock.ts).
 */
export async function withResources<T>(ctx: CliContext, needs: CommandNeeds, work: (resources: CommandResources) => Promise<T>): Promise<T> {
	const cwd = ctx.cwd ?? process.cwd();
	const folder = dataFolderOf(ctx);
	const sandbox = needs.serviceTitan === true && !hasStSettings(ctx.env);
	// Every setting is checked before anything starts: a wrong one ends the command at once.
	const stConfig = needs.serviceTitan && !sandbox ? stConfigFromEnv(ctx.env) : undefined;
	const databaseUrl = checkDatabaseSetting(ctx);
	const where = databaseUrl ? describeDbTarget(databaseUrl) : `the embedded database in ${path.relative(cwd, folder) || folder}`;

	return withTeardown(async (teardown) => {
		let locked = false;
		const lockFolder = async (): Promise<void> => {
			if (locked) return;
			const lock = await lockDataFolder(folder, { command: needs.command, onWait: (line) => ctx.stderr(line) });
			locked = true;
			teardown.add(() => lock.release());
		};
		let url = databaseUrl;
		if (url === undefined) {
			await lockFolder();
			const local = await startLocalDatabase(folder, (line) => ctx.stderr(`note: ${line}`));
			teardown.add(() => local.stop());
			url = local.url;
		}
		const db = connectDb({ connectionString: url, max: needs.maxConnections });
		teardown.add(() => closeDb(db));
		if (needs.migrate ?? true) await migrate(db);
		if (!needs.serviceTitan) return work({ db, where });

		if (stConfig) {
			const tenant = realTenantBinding(stConfig);
			await requireTenant(db, tenant, false);
			// Drawn from the budget every process syncing this tenant shares (n8n workers included).
			const st = budgetedStClient(db, stConfig);
			teardown.add(() => st.close());
			const result = await work({ db, where, st });
			// Recorded once the command did its work: a refused one (bad merged values, an unknown conflict) writes nothing.
			if (needs.recordTenant ?? true) await requireTenant(db, tenant, true);
			return result;
		}
		const bound = await readTenantBinding(db);
		if (bound?.kind !== 'sandbox') throw missingStSettings(ctx.env, bound);
		await lockFolder();
		const tenant = await openSavedSandbox(folder);
		if (tenant) teardown.add(() => tenant.close());
		if (tenant?.id !== bound.key) throw sandboxNotHere(bound, tenant?.id, folder, cwd);
		const st = tenant.client();
		teardown.add(() => st.close());
		return work({ db, where, st });
	});
}
