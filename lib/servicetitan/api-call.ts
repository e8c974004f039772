import { namedWaitOf } from './backoff';
import { stringifyExact } from './exact-json';
import { asStApiError, kindForStatus, StApiError } from './errors';
import type { RequestPlumbing } from './plumbing';
import { currentLane, type RequestThrottle } from './throttle';
import { isStNotFound, parseJson, parseProblem, type CallLabel } from './response';
import { CallRetries, type NamedWait } from './retry';
import type { TokenCache } from './token';
import type { RawResponse } from './transport';

export type ApiMethod = 'GET' | 'PATCH' | 'POST';

export interface CallOptions {
	query?: URLSearchParams;
	body?: unknown;
	/** ServiceTitan's own 404 answers null instead of throwing (any other 404 still throws `misrouted`). */
	notFoundIsNull?: boolean;
	/** Failures not to repeat at all (the caller has a better remedy, e.g. a smaller page). */
	giveUpOn?: (failure: StApiError) => boolean;
}

/** Runs one API request to its end: the pricebook endpoints need nothing else to talk to ServiceTitan. */
export type ApiCall = (method: ApiMethod, path: string, options?: CallOptions) => Promise<unknown>;

export interface ApiCallerOptions extends RequestPlumbing {
	/** Everything below it is the `path` of a call. */
	baseUrl: string;
	appKey: string;
	throttle: RequestThrottle;
	tokens: TokenCache;
}

/** `/services/123`: the only paths where a 404 can mean that an item is gone. */
const ITEM_PATH = /^\/(services|materials|equipment|categories)\/\d+$/;

/**
 * One API call from first attempt to answer or final error: throttle, bearer token, one token renewal after a
 * 401, classification of every other status, and retries of what may be repeated.
 */
export class ApiCaller {
	/** ServiceTitan's clock as the `Date` header of its latest successful answer read it (second precision). */
	lastServerDate: Date | null = null;

	constructor(private readonly options: ApiCallerOptions) {}

	async call(method: ApiMethod, path: string, callOptions: CallOptions = {}): Promise<unknown> {
		const { transport, throttle, tokens, retry, counters } = this.options;
		const lane = currentLane();
		const queryString = callOptions.query && [...callOptions.query.keys()].length > 0 ? `?${callOptions.query.toString()}` : '';
		const callLabel: CallLabel = { method, path: `${path}${queryString}` };
		const body = callOptions.body === undefined ? undefined : stringifyExact(callOptions.body);
		const state = new CallRetries(callLabel);
		let renewedAfter401 = false;
		for (;;) {
			await throttle.acquire(lane);
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
			let namedWait: NamedWait | undefined;
			if ('error' in outcome) {
				failure = outcome.error;
			} else {
				const { response } = outcome;
				if (response.status >= 200 && response.status < 300) {
					const date = Date.parse(response.headers.date ?? '');
					if (Number.isFinite(date)) this.lastServerDate = new Date(date);
					if (response.status === 204 || response.body.trim() === '') return undefined;
					try {
						return parseJson(response.body, callLabel);
					} catch (error: unknown) {
						failure = error as StApiError;
					}
				} else if (response.status === 404) {
					// Only ServiceTitan's own problem answer for an item path says the item is gone; a gateway page,
					// an empty body or a 404 for a listing means the request went somewhere it should not.
					if (!ITEM_PATH.test(path) || !isStNotFound(response.body)) throw this.misrouted(callLabel, response, state.attempts);
					if (callOptions.notFoundIsNull) return null;
					failure = this.statusError(callLabel, response);
				} else if (response.status === 401 && !renewedAfter401) {
					// The token may have been revoked or expired early: renew once, then give up as an auth error.
					renewedAfter401 = true;
					tokens.invalidate(token);
					counters.retries += 1;
					this.options.log('info', 'ServiceTitan answered 401; renewing the access token once', { method, path: callLabel.path });
					continue;
				} else if (response.status === 401) {
					failure = this.refusedFreshToken(callLabel, response);
				} else {
					failure = this.statusError(callLabel, response);
					if (response.status === 429) {
						namedWait = namedWaitOf(response.headers, response.body, this.options.now());
						// Every process sharing the budget holds back, not only this call's retry.
						await throttle.rateLimited?.(namedWait?.ms);
					}
				}
			}
			const mayRetry = !(callOptions.giveUpOn?.(failure) ?? false);
			await retry.afterFailure(state, failure, { mayRetry, ...(namedWait ? { namedWait } : {}) });
		}
	}

	private misrouted(call: CallLabel, response: RawResponse, attempts: number): StApiError {
		const init = { kind: 'misrouted' as const, status: 404, retryable: false, method: call.method, path: call.path, attempts };
		if (isStNotFound(response.body)) {
			// ServiceTitan's own not-found answer for a path that exists for every tenant (a listing): the host is
			// right, the tenant in the path is what it does not know (or not in this environment).
			return new StApiError(
				`ServiceTitan ${call.method} ${call.path} answered its own 404 for a path every tenant has: it does not know this tenant; ` +
					'check the tenant id, and the environment (a tenant exists in production or in integration, not both)',
				{ ...init, settings: ['tenantId', 'environment'] },
			);
		}
		const type = (response.headers['content-type'] ?? '').split(';')[0].trim();
		const what = response.body.trim() === '' ? 'an empty body' : type ? `a ${type} body` : 'a body';
		return new StApiError(
			`ServiceTitan ${call.method} ${call.path} answered 404 with ${what}, not the pricebook API's own not-found answer: ` +
				'the request did not reach the pricebook API; check the API base URL (environment or apiBaseUrl) and the tenant id',
			{ ...init, settings: ['apiBaseUrl', 'environment', 'tenantId'] },
		);
	}

	/**
	 * A 401 to a token ServiceTitan has just issued: the client id and secret are fine (they got the token), so the
	 * app key is wrong, or the tenant is not the one the client id and secret were issued for.
	 */
	private refusedFreshToken(call: CallLabel, response: RawResponse): StApiError {
		const problem = parseProblem(response.body);
		return new StApiError(
			`ServiceTitan ${call.method} ${call.path} answered 401 to a fresh access token: check the app key (sent as ST-App-Key); ` +
				'if it is right, check that the tenant id is the tenant the client id and secret were issued for',
			{
				kind: 'auth',
				status: 401,
				retryable: false,
				method: call.method,
				path: call.path,
				settings: ['appKey', 'tenantId'],
				...(problem.traceId ? { traceId: problem.traceId } : {}),
			},
		);
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
		const hint = kind === 'forbidden' ? forbiddenHint(call.method) : '';
		const message = redactor.redact(`ServiceTitan ${call.method} ${call.path} answered ${status}${summary ? `: ${summary}` : ''}${hint}`.slice(0, 2000));
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
			// A read refused: the tenant has not connected this app (or is another tenant than the token's).
			...(kind === 'forbidden' && call.method === 'GET' ? { settings: ['tenantId', 'appKey'] as const } : {}),
			...(errors ? { errors } : {}),
			...(problem.traceId ? { traceId: problem.traceId } : {}),
		});
	}
}

/** A 403 means the app's scopes, granted per app version, leave the call out: no retry or new token helps. */
function forbiddenHint(method: string): string {
	return method === 'GET'
		? ' (the ServiceTitan app lacks read permission for the pricebook: check the tenant id, that this tenant has connected the app, and the scopes of the app)'
		: ' (the ServiceTitan app lacks write permission for the pricebook: reads work, but changes need an app version granted write scope by the tenant)';
}
