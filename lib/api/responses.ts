import { errorMessage, failureKindOf, failureKindOfRuns, isFailureKind, needsAttention, SyncFailure, type FailureKind } from '../failures';
import { ConfigError } from '../servicetitan/config';
import { isStApiError } from '../servicetitan/errors';
import type { ResolveResult } from '../sync/resolve';
import type { RunResult } from '../sync/run-types';
import type { UndoResult } from '../sync/undo-result';
import { httpStatusFor, isStateConflict } from './http-status';

/** One HTTP answer: what the n8n "Respond to Webhook" node sends back to Retool. */
export interface HttpAnswer {
	statusCode: number;
	body: Record<string, unknown>;
}

/** What every failure body says besides its message: the kind, and for 409s the same as `reason`. */
function kindFields(kind: FailureKind): Record<string, unknown> {
	return { failureKind: kind, ...(isStateConflict(kind) ? { reason: kind } : {}) };
}

/**
 * Run results → status: 200 when every run succeeded (conflicts included); otherwise the status of the kind of
 * the first failed run (or, with none failed, of the busy one): 404 for an item that exists nowhere, 409 busy or
 * a withheld mass delete, 502 ServiceTitan, 503 the database. The body always carries the results, as
 * `pricebook-sync --json` prints them.
 */
export function answerForRuns(results: RunResult[]): HttpAnswer {
	const kind = failureKindOfRuns(results);
	if (kind === undefined) return { statusCode: 200, body: { results } };
	const failed = results.filter((r) => r.status === 'failed');
	const error =
		failed.length > 0 ? failed.map((r) => `${r.entityType}: ${r.message}`).join('; ') : 'a sync of the same entity type is running; try again shortly';
	return { statusCode: httpStatusFor(kind), body: { error, ...kindFields(kind), results } };
}

export function answerForResolution(result: ResolveResult): HttpAnswer {
	if (result.status === 'stale') return { statusCode: httpStatusFor('stale'), body: { error: result.message, ...kindFields('stale'), result } };
	return { statusCode: 200, body: { result } };
}

/** An undo or its dry run: 200 with the per-field list; an undo that failed part-way, the status of its kind, with the list. */
export function answerForUndo(result: UndoResult): HttpAnswer {
	if (!result.failureKind) return { statusCode: 200, body: { result } };
	return { statusCode: httpStatusFor(result.failureKind), body: { error: result.message, ...kindFields(result.failureKind), result } };
}

/** The message a caller sees: never a stack trace, never a secret, and for a wrong setting who can fix it. */
function publicMessage(error: unknown, kind: FailureKind): string {
	if (isStApiError(error)) return `ServiceTitan: ${error.message}`;
	if (error instanceof ConfigError) return 'The ServiceTitan credential is incomplete; ask an administrator to fix it in n8n.';
	if (kind === 'configuration') return `${errorMessage(error)}: ask an administrator to fix the setting in n8n.`;
	return errorMessage(error);
}

/** Any failure → the status of its kind and a JSON body that says what happened and what to do. */
export function answerForError(error: unknown): HttpAnswer {
	const kind = failureKindOf(error);
	const body: Record<string, unknown> = { error: publicMessage(error, kind), ...kindFields(kind) };
	if (error instanceof SyncFailure && error.field !== undefined) body.field = error.field;
	// ServiceTitan's own kind (auth, rate_limit, server, ...) says more than st_unavailable does.
	if (isStApiError(error)) body.kind = error.kind;
	return { statusCode: httpStatusFor(kind), body };
}

/**
 * The failure an answer reports, when it is one for the people who run the sync (failures.ts, needsAttention):
 * the n8n execution that sent it then ends failed, after the caller has its answer. Undefined for a success and
 * for the caller's own failures (400, 404, 409 busy or stale).
 */
export function failureOfAnswer(answer: HttpAnswer): SyncFailure | undefined {
	const { statusCode, body } = answer;
	const message = typeof body.error === 'string' ? body.error : `the answer was ${statusCode}`;
	if (isFailureKind(body.failureKind)) return needsAttention(body.failureKind) ? new SyncFailure(body.failureKind, message) : undefined;
	return statusCode >= 500 ? new SyncFailure('internal', message) : undefined;
}
