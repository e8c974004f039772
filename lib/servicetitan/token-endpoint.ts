import { parseRetryAfterMs } from './backoff';
import { asStApiError, kindForStatus, StApiError } from './errors';
import type { RequestPlumbing } from './plumbing';
import { isObject, tryParseJson, type CallLabel } from './response';
import { withAttempts } from './retry';
import type { AccessToken } from './token';
import type { RawResponse } from './transport';

/** When the token endpoint names no lifetime: ServiceTitan's tokens live 15 minutes. */
const DEFAULT_TOKEN_LIFETIME_S = 900;

const TOKEN_CALL: CallLabel = { method: 'POST', path: '(token endpoint)' };

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

	async request(): Promise<AccessToken> {
		const { transport, retry, counters, now } = this.options;
		const form = new URLSearchParams({
			grant_type: 'client_credentials',
			client_id: this.options.clientId,
			client_secret: this.options.clientSecret,
		}).toString();
		let retries = 0;
		for (;;) {
			const startedAt = now();
			counters.tokenRequests += 1;
			let response: RawResponse;
			try {
				response = await transport.send({
					method: 'POST',
					url: this.options.authUrl,
					headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
					body: form,
					label: TOKEN_CALL.path,
				});
			} catch (error: unknown) {
				const failure = asStApiError(error, TOKEN_CALL);
				// A POST is repeated only when it surely never reached the server.
				if (failure.code === 'ECONNREFUSED' && retries < retry.maxRetries) {
					retries += 1;
					await retry.wait(TOKEN_CALL, failure, retries, undefined);
					continue;
				}
				throw withAttempts(failure, retries + 1);
			}
			if (response.status !== 200) {
				const failure = this.tokenError(response);
				if (failure.kind === 'rate_limit' && retries < retry.maxRetries) {
					retries += 1;
					await retry.wait(TOKEN_CALL, failure, retries, parseRetryAfterMs(response.headers['retry-after'], now()));
					continue;
				}
				throw withAttempts(failure, retries + 1);
			}
			return this.tokenFrom(response, startedAt);
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
		const kind = status === 400 || status === 401 || status === 403 ? 'auth' : kindForStatus(status);
		return new StApiError(
			this.options.redactor.redact(`ServiceTitan token request answered ${status}${code}: check client id, client secret and environment`),
			{ kind, status, retryable: kind === 'server' || kind === 'rate_limit', method: 'POST', path: TOKEN_CALL.path },
		);
	}
}
