import * as path from 'node:path';
import { UsageError } from './args';

/** What a command needs from the outside world; passed in so commands test without a real process. */
export interface CliContext {
	env: NodeJS.ProcessEnv;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
	isTTY: boolean;
	/** The folder the command runs in (default: the process's): where `.data` is, as `.env` is read from it. */
	cwd?: string;
}

/**
 * The data folder of `start`'s embedded default: the embedded PostgreSQL (`postgres/`, its password beside it),
 * the sandbox tenant and the status page. In the folder the command runs in, like `.env`: `npm start` runs in the
 * clone, and the commands it suggests next find the same folder when run there.
 */
export function dataFolderOf(ctx: CliContext): string {
	return path.join(ctx.cwd ?? process.cwd(), '.data');
}

/** ServiceTitan settings that name a real tenant; none of them set means the sandbox tenant. */
const ST_TENANT_SETTINGS = ['ST_CLIENT_ID', 'ST_CLIENT_SECRET', 'ST_APP_KEY', 'ST_TENANT_ID'] as const;

/** Whether any setting of a real ServiceTitan tenant is given (a partial set is then reported as incomplete). */
export function hasStSettings(env: NodeJS.ProcessEnv): boolean {
	return ST_TENANT_SETTINGS.some((name) => Boolean(env[name]?.trim()));
}

export const ExitCode = { ok: 0, failure: 1, usage: 2, busy: 3 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A configuration problem: exit code 2 and one line that says what to set. */
export class ConfigurationError extends UsageError {}

export function requireDatabaseUrl(env: NodeJS.ProcessEnv): string {
	const url = env.DATABASE_URL;
	if (!url) {
		throw new ConfigurationError(
			'DATABASE_URL is not set: point it at the pricebook PostgreSQL database, e.g. postgres://user:password@host:5432/pricebook',
		);
	}
	try {
		const parsed = new URL(url);
		if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error('protocol');
	} catch {
		throw new ConfigurationError('DATABASE_URL is not a postgres:// URL: use postgres://user:password@host:5432/database');
	}
	return url;
}
