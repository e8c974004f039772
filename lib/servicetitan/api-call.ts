import { parseRetryAfterMs } from './backoff';
import { asStApiError, kindForStatus, StApiError } from './errors';
import type { RequestPlumbing } from './plumbing';
import type { RateLimiter } from './rate-limiter';
import { parseJson, parseProblem, type CallLabel } from './response';
import { withAttempts } from './retry';
import type { TokenCache } from './token';
import type { RawResponse } from './transport';

export type ApiMethod = 'GET' | 'PATCH';

export interface CallOptions {
	query?: URLSearchParams;
	body?: unknown;
	/** 404 answers null instead of throwing. */
	notFoundIsNull?: boolean;
}

/** Runs one API request to its end: the pricebook endpoints need nothing else to talk to ServiceTitan. */
export type ApiCall = (method: ApiMethod, path: string, options?: CallOptions) => Promise<unknown>;

export interface ApiCallerOptions extends RequestPlumbing {
	/** Everything below it is the `path` of a call. */
	baseUrl: string;
	appKey: string;
	limiter: RateLimiter;
	tokens: TokenCache;
}

/**
 * One API call from first attempt to answer or final error: throttle, bearer token, one token renewal after a
 * 401, classification of every other status, and retries of what may be repeated.
 */
export class ApiCaller {
	constructor(private readonly options: ApiCallerOptions) {}

	async call(method: ApiMethod, path: string, callOptions: CallOptions = {}): Promise<unknown> {
		const { transport, limiter, tokens, retry, counters } = this.options;
		const queryString = callOptions.query && [...callOptions.query.keys()].length > 0 ? `?${callOptions.query.toString()}` : '';
		const callLabel: CallLabel = { method, path: `${path}${queryString}` };
		const body = callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body);
		let retries = 0;
		let renewedAfter401 = false;
		for (;;) {
			await limiter.acquire();
			const token = await tokens.get();
			counters.requests += 1;
			let outcome: { response: RawResponse } | { error: StApiError };
			try {
				outcome = {
					response: await transport.send({
						method,
						url: `${this.options.baseUrl}${callLabel.path}`,
						headers: {
							Authorization: `Bearer ${token.value}`,
							'ST-App-Key': this.options.appKey,
							Accept: 'application/json',
							...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
						},
						body,
						label: callLabel.path,
					}),
				};
			} catch (error: unknown) {
				outcome = { error: asStApiError(error, callLabel) };
			}

			let failure: StApiError;
			let retryAfterMs: number | undefined;
			if ('error' in outcome) {
				failure = outcome.error;
			} else {
				const { response } = outcome;
				if (response.status >= 200 && response.status < 300) {
					if (response.status === 204 || response.body.trim() === '') return undefined;
					try {
						return parseJson(response.body, callLabel);
					} catch (error: unknown) {
						failure = error as StApiError;
					}
				} else if (response.status === 404 && callOptions.notFoundIsNull) {
					return null;
				} else if (response.status === 401 && !renewedAfter401) {
					// The token may have been revoked or expired early: renew once, then give up as an auth error.
					renewedAfter401 = true;
					tokens.invalidate(token);
					counters.retries += 1;
					this.options.log('info', 'ServiceTitan answered 401; renewing the access token once', { method, path: callLabel.path });
					continue;
				} else {
					failure = this.statusError(callLabel, response);
					if (response.status === 429) retryAfterMs = parseRetryAfterMs(response.headers['retry-after'], this.options.now());
				}
			}

			if (!failure.retryable || retries >= retry.maxRetries) {
				throw withAttempts(failure, retries + 1);
			}
			retries += 1;
			await retry.wait(callLabel, failure, retries, retryAfterMs);
		}
	}

	private statusError(call: CallLabel, response: RawResponse): StApiError {
		const { redactor } = this.options;
		const status = response.status;
		const kind = kindForStatus(status);
		// RFC 7807 bodies are documented for 400 and 404 only; anything else may be HTML or empty.
		const problem = parseProblem(response.body);
		const details = problem.errors
			? Object.entries(problem.errors)
					.map(([field, messages]) => `${field}: ${messages.join(' ')}`)
					.join('; ')
			: '';
		const summary = [problem.title, details].filter(Boolean).join(' - ');
		const message = redactor.redact(`ServiceTitan ${call.method} ${call.path} answered ${status}${summary ? `: ${summary}` : ''}`.slice(0, 2000));
		const errors = problem.errors
			? Object.fromEntries(Object.entries(problem.errors).map(([field, messages]) => [redactor.redact(field), messages.map((m) => redactor.redact(m))]))
			: undefined;
		// Only GET and PATCH come through here, and both are safe to repeat at ST.
		const retryable = kind === 'rate_limit' || kind === 'server';
		return new StApiError(message, {
			kind,
			status,
			retryable,
			method: call.method,
			path: call.path,
			...(errors ? { errors } : {}),
			...(problem.traceId ? { traceId: problem.traceId } : {}),
		});
	}
}
