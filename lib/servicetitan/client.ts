import { inspect } from 'node:util';
import { ApiCaller } from './api-call';
import { resolveStUrls, validateStConfig } from './config';
import { DEFAULT_MAX_RECORD_DEPTH } from './depth';
import { Redactor } from './errors';
import type { RequestPlumbing } from './plumbing';
import { PricebookApi } from './pricebook';
import { RateLimiter } from './rate-limiter';
import type { RequestThrottle } from './throttle';
import { RetryWaiter } from './retry';
import { TokenCache } from './token';
import { TokenEndpoint } from './token-endpoint';
import { HttpTransport } from './transport';
import type { EntityType, ExportParams, IterateParams, ListParams, StClientOptions, StClientStats, StConfig, StExportPage, StPage, StRecord } from './types';

// Callers import the limits from here, next to the client they apply to.
export { MAX_IDS_PER_REQUEST, MAX_PAGE_SIZE } from './pricebook-query';

/** The response size limit unless `maxResponseBytes` says otherwise. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ServiceTitan pricebook v2 client: token cache, throttle, retries with backoff, error classification.
 * No sync logic. One instance per tenant; it is safe to call concurrently.
 *
 * This class only wires the parts together and settles the defaults: TokenEndpoint and TokenCache get and keep
 * the OAuth token, ApiCaller runs a request to its end, PricebookApi knows the endpoints.
 */
export class ServiceTitanClient {
	private readonly authUrl: string;
	private readonly baseUrl: string;
	private readonly transport: HttpTransport;
	private readonly pricebook: PricebookApi;
	private readonly caller: ApiCaller;
	private readonly throttle: RequestThrottle;
	private readonly counters: StClientStats = { requests: 0, tokenRequests: 0, retries: 0 };

	constructor(
		private readonly config: StConfig,
		options: StClientOptions = {},
	) {
		validateStConfig(config);
		const urls = resolveStUrls(config);
		this.authUrl = urls.authUrl;
		this.baseUrl = urls.pricebookBaseUrl;
		const now = options.now ?? Date.now;
		const sleep = options.sleep ?? defaultSleep;
		const log = options.log ?? (() => undefined);
		const redactor = new Redactor();
		redactor.add(config.clientSecret);
		redactor.add(config.appKey);
		this.transport = new HttpTransport({
			timeoutMs: options.timeoutMs ?? 120_000,
			httpAgent: options.httpAgent,
			httpsAgent: options.httpsAgent,
			userAgent: options.userAgent ?? 'n8n-nodes-perfectcatch-pricebook',
			redactor,
			maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
		});
		const retry = new RetryWaiter(
			{
				maxRetries: options.maxRetries ?? 6,
				backoffBaseMs: options.backoffBaseMs ?? 500,
				backoffMaxMs: options.backoffMaxMs ?? 60_000,
				rateLimitBudgetMs: options.rateLimitBudgetMs ?? 180_000,
				random: options.random ?? Math.random,
				sleep,
				log,
			},
			this.counters,
		);
		const shared: RequestPlumbing = { transport: this.transport, retry, redactor, counters: this.counters, now, log };
		const tokenEndpoint = new TokenEndpoint({ ...shared, authUrl: this.authUrl, clientId: config.clientId, clientSecret: config.clientSecret });
		this.throttle = options.throttle ?? new RateLimiter(options.requestsPerSecond ?? 60, now, sleep);
		const caller = (this.caller = new ApiCaller({
			...shared,
			baseUrl: this.baseUrl,
			appKey: config.appKey,
			throttle: this.throttle,
			tokens: new TokenCache(() => tokenEndpoint.request(), now, options.tokenRenewMarginMs ?? 60_000),
		}));
		this.pricebook = new PricebookApi((method, path, callOptions) => caller.call(method, path, callOptions), {
			concurrency: options.concurrency ?? 8,
			maxRecordDepth: options.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH,
			minPageSize: options.minPageSize ?? 50,
			log,
		});
	}

	// ---- pricebook operations ----

	listPage(entity: EntityType, params: ListParams): Promise<StPage> {
		return this.pricebook.listPage(entity, params);
	}

	/**
	 * Pages from `params.page` (default 1) until `hasMore` is false. A page that times out or keeps failing is
	 * asked for again in half the size from the same item (down to `minPageSize`), and a listing that claims
	 * hasMore past ceil(totalCount / pageSize) + 3 pages fails instead of looping.
	 */
	iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage> {
		return this.pricebook.iteratePages(entity, params);
	}

	/** One page of the export feed; follow `continueFrom` until `hasMore` is false. */
	exportPage(entity: EntityType, params: ExportParams = {}): Promise<StExportPage> {
		return this.pricebook.exportPage(entity, params);
	}

	/**
	 * ServiceTitan's own clock: the `Date` header of a one-item listing of `entity` (second precision, so up to a
	 * second behind). null when ServiceTitan sends no usable `Date` header.
	 */
	async serverNow(entity: EntityType): Promise<Date | null> {
		await this.pricebook.listPage(entity, { page: 1, pageSize: 1, active: 'Any' });
		return this.caller.lastServerDate;
	}

	/** Active and inactive records for `ids`, 50 per request; ids ST does not know are simply absent. */
	getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]> {
		return this.pricebook.getByIds(entity, ids);
	}

	/** null when ST answers its own 404 (deleted, or never existed); any other 404 throws `misrouted`. */
	get(entity: EntityType, id: number): Promise<StRecord | null> {
		return this.pricebook.get(entity, id);
	}

	/**
	 * PATCH and return the full entity ST answers with. ST may ignore fields it does not accept, so callers
	 * compare the answer with what they sent. A 2xx without a body is answered by reading the item back.
	 * An app without write scope gets an error of kind `forbidden`.
	 */
	patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord> {
		return this.pricebook.patch(entity, id, body);
	}

	/** POST a new item (see PricebookApi.create: never repeated after an answer that may have been lost). */
	create(entity: EntityType, body: Record<string, unknown>): Promise<StRecord> {
		return this.pricebook.create(entity, body);
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
		void this.throttle.close?.().catch(() => undefined);
	}

	// The instance holds the client secret, app key and token: logging or serializing it shows none of them.
	toJSON(): Record<string, unknown> {
		return { tenantId: this.config.tenantId, environment: this.config.environment, authUrl: this.authUrl, baseUrl: this.baseUrl };
	}

	[inspect.custom](): string {
		return `ServiceTitanClient ${JSON.stringify(this.toJSON())}`;
	}
}
