import { ConfigError } from '../servicetitan/config';
import { isStApiError } from '../servicetitan/errors';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from '../sync/errors';
import type { ResolveResult } from '../sync/resolve';
import type { RunResult } from '../sync/run-types';

/** One HTTP answer: what the n8n "Respond to Webhook" node sends back to Retool. */
export interface HttpAnswer {
	statusCode: number;
	body: Record<string, unknown>;
}

/**
 * Run results → status: 200 when every run succeeded (conflicts included), 409 when one was busy, 404 when the
 * single item exists nowhere, 502 when a run failed (ServiceTitan or the database); the body always carries the
 * results, as `pricebook-sync --json` prints them.
 */
export function answerForRuns(results: RunResult[]): HttpAnswer {
	const failed = results.filter((r) => r.status === 'failed');
	if (failed.some((r) => r.kind === 'entity' && /neither in ServiceTitan nor locally/.test(r.message ?? ''))) {
		return { statusCode: 404, body: { error: failed[0].message, results } };
	}
	if (failed.length > 0) return { statusCode: 502, body: { error: failed.map((r) => `${r.entityType}: ${r.message}`).join('; '), results } };
	if (results.some((r) => r.status === 'busy')) return { statusCode: 409, body: { error: 'a sync of the same entity type is running; try again shortly', reason: 'busy', results } };
	return { statusCode: 200, body: { results } };
}

export function answerForResolution(result: ResolveResult): HttpAnswer {
	if (result.status === 'stale') return { statusCode: 409, body: { error: result.message, reason: 'stale', result } };
	return { statusCode: 200, body: { result } };
}

/** Any failure → status and a JSON body that says what to do; never a stack trace, never a secret. */
export function answerForError(error: unknown): HttpAnswer {
	if (error instanceof SyncValidationError) return { statusCode: 400, body: { error: error.message, field: error.field } };
	if (error instanceof SyncNotFoundError) return { statusCode: 404, body: { error: error.message } };
	if (error instanceof SyncStateError) return { statusCode: 409, body: { error: error.message, reason: error.reason } };
	if (isStApiError(error)) return { statusCode: 502, body: { error: `ServiceTitan: ${error.message}`, kind: error.kind } };
	if (error instanceof ConfigError) return { statusCode: 500, body: { error: 'The ServiceTitan credential is incomplete; ask an administrator to fix it in n8n.' } };
	return { statusCode: 500, body: { error: error instanceof Error ? error.message : String(error) } };
}
