/**
 * Errors a caller (CLI, n8n webhook, Retool) must tell apart: each maps to one exit code / HTTP status and says
 * what to do. Nothing has been written when one of these is thrown.
 */
export class SyncNotFoundError extends Error {
	readonly httpStatus = 404;
	constructor(message: string) {
		super(message);
		this.name = 'SyncNotFoundError';
	}
}

export class SyncValidationError extends Error {
	readonly httpStatus = 400;
	constructor(
		readonly field: string,
		message: string,
	) {
		super(message);
		this.name = 'SyncValidationError';
	}
}

/** The request is well-formed but cannot be carried out now: busy, stale, or not possible in ServiceTitan. */
export class SyncStateError extends Error {
	readonly httpStatus = 409;
	constructor(
		readonly reason: 'busy' | 'stale' | 'gone_in_st',
		message: string,
	) {
		super(message);
		this.name = 'SyncStateError';
	}
}
