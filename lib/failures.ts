import { ConfigError } from './servicetitan/config';
import { isStApiError } from './servicetitan/errors';

/**
 * The one failure vocabulary of the library. Every error a caller can see, and every failed run result, carries
 * one of these kinds; the HTTP status (lib/api), the n8n error (nodes/shared) and the CLI exit code (cli) are each
 * derived from the kind in one mapping, so no caller inspects a message to decide what happened.
 */
export const FAILURE_KINDS = [
	/** A setting or credential is missing or wrong: retrying will not help until someone fixes it. */
	'configuration',
	/** Bad input from a caller (webhook body, CLI argument, merged values). Nothing was written. */
	'validation',
	/** The id asked for exists nowhere (unknown conflict, item neither in ServiceTitan nor locally). */
	'not_found',
	/** Another run of the same entity type (or another session's migration) holds the lock: try again when it has finished, or end a stuck holder. */
	'busy',
	/** The item changed since the caller looked at it: look again before deciding. */
	'stale',
	/** The item is gone in ServiceTitan, so the asked-for action cannot be carried out there. */
	'gone_in_st',
	/** ServiceTitan cannot be reached or keeps failing (network, 5xx, 429 past the retry budget, auth). */
	'st_unavailable',
	/** The mass-delete guard withheld a sweep; a person must confirm. */
	'needs_confirmation',
	/** The database failed (connection lost, statement error). */
	'database',
	/** Anything else: a bug. The message says what happened. */
	'internal',
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export function isFailureKind(value: unknown): value is FailureKind {
	return typeof value === 'string' && (FAILURE_KINDS as readonly string[]).includes(value);
}

/**
 * Whether a failure is for the people who run the sync rather than for the caller: a setting, ServiceTitan, the
 * database, a bug, or a mass delete waiting for confirmation. Bad input, an unknown id, a busy type, a stale or
 * gone item are answered to the caller, and an n8n execution that answered one of them did its job. A Record, so a
 * new kind has to be placed.
 */
const NEEDS_ATTENTION: Record<FailureKind, boolean> = {
	configuration: true,
	validation: false,
	not_found: false,
	busy: false,
	stale: false,
	gone_in_st: false,
	st_unavailable: true,
	needs_confirmation: true,
	database: true,
	internal: true,
};

export function needsAttention(kind: FailureKind): boolean {
	return NEEDS_ATTENTION[kind];
}

/** An error that knows its kind. Nothing has been written when one is thrown before a run starts writing. */
export class SyncFailure extends Error {
	constructor(
		readonly kind: FailureKind,
		message: string,
		/** For validation failures: the input field at fault. */
		readonly field?: string,
	) {
		super(message);
		this.name = 'SyncFailure';
	}
}

interface PgLikeError {
	code?: unknown;
	severity?: unknown;
}

/** The kind of any thrown value. */
export function failureKindOf(error: unknown): FailureKind {
	if (error instanceof SyncFailure) return error.kind;
	if (error instanceof ConfigError) return 'configuration';
	// A 404 from outside the pricebook API (wrong base URL or tenant) is a setting to fix; retrying will not help.
	if (isStApiError(error)) return error.kind === 'validation' ? 'validation' : error.kind === 'misrouted' ? 'configuration' : 'st_unavailable';
	const e = (error ?? {}) as PgLikeError;
	// A refused login (SQLSTATE class 28) or a database that does not exist (3D000) is a wrong setting: retrying will not help.
	if (typeof e.code === 'string' && typeof e.severity === 'string' && (e.code.startsWith('28') || e.code === '3D000')) return 'configuration';
	// PostgreSQL errors carry a five-character SQLSTATE and a severity; socket errors an errno-style code.
	if (typeof e.code === 'string' && (typeof e.severity === 'string' || /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)/.test(e.code))) return 'database';
	return 'internal';
}

/** What decides the outcome of several runs: a failed run needs attention, a busy one only a retry. Undefined when all succeeded. */
export function failureKindOfRuns(results: readonly { status: string; failureKind?: FailureKind }[]): FailureKind | undefined {
	const decisive = results.find((r) => r.status === 'failed') ?? results.find((r) => r.status === 'busy');
	if (!decisive) return undefined;
	return decisive.failureKind ?? (decisive.status === 'busy' ? 'busy' : 'internal');
}

/** A failed run's result as the error it ended with (its kind and message); undefined for any other result. */
export function failureOfRun(result: { status: string; failureKind?: FailureKind; message?: string }): SyncFailure | undefined {
	if (result.status !== 'failed') return undefined;
	return new SyncFailure(result.failureKind ?? 'internal', result.message ?? 'the run failed');
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
