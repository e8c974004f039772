import { backoffDelayMs } from './backoff';
import { StApiError } from './errors';
import type { CallLabel } from './response';
import type { StClientStats, StLogFn } from './types';

export interface RetrySettings {
	/** Retries after the first attempt. */
	maxRetries: number;
	backoffBaseMs: number;
	/** Ceiling of one backoff wait and of an honoured Retry-After. */
	backoffMaxMs: number;
	random: () => number;
	sleep: (ms: number) => Promise<void>;
	log: StLogFn;
}

/**
 * The wait between two attempts of one call, shared by API calls and token requests. Each caller decides
 * itself whether a failure may be repeated: a POST to the token endpoint has stricter rules than a GET.
 */
export class RetryWaiter {
	readonly maxRetries: number;

	constructor(
		private readonly settings: RetrySettings,
		private readonly counters: StClientStats,
	) {
		this.maxRetries = settings.maxRetries;
	}

	/** Retry-After when ST gave one (capped), else exponential backoff with jitter. */
	async wait(call: CallLabel, failure: StApiError, retry: number, retryAfterMs: number | undefined): Promise<void> {
		const { backoffBaseMs, backoffMaxMs, random } = this.settings;
		this.counters.retries += 1;
		const delayMs = retryAfterMs !== undefined ? Math.min(retryAfterMs, backoffMaxMs) : backoffDelayMs(retry, backoffBaseMs, backoffMaxMs, random);
		this.settings.log('warn', 'ServiceTitan call failed; retrying', {
			method: call.method,
			path: call.path,
			kind: failure.kind,
			status: failure.status,
			retry,
			delayMs,
			retryAfter: retryAfterMs !== undefined,
		});
		await this.settings.sleep(delayMs);
	}
}

/** The error a call gives up with: the last failure, telling how many attempts were made. */
export function withAttempts(error: StApiError, attempts: number): StApiError {
	return new StApiError(error.message, {
		kind: error.kind,
		retryable: error.retryable,
		attempts,
		...(error.status !== undefined ? { status: error.status } : {}),
		...(error.errors !== undefined ? { errors: error.errors } : {}),
		...(error.method !== undefined ? { method: error.method } : {}),
		...(error.path !== undefined ? { path: error.path } : {}),
		...(error.traceId !== undefined ? { traceId: error.traceId } : {}),
		...(error.code !== undefined ? { code: error.code } : {}),
	});
}
