import type { IExecuteFunctions } from 'n8n-workflow';
import { DEFAULT_SETTINGS, type Db, type RunDeps, type StApi, type SyncLog } from '../../lib';
import { DATABASE_CREDENTIAL, openDatabase } from './database';
import { stClientFromCredential } from './servicetitan';

export const ST_CREDENTIAL = 'serviceTitanApi';

/** The pricebook database of the node's credential, migrated on first use (advisory-locked). */
export async function database(ctx: IExecuteFunctions): Promise<Db> {
	return openDatabase(await ctx.getCredentials(DATABASE_CREDENTIAL));
}

export async function serviceTitan(ctx: IExecuteFunctions): Promise<StApi> {
	return stClientFromCredential(await ctx.getCredentials(ST_CREDENTIAL));
}

/** What the library's run functions need, from the node's two credentials; log lines go to n8n's logger. */
export async function runDeps(ctx: IExecuteFunctions): Promise<RunDeps> {
	const log: SyncLog = (level, message, fields) => ctx.logger[level](message, fields);
	return { db: await database(ctx), st: await serviceTitan(ctx), now: () => new Date(), log, settings: { ...DEFAULT_SETTINGS } };
}
