import { backoffDelayMs, type WaitSource } from './backoff';
import { copyStApiError, StApiError } from './errors';
import type { CallLabel } from './response';
import type { StClientStats, StLogFn } from './types';

export interface RetrySettings {
	/** Retries after the first attempt, for failures other than 429. */
	maxRetries: number;
	backoffBaseMs: number;
	/** Ceiling of one backoff wait of the client's own (a wait ServiceTitan names is limited by the 429 budget instead). */
	backoffMaxMs: number;
	/** Time one call may spend waiting on 429s, in all; counted apart from maxRetries. */
	rateLimitBudgetMs: number;
	random: () => number;
	sleep: (ms: number) => Promise<void>;
	log: StLogFn;
}

/** A wait ServiceTitan named in a 429 answer. */
export interface NamedWait {
	ms: number;
	source: WaitSource;
}

/** The retries one call has made so far: a count for failures, a time for 429s. */
export class CallRetries {
	/** Retries after failures other than 429. */
	retries = 0;
	/** Retries after 429s. */
	throttles = 0;
	/** Time waited on 429s. */
	throttledMs = 0;

	constructor(readonly call: CallLabel) {}

	get attempts(): number {
		return this.retries + this.throttles + 1;
	}
}

/**
 * The wait between two attempts of one call, shared by API calls and token requests. Each caller decides
 * itself whether a failure may be repeated at all (`mayRetry`): a POST to the token endpoint has stricter rules
 * than a GET. A 429 is always repeated, after the wait ServiceTitan names (Retry-After, else the body) or an
 * exponential backoff, for as long as the call's 429 budget (a time, not a count) lasts.
 */
export class RetryWaiter {
	readonly maxRetries: number;

	constructor(
		private readonly settings: RetrySettings,
		private readonly counters: StClientStats,
	) {
		this.maxRetries = settings.maxRetries;
	}

	/** Waits before the next attempt of `state.call`, or throws the error the call gives up with. */
	async afterFailure(state: CallRetries, failure: StApiError, options: { namedWait?: NamedWait; mayRetry?: boolean } = {}): Promise<void> {
		const { backoffBaseMs, backoffMaxMs, random, rateLimitBudgetMs } = this.settings;
		if (failure.kind === 'rate_limit') {
			const named = options.namedWait;
			const delayMs = named?.ms ?? backoffDelayMs(state.throttles + 1, backoffBaseMs, backoffMaxMs, random);
			if (state.throttledMs + delayMs > rateLimitBudgetMs) {
				throw withAttempts(this.budgetSpent(state, failure, delayMs, named), state.attempts);
			}
			state.throttles += 1;
			state.throttledMs += delayMs;
			await this.pause(state, failure, state.throttles, delayMs, named);
			return;
		}
		if (options.mayRetry === false || !failure.retryable || state.retries >= this.maxRetries) throw withAttempts(failure, state.attempts);
		state.retries += 1;
		await this.pause(state, failure, state.retries, backoffDelayMs(state.retries, backoffBaseMs, backoffMaxMs, random), undefined);
	}

	private async pause(state: CallRetries, failure: StApiError, retry: number, delayMs: number, named: NamedWait | undefined): Promise<void> {
		this.counters.retries += 1;
		this.settings.log('warn', 'ServiceTitan call failed; retrying', {
			method: state.call.method,
			path: state.call.path,
			kind: failure.kind,
			status: failure.status,
			retry,
			delayMs,
			retryAfter: named !== undefined,
			...(named ? { waitNamedIn: named.source } : {}),
		});
		await this.settings.sleep(delayMs);
	}

	private budgetSpent(state: CallRetries, failure: StApiError, delayMs: number, named: NamedWait | undefined): StApiError {
		const budget = this.settings.rateLimitBudgetMs;
		const asked = named
			? `ServiceTitan asks to wait ${seconds(delayMs)} more (${named.source === 'body' ? 'in its answer' : 'Retry-After'})`
			: `the next backoff would wait ${seconds(delayMs)}`;
		const message =
			`ServiceTitan ${state.call.method} ${state.call.path} is rate limited (429): waited ${seconds(state.throttledMs)} over ${state.throttles} ` +
			`${state.throttles === 1 ? 'retry' : 'retries'} and ${asked}, past the rate-limit budget of ${seconds(budget)} (rateLimitBudgetMs); try again later`;
		return new StApiError(message, {
			kind: 'rate_limit',
			retryable: true,
			...(failure.status !== undefined ? { status: failure.status } : {}),
			...(failure.method !== undefined ? { method: failure.method } : {}),
			...(failure.path !== undefined ? { path: failure.path } : {}),
			...(failure.traceId !== undefined ? { traceId: failure.traceId } : {}),
		});
	}
}

function seconds(ms: number): string {
	return ms >= 10_000 || ms % 1000 === 0 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The error a call gives up with: the last failure, telling how many attempts were made. */
export function withAttempts(error: StApiError, attempts: number): StApiError {
	return copyStApiError(error, { attempts });
}
