import * as path from 'node:path';
import { bindTenant, ConfigError, readTenantBinding, stConfigFromEnv, type Db, type StConfig, type TenantBinding } from '../lib';
import { ConfigurationError } from './context';

/**
 * The command line's side of the tenant binding (migration 0015): a database synced with one ServiceTitan tenant
 * is never synced, pushed to or resolved against another. The first command that talks to ServiceTitan records
 * the tenant; every later one must name the same.
 */
export function realTenantBinding(config: StConfig): TenantBinding {
	return {
		kind: 'servicetitan',
		key: `${config.environment}:${config.tenantId}`,
		description: `ServiceTitan tenant ${config.tenantId} (${config.environment})`,
	};
}

function mismatch(bound: TenantBinding, wanted: TenantBinding): ConfigurationError {
	const fix =
		bound.kind === 'sandbox'
			? 'leave the ST_* settings unset to use that sandbox tenant (it is kept in the .data folder of the folder npm start ran in), or point DATABASE_URL at a database synced with the tenant the ST_* settings name'
			: `set the ST_* settings of ${bound.description} (in the environment or .env), or point DATABASE_URL at a database synced with the tenant the ST_* settings name`;
	return new ConfigurationError(`this database is synced with ${bound.description}, not with ${wanted.description}: ${fix}`);
}

/**
 * Refuses (configuration, exit 2) when the database is synced with another tenant than `wanted`; records `wanted`
 * when the database names none yet, unless `record` is false (a dry run writes nothing).
 */
export async function requireTenant(db: Db, wanted: TenantBinding, record: boolean): Promise<void> {
	const bound = record ? await bindTenant(db, wanted) : await readTenantBinding(db);
	if (bound !== undefined && (bound.kind !== wanted.kind || bound.key !== wanted.key)) throw mismatch(bound, wanted);
}

/**
 * No ST_* settings, and the database is not synced with a sandbox tenant: the settings are what is missing. The
 * message names the tenant the database is synced with, when it records one.
 */
export function missingStSettings(env: NodeJS.ProcessEnv, bound: TenantBinding | undefined): Error {
	let missing: Error;
	try {
		stConfigFromEnv(env);
		missing = new ConfigurationError('the ServiceTitan settings are missing: set the ST_* settings (in the environment or .env)');
	} catch (error) {
		missing = error as Error; // names every missing setting
	}
	if (bound?.kind !== 'servicetitan') return missing;
	const problems = missing instanceof ConfigError ? missing.problems.join('; ') : missing.message;
	return new ConfigurationError(
		`this database is synced with ${bound.description}: set that tenant's ST_* settings in the environment or .env (${problems})`,
	);
}

/** The database is synced with sandbox tenant `bound`, but the data folder holds another one, or none. */
export function sandboxNotHere(bound: TenantBinding, heldHere: string | undefined, dataFolder: string, cwd: string): ConfigurationError {
	const folder = path.relative(cwd, dataFolder) || dataFolder;
	const here = heldHere === undefined ? `${folder} holds no sandbox tenant` : `${folder} holds another one (${heldHere.slice(0, 8)})`;
	return new ConfigurationError(
		`this database is synced with ${bound.description}, and ${here}: run the command in the folder npm start made it in, ` +
			'or start afresh with a new database (for the embedded one: delete .data) and npm start',
	);
}
