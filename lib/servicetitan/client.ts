import { inspect } from 'node:util';
import { backoffDelayMs, parseRetryAfterMs } from './backoff';
import { flattenCategories } from './categories';
import { resolveStUrls, validateStConfig } from './config';
import { kindForStatus, Redactor, StApiError } from './errors';
import { RateLimiter } from './rate-limiter';
import { isObject, parseJson, parseProblem, toExportPage, toPage, toRecord, tryParseJson, type CallLabel } from './response';
import { normalizeStTimestamp } from './timestamps';
import { TokenCache, type AccessToken } from './token';
import { HttpTransport, type RawResponse } from './transport';
import type {
	EntityType,
	ExportParams,
	IterateParams,
	ListParams,
	StClientOptions,
	StClientStats,
	StConfig,
	StExportPage,
	StLogFn,
	StPage,
	StRecord,
} from './types';

export const MAX_PAGE_SIZE = 5000;
export const MAX_IDS_PER_REQUEST = 50;
const DEFAULT_TOKEN_LIFETIME_S = 900;

type Method = 'GET' | 'PATCH';

interface CallOptions {
	query?: URLSearchParams;
	body?: unknown;
	/** 404 answers null instead of throwing. */
	notFoundIsNull?: boolean;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ServiceTitan pricebook v2 client: token cache, throttle, retries with backoff, error classification.
 * No sync logic. One instance per tenant; it is safe to call concurrently.
 */
export class ServiceTitanClient {
	private readonly authUrl: string;
	private readonly baseUrl: string;
	private readonly now: () => number;
	private readonly sleep: (ms: number) => Promise<void>;
	private readonly log: StLogFn;
	private readonly random: () => number;
	private readonly maxRetries: number;
	private readonly backoffBaseMs: number;
	private readonly backoffMaxMs: number;
	private readonly concurrency: number;
	private readonly redactor = new Redactor();
	private readonly transport: HttpTransport;
	private readonly limiter: RateLimiter;
	private readonly tokens: TokenCache;
	private readonly counters: StClientStats = { requests: 0, tokenRequests: 0, retries: 0 };

	constructor(
		private readonly config: StConfig,
		options: StClientOptions = {},
	) {
		validateStConfig(config);
		const urls = resolveStUrls(config);
		this.authUrl = urls.authUrl;
		this.baseUrl = urls.pricebookBaseUrl;
		this.now = options.now ?? Date.now;
		this.sleep = options.sleep ?? defaultSleep;
		this.log = options.log ?? (() => undefined);
		this.random = options.random ?? Math.random;
		this.maxRetries = options.maxRetries ?? 6;
		this.backoffBaseMs = options.backoffBaseMs ?? 500;
		this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
		this.concurrency = options.concurrency ?? 8;
		this.redactor.add(config.clientSecret);
		this.redactor.add(config.appKey);
		this.transport = new HttpTransport({
			timeoutMs: options.timeoutMs ?? 120_000,
			httpAgent: options.httpAgent,
			httpsAgent: options.httpsAgent,
			userAgent: options.userAgent ?? 'n8n-nodes-perfectcatch-pricebook',
			redactor: this.redactor,
		});
		this.limiter = new RateLimiter(options.requestsPerSecond ?? 60, this.now, this.sleep);
		this.tokens = new TokenCache(() => this.requestToken(), this.now, options.tokenRenewMarginMs ?? 60_000);
	}

	// ---- pricebook operations ----

	async listPage(entity: EntityType, params: ListParams): Promise<StPage> {
		const query = listQuery(entity, params);
		const path = `/${entity}`;
		const body = await this.call('GET', path, { query });
		const page = toPage(body, label('GET', path, query));
		return entity === 'categories' ? { ...page, data: flattenCategories(page.data) } : page;
	}

	/** Pages from `params.page` (default 1) until `hasMore` is false. */
	async *iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
		let page = params.page ?? 1;
		for (;;) {
			const result = await this.listPage(entity, { ...params, page });
			yield result;
			if (!result.hasMore) return;
			if (result.data.length === 0) {
				// Paging on would never end; the caller must not take what it read so far as complete.
				throw new StApiError(`ServiceTitan GET /${entity} page ${page} was empty but claimed hasMore`, {
					kind: 'malformed_response',
					retryable: true,
					method: 'GET',
					path: `/${entity}`,
				});
			}
			page += 1;
		}
	}

	/** One page of the export feed; follow `continueFrom` until `hasMore` is false. */
	async exportPage(entity: EntityType, params: ExportParams = {}): Promise<StExportPage> {
		const query = new URLSearchParams();
		if (params.from !== undefined) query.set('from', params.from);
		if (params.includeRecentChanges !== undefined) query.set('includeRecentChanges', String(params.includeRecentChanges));
		const path = `/export/${entity}`;
		const body = await this.call('GET', path, { query });
		const page = toExportPage(body, label('GET', path, query));
		return entity === 'categories' ? { ...page, data: flattenCategories(page.data) } : page;
	}

	/** Active and inactive records for `ids`, 50 per request; ids ST does not know are simply absent. */
	async getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]> {
		const unique = [...new Set(ids)];
		for (const id of unique) assertId(id);
		if (entity === 'categories') {
			// ST's categories listing declares no `ids` filter: one GET per id (categories are few).
			const found = await mapLimit(unique, this.concurrency, (id) => this.get(entity, id));
			return found.filter((record): record is StRecord => record !== null);
		}
		const out: StRecord[] = [];
		for (let i = 0; i < unique.length; i += MAX_IDS_PER_REQUEST) {
			const chunk = unique.slice(i, i + MAX_IDS_PER_REQUEST);
			const page = await this.listPage(entity, { page: 1, pageSize: MAX_IDS_PER_REQUEST, ids: chunk, active: 'Any' });
			out.push(...page.data);
		}
		return out;
	}

	/** null when ST answers 404 (deleted, or never existed). */
	async get(entity: EntityType, id: number): Promise<StRecord | null> {
		assertId(id);
		const path = `/${entity}/${id}`;
		const body = await this.call('GET', path, { notFoundIsNull: true });
		if (body === null) return null;
		return normalizeRecord(entity, toRecord(body, { method: 'GET', path }));
	}

	/**
	 * PATCH and return the full entity ST answers with. ST may ignore fields it does not accept, so callers
	 * compare the answer with what they sent.
	 */
	async patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> {
		assertId(id);
		if (!isObject(body)) throw new TypeError('patch body must be an object');
		const path = `/${entity}/${id}`;
		const answer = await this.call('PATCH', path, { body });
		return normalizeRecord(entity, toRecord(answer, { method: 'PATCH', path }));
	}

	/** Gets a token and reads one category: proves credentials, app key and tenant. */
	async testConnection(): Promise<void> {
		await this.listPage('categories', { page: 1, pageSize: 1 });
	}

	stats(): StClientStats {
		return { ...this.counters };
	}

	/** Releases keep-alive sockets (only of agents the client created itself). */
	close(): void {
		this.transport.close();
	}

	// The instance holds the client secret, app key and token: logging or serializing it shows none of them.
	toJSON(): Record<string, unknown> {
		return { tenantId: this.config.tenantId, environment: this.config.environment, authUrl: this.authUrl, baseUrl: this.baseUrl };
	}

	[inspect.custom](): string {
		return `ServiceTitanClient ${JSON.stringify(this.toJSON())}`;
	}

	// ---- plumbing ----

	private async call(method: Method, path: string, options: CallOptions = {}): Promise<unknown> {
		const queryString = options.query && [...options.query.keys()].length > 0 ? `?${options.query.toString()}` : '';
		const callLabel: CallLabel = { method, path: `${path}${queryString}` };
		const body = options.body === undefined ? undefined : JSON.stringify(options.body);
		let retries = 0;
		let renewedAfter401 = false;
		for (;;) {
			await this.limiter.acquire();
			const token = await this.tokens.get();
			this.counters.requests += 1;
			let outcome: { response: RawResponse } | { error: StApiError };
			try {
				outcome = {
					response: await this.transport.send({
						method,
						url: `${this.baseUrl}${callLabel.path}`,
						headers: {
							Authorization: `Bearer ${token.value}`,
							'ST-App-Key': this.config.appKey,
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
				} else if (response.status === 404 && options.notFoundIsNull) {
					return null;
				} else if (response.status === 401 && !renewedAfter401) {
					// The token may have been revoked or expired early: renew once, then give up as an auth error.
					renewedAfter401 = true;
					this.tokens.invalidate(token);
					this.counters.retries += 1;
					this.log('info', 'ServiceTitan answered 401; renewing the access token once', { method, path: callLabel.path });
					continue;
				} else {
					failure = this.statusError(callLabel, response);
					if (response.status === 429) retryAfterMs = parseRetryAfterMs(response.headers['retry-after'], this.now());
				}
			}

			if (!failure.retryable || retries >= this.maxRetries) {
				throw withAttempts(failure, retries + 1);
			}
			retries += 1;
			await this.waitBeforeRetry(callLabel, failure, retries, retryAfterMs);
		}
	}

	private statusError(call: CallLabel, response: RawResponse): StApiError {
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
		const message = this.redactor.redact(
			`ServiceTitan ${call.method} ${call.path} answered ${status}${summary ? `: ${summary}` : ''}`.slice(0, 2000),
		);
		const errors = problem.errors
			? Object.fromEntries(
					Object.entries(problem.errors).map(([field, messages]) => [
						this.redactor.redact(field),
						messages.map((m) => this.redactor.redact(m)),
					]),
				)
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

	private async requestToken(): Promise<AccessToken> {
		const form = new URLSearchParams({
			grant_type: 'client_credentials',
			client_id: this.config.clientId,
			client_secret: this.config.clientSecret,
		}).toString();
		const call: CallLabel = { method: 'POST', path: '(token endpoint)' };
		let retries = 0;
		for (;;) {
			const startedAt = this.now();
			this.counters.tokenRequests += 1;
			let response: RawResponse;
			try {
				response = await this.transport.send({
					method: 'POST',
					url: this.authUrl,
					headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
					body: form,
					label: call.path,
				});
			} catch (error: unknown) {
				const failure = asStApiError(error, call);
				// A POST is repeated only when it surely never reached the server.
				if (failure.code === 'ECONNREFUSED' && retries < this.maxRetries) {
					retries += 1;
					await this.waitBeforeRetry(call, failure, retries, undefined);
					continue;
				}
				throw withAttempts(failure, retries + 1);
			}
			if (response.status !== 200) {
				const failure = this.tokenError(response);
				if (failure.kind === 'rate_limit' && retries < this.maxRetries) {
					retries += 1;
					await this.waitBeforeRetry(call, failure, retries, parseRetryAfterMs(response.headers['retry-after'], this.now()));
					continue;
				}
				throw withAttempts(failure, retries + 1);
			}
			const parsed = tryParseJson(response.body);
			if (!isObject(parsed) || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
				throw new StApiError('ServiceTitan token endpoint answered without an access_token', {
					kind: 'malformed_response',
					retryable: true,
					method: 'POST',
					path: call.path,
					status: response.status,
				});
			}
			this.redactor.add(parsed.access_token);
			const lifetimeS =
				typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
			this.log('debug', 'ServiceTitan access token obtained', { expiresInS: lifetimeS });
			return { value: parsed.access_token, expiresAt: startedAt + lifetimeS * 1000 };
		}
	}

	private tokenError(response: RawResponse): StApiError {
		// OAuth error bodies name a code such as invalid_client; anything else is left out.
		const parsed = tryParseJson(response.body);
		const code = isObject(parsed) && typeof parsed.error === 'string' ? ` (${parsed.error})` : '';
		const status = response.status;
		const kind = status === 400 || status === 401 || status === 403 ? 'auth' : kindForStatus(status);
		return new StApiError(
			this.redactor.redact(`ServiceTitan token request answered ${status}${code}: check client id, client secret and environment`),
			{ kind, status, retryable: kind === 'server' || kind === 'rate_limit', method: 'POST', path: '(token endpoint)' },
		);
	}

	/** Retry-After when ST gave one (capped), else exponential backoff with jitter. */
	private async waitBeforeRetry(call: CallLabel, failure: StApiError, retry: number, retryAfterMs: number | undefined): Promise<void> {
		this.counters.retries += 1;
		const delayMs =
			retryAfterMs !== undefined
				? Math.min(retryAfterMs, this.backoffMaxMs)
				: backoffDelayMs(retry, this.backoffBaseMs, this.backoffMaxMs, this.random);
		this.log('warn', 'ServiceTitan call failed; retrying', {
			method: call.method,
			path: call.path,
			kind: failure.kind,
			status: failure.status,
			retry,
			delayMs,
			retryAfter: retryAfterMs !== undefined,
		});
		await this.sleep(delayMs);
	}
}

function listQuery(entity: EntityType, params: ListParams): URLSearchParams {
	if (!Number.isInteger(params.page) || params.page < 1) throw new RangeError(`page must be an integer >= 1, got ${params.page}`);
	if (!Number.isInteger(params.pageSize) || params.pageSize < 1 || params.pageSize > MAX_PAGE_SIZE) {
		throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${params.pageSize}`);
	}
	const query = new URLSearchParams();
	query.set('page', String(params.page));
	query.set('pageSize', String(params.pageSize));
	query.set('active', params.active ?? 'Any');
	if (params.includeTotal !== undefined) query.set('includeTotal', String(params.includeTotal));
	// Sent with all 7 digits: an inclusive bound cut to milliseconds would drop rows from the same millisecond.
	if (params.modifiedOnOrAfter !== undefined) query.set('modifiedOnOrAfter', normalizeStTimestamp(params.modifiedOnOrAfter));
	if (params.modifiedBefore !== undefined) query.set('modifiedBefore', normalizeStTimestamp(params.modifiedBefore));
	if (params.sort !== undefined) query.set('sort', params.sort);
	if (params.ids !== undefined) {
		if (entity === 'categories') throw new RangeError('the categories listing has no ids filter; use getByIds');
		if (params.ids.length === 0 || params.ids.length > MAX_IDS_PER_REQUEST) {
			throw new RangeError(`ids must hold 1 to ${MAX_IDS_PER_REQUEST} ids, got ${params.ids.length}`);
		}
		for (const id of params.ids) assertId(id);
		query.set('ids', params.ids.join(','));
	}
	if (params.categoryType !== undefined) {
		if (entity !== 'categories') throw new RangeError('categoryType applies to categories only');
		query.set('categoryType', params.categoryType);
	}
	return query;
}

function label(method: string, path: string, query: URLSearchParams): CallLabel {
	return { method, path: `${path}?${query.toString()}` };
}

function assertId(id: number): void {
	if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`ServiceTitan ids are positive integers, got ${id}`);
}

/** A single category may come with its children nested; the client always hands out the flat shape. */
function normalizeRecord(entity: EntityType, record: StRecord): StRecord {
	if (entity !== 'categories' || !('subcategories' in record)) return record;
	const { subcategories: _children, ...rest } = record;
	return rest as StRecord;
}

function asStApiError(error: unknown, call: CallLabel): StApiError {
	if (error instanceof StApiError) return error;
	// Not expected (the transport converts everything), but an unknown error object must not escape as is.
	return new StApiError(`ServiceTitan ${call.method} ${call.path} failed unexpectedly`, {
		kind: 'network',
		retryable: true,
		method: call.method,
		path: call.path,
	});
}

function withAttempts(error: StApiError, attempts: number): StApiError {
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

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const index = next++;
			results[index] = await fn(items[index]);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	return results;
}
