import { ConfigError, failureKindOf, SyncFailure, type FailureKind } from '../lib';
import { UsageError } from './args';
import { ConfigurationError, ExitCode, type ExitCodeValue } from './context';

/**
 * The exit code of each failure kind: the one place the CLI's codes are decided (documented in `--help`: 0
 * success, 1 failure, 2 bad usage or configuration, 3 busy or stale). A Record, so a new kind without a code
 * does not compile.
 */
const EXIT_CODE: Record<FailureKind, ExitCodeValue> = {
	validation: ExitCode.usage,
	configuration: ExitCode.usage,
	// Try again later (busy) or look again (stale): nothing failed.
	busy: ExitCode.busy,
	stale: ExitCode.busy,
	not_found: ExitCode.failure,
	gone_in_st: ExitCode.failure,
	st_unavailable: ExitCode.failure,
	needs_confirmation: ExitCode.failure,
	database: ExitCode.failure,
	internal: ExitCode.failure,
};

export function exitCodeFor(kind: FailureKind): ExitCodeValue {
	return EXIT_CODE[kind];
}

interface ErrorLike {
	code?: string;
	message?: string;
}

/**
 * PostgreSQL that cannot be reached or refuses the login, and what to check. The CLI reads its database from
 * DATABASE_URL, so for it these are configuration problems: retrying will not help until a setting is fixed.
 */
const CONNECTION_PROBLEMS: Record<string, string> = {
	ECONNREFUSED: 'cannot connect to PostgreSQL (connection refused): check the host and port in DATABASE_URL and that the server runs',
	ENOTFOUND: 'cannot resolve the PostgreSQL host in DATABASE_URL: check the host name',
	EAI_AGAIN: 'cannot resolve the PostgreSQL host in DATABASE_URL: check the host name',
	ETIMEDOUT: 'connecting to PostgreSQL timed out: check DATABASE_URL and the network/firewall',
	'28P01': 'PostgreSQL refused the login: check the user and password in DATABASE_URL',
	'28000': 'PostgreSQL refused the login: check the user and password in DATABASE_URL',
	'3D000': 'the database named in DATABASE_URL does not exist: create it (CREATE DATABASE ...) or fix the name',
};

function connectionProblem(error: unknown): string | undefined {
	const e = (error ?? {}) as ErrorLike;
	if (typeof e.code === 'string' && Object.hasOwn(CONNECTION_PROBLEMS, e.code)) return CONNECTION_PROBLEMS[e.code];
	// pg-pool's connect timeout is a plain Error without a code: its text is the only sign of it.
	if (typeof e.message === 'string' && /timeout exceeded when trying to connect/i.test(e.message)) return CONNECTION_PROBLEMS.ETIMEDOUT;
	return undefined;
}

/** The kind of a failure as the CLI sees it: its own usage errors, connection problems as configuration, else the library's kind. */
function cliFailureKind(error: unknown): FailureKind {
	if (error instanceof ConfigurationError) return 'configuration';
	if (error instanceof UsageError) return 'validation';
	if (connectionProblem(error)) return 'configuration';
	return failureKindOf(error);
}

function messageOf(error: unknown, kind: FailureKind): string {
	const connection = connectionProblem(error);
	if (connection) return connection;
	const message = (error as ErrorLike | undefined)?.message ?? String(error);
	if (error instanceof ConfigError) return `${message} (set them in the environment or in .env)`;
	// The library names the request field at fault (resolvedBy, mergedData.price); the operator may know it only by that name.
	if (kind === 'validation' && error instanceof SyncFailure && error.field !== undefined) return `${message} (field ${error.field})`;
	return message;
}

/** Turns any failure into one line an operator can act on, the exit code of its kind, and whether the command's usage helps. */
export function explainError(error: unknown): { exitCode: ExitCodeValue; message: string; showUsage: boolean } {
	const kind = cliFailureKind(error);
	return { exitCode: exitCodeFor(kind), message: messageOf(error, kind), showUsage: kind === 'validation' };
}
