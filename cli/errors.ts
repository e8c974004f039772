import { UsageError } from './args';
import { ExitCode, type ExitCodeValue } from './context';

interface ErrorLike {
	code?: string;
	message?: string;
	kind?: string;
}

/**
 * Turns any failure into one line an operator can act on, and an exit code. Connection problems are reported
 * as configuration errors (exit 2): retrying will not help until a setting is fixed.
 */
export function explainError(error: unknown): { exitCode: ExitCodeValue; message: string } {
	if (error instanceof UsageError) return { exitCode: ExitCode.usage, message: error.message };
	const e = (error ?? {}) as ErrorLike;
	switch (e.code) {
		case 'ECONNREFUSED':
			return { exitCode: ExitCode.usage, message: 'cannot connect to PostgreSQL (connection refused): check the host and port in DATABASE_URL and that the server runs' };
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
			return { exitCode: ExitCode.usage, message: 'cannot resolve the PostgreSQL host in DATABASE_URL: check the host name' };
		case 'ETIMEDOUT':
			return { exitCode: ExitCode.usage, message: 'connecting to PostgreSQL timed out: check DATABASE_URL and the network/firewall' };
		case '28P01':
		case '28000':
			return { exitCode: ExitCode.usage, message: 'PostgreSQL refused the login: check the user and password in DATABASE_URL' };
		case '3D000':
			return { exitCode: ExitCode.usage, message: 'the database named in DATABASE_URL does not exist: create it (CREATE DATABASE ...) or fix the name' };
		default:
			break;
	}
	if (e.message && /timeout exceeded when trying to connect/i.test(e.message)) {
		return { exitCode: ExitCode.usage, message: 'connecting to PostgreSQL timed out: check DATABASE_URL and the network/firewall' };
	}
	return { exitCode: ExitCode.failure, message: e.message ?? String(error) };
}
