import type { IExecuteFunctions } from 'n8n-workflow';
import { DEFAULT_SETTINGS, type Db, type RunDeps, type StApi, type SyncLog } from '../../lib';
import { DATABASE_CREDENTIAL, openDatabase } from './database';
import { stClientFromCredential } from './servicetitan';

export const ST_CREDENTIAL = 'serviceTitanApi';

/** The pricebook database of the node's credential, migrated on first use (advisory-locked). */
export async function database(ctx: IExecuteFunctions): Promise<Db> {
	return openDatabase(await ctx.getCredentials(DATABASE_CREDENTIAL));
}

/** The ServiceTitan client of the node's credential, drawing on the request budget kept in `db`. */
export async function serviceTitan(ctx: IExecuteFunctions, db: Db): Promise<StApi> {
	return stClientFromCredential(await ctx.getCredentials(ST_CREDENTIAL), db);
}

function logTo(ctx: IExecuteFunctions): SyncLog {
	return (level, message, fields) => ctx.logger[level](message, fields);
}

/** What the library's run functions need, from the node's two credentials; log lines go to n8n's logger. */
export async function runDeps(ctx: IExecuteFunctions): Promise<RunDeps> {
	const db = await database(ctx);
	return { db, st: await serviceTitan(ctx, db), now: () => new Date(), log: logTo(ctx), settings: { ...DEFAULT_SETTINGS } };
}

/**
 * runDeps, made when the first item needs them. The step nodes call it inside perItem: a credential or
 * connection that fails is then the item's failure, which an error output receives with the item's run
 * reference. Thrown before perItem, n8n would pass the input items on to the next step as if the node had
 * succeeded (that is what "continue" does with a failure of the whole node).
 */
export function lazyRunDeps(ctx: IExecuteFunctions): () => Promise<RunDeps> {
	let deps: Promise<RunDeps> | undefined;
	return () => (deps ??= runDeps(ctx));
}

/** database(), opened when the first item needs it, for the same reason as lazyRunDeps. */
export function lazyDatabase(ctx: IExecuteFunctions): () => Promise<Db> {
	let db: Promise<Db> | undefined;
	return () => (db ??= database(ctx));
}

/** What closing a run needs: the database alone (a failure of ServiceTitan's credential must not stop it). */
export async function ledgerDeps(ctx: IExecuteFunctions): Promise<Pick<RunDeps, 'db' | 'now' | 'log' | 'settings'>> {
	return { db: await database(ctx), now: () => new Date(), log: logTo(ctx), settings: { ...DEFAULT_SETTINGS } };
}

/**
 * This n8n execution, as the run ledger keeps it: the execution id with the instance it belongs to (two n8n
 * instances may share a pricebook database and count executions alike). Undefined where n8n gives no id.
 */
export function executionKey(ctx: IExecuteFunctions): string | undefined {
	const id = ctx.getExecutionId();
	return id ? `${id}@${ctx.getInstanceId().slice(0, 16)}` : undefined;
}
