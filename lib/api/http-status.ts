import type { FailureKind } from '../failures';

/**
 * The HTTP status of each failure kind: the one place the webhooks' statuses are decided. A Record, so a new
 * kind without a status does not compile.
 */
const HTTP_STATUS: Record<FailureKind, number> = {
	validation: 400,
	not_found: 404,
	// 409: the request is well-formed but cannot be carried out in the current state; the body's `reason` says why.
	busy: 409,
	stale: 409,
	gone_in_st: 409,
	needs_confirmation: 409,
	// A missing or wrong setting is the server's problem, not the caller's; the body says who can fix it.
	configuration: 500,
	st_unavailable: 502,
	database: 503,
	internal: 500,
};

export function httpStatusFor(kind: FailureKind): number {
	return HTTP_STATUS[kind];
}

/** The kinds answered as 409: their bodies name the kind in `reason`, which callers (Retool, e2e) branch on. */
export function isStateConflict(kind: FailureKind): boolean {
	return HTTP_STATUS[kind] === 409;
}
