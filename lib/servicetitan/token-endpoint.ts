import { namedWaitOf } from './backoff';
import { asStApiError, kindForStatus, StApiError } from './errors';
import type { RequestPlumbing } from './plumbing';
import { isObject, tryParseJson, type CallLabel } from './response';
import { CallRetries, type NamedWait } from './retry';
import type { AccessToken } from './token';
import type { RawResponse } from './transport';

/** When the token endpoint names no lifetime: ServiceTitan's tokens live 15 minutes. */
const DEFAULT_TOKEN_LIFETIME_S = 900;

/** The `path` of token-request errors (the URL itself may hold a proxy's credentials, so it is never shown). */
export const TOKEN_CALL_PATH = '(token endpoint)';

const TOKEN_CALL: CallLabel = { method: 'POST', path: TOKEN_CALL_PATH };

export interface TokenEndpointOptions extends RequestPlumbing {
	authUrl: string;
	clientId: string;
	clientSecret: string;
}

/**
 * Asks ServiceTitan's OAuth endpoint for a client-credentials token. Caching and sharing the token is the
 * TokenCache's job; this only makes the request, with the retries a POST allows.
 */
export class TokenEndpoint {
	constructor(private readonly options: TokenEndpointOptions) {}

	/**
	 * Repeats what may pass (connection failures and resets, timeouts, 5xx, an answer without a token) up to
	 * maxRetries times with backoff, and 429s for as long as the 429 budget lasts. Asking again is harmless: a
	 * client-credentials request changes nothing at ServiceTitan. A 4xx (wrong credentials) is never repeated.
	 */
	async request(): Promise<AccessToken> {
		const { transport, retry, counters, now } = this.options;
		const form = new URLSearchParams({
			grant_type: 'client_credentials',
			client_id: this.options.clientId,
			client_secret: this.options.clientSecret,
		}).toString();
		const state = new CallRetries(TOKEN_CALL);
		for (;;) {
			const startedAt = now();
			counters.tokenRequests += 1;
			let failure: StApiError;
			let namedWait: NamedWait | undefined;
			try {
				const response = await transport.send({
					method: 'POST',
					url: this.options.authUrl,
					headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
					body: form,
					label: TOKEN_CALL.path,
				});
				if (response.status === 200) return this.tokenFrom(response, startedAt);
				failure = this.tokenError(response);
				if (response.status === 429) namedWait = namedWaitOf(response.headers, response.body, now());
			} catch (error: unknown) {
				failure = asStApiError(error, TOKEN_CALL);
			}
			await retry.afterFailure(state, failure, { ...(namedWait ? { namedWait } : {}) });
		}
	}

	/** The token of a 200 answer; its lifetime counts from when the request started. */
	private tokenFrom(response: RawResponse, startedAt: number): AccessToken {
		const parsed = tryParseJson(response.body);
		if (!isObject(parsed) || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
			throw new StApiError('ServiceTitan token endpoint answered without an access_token', {
				kind: 'malformed_response',
				retryable: true,
				method: 'POST',
				path: TOKEN_CALL.path,
				status: response.status,
			});
		}
		this.options.redactor.add(parsed.access_token);
		const lifetimeS = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
		this.options.log('debug', 'ServiceTitan access token obtained', { expiresInS: lifetimeS });
		return { value: parsed.access_token, expiresAt: startedAt + lifetimeS * 1000 };
	}

	private tokenError(response: RawResponse): StApiError {
		// OAuth error bodies name a code such as invalid_client; anything else is left out.
		const parsed = tryParseJson(response.body);
		const code = isObject(parsed) && typeof parsed.error === 'string' ? ` (${parsed.error})` : '';
		const status = response.status;
		const redact = (text: string) => this.options.redactor.redact(text);
		const call = { status, method: 'POST', path: TOKEN_CALL.path };
		if (status === 404) {
			return new StApiError(`ServiceTitan token request answered 404: check the token URL (environment production or integration, or authUrl)`, {
				...call,
				kind: 'misrouted',
				retryable: false,
				settings: ['environment', 'authUrl'],
			});
		}
		if (status === 429 || status >= 500) {
			return new StApiError(redact(`ServiceTitan token request answered ${status}${code}`), { ...call, kind: kindForStatus(status), retryable: true });
		}
		// 400 invalid_client, 401, 403, ...: the credentials are wrong, and asking again will not change that.
		return new StApiError(
			redact(`ServiceTitan refused the token request (${status}${code}): check the client id, client secret and environment (production or integration)`),
			{ ...call, kind: 'auth', retryable: false, settings: ['clientId', 'clientSecret', 'environment'] },
		);
	}
}
