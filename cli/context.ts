import { UsageError } from './args';

/** What a command needs from the outside world; passed in so commands test without a real process. */
export interface CliContext {
	env: NodeJS.ProcessEnv;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
	isTTY: boolean;
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
