import { SyncFailure } from '../failures';

/**
 * The failures a caller (CLI, n8n webhook, Retool) must tell apart, as named classes of the one failure
 * vocabulary: each carries its FailureKind, and the status, n8n error and exit code are derived from that kind
 * (lib/api/http-status.ts, nodes/shared/errors.ts, cli/errors.ts). Nothing has been written when one is thrown.
 */
export class SyncNotFoundError extends SyncFailure {
	constructor(message: string) {
		super('not_found', message);
		this.name = 'SyncNotFoundError';
	}
}

export class SyncValidationError extends SyncFailure {
	/** The input field at fault; always set for a validation failure. */
	declare readonly field: string;

	constructor(field: string, message: string) {
		super('validation', message, field);
		this.name = 'SyncValidationError';
	}
}

/** The request is well-formed but cannot be carried out now: busy, stale, or not possible in ServiceTitan. */
export class SyncStateError extends SyncFailure {
	constructor(
		readonly reason: 'busy' | 'stale' | 'gone_in_st',
		message: string,
	) {
		super(reason, message);
		this.name = 'SyncStateError';
	}
}
