import type * as http from 'node:http';
import type * as https from 'node:https';
import type { RequestThrottle } from './throttle';

export type EntityType = 'services' | 'materials' | 'equipment' | 'categories';

export const ENTITY_TYPES: readonly EntityType[] = Object.freeze(['services', 'materials', 'equipment', 'categories']);

export function isEntityType(value: unknown): value is EntityType {
	return typeof value === 'string' && (ENTITY_TYPES as readonly string[]).includes(value);
}

/** One ServiceTitan record as it came over the wire; `lib/entities` gives it meaning. */
export type StRecord = Record<string, unknown> & { id: number; modifiedOn: string };

export interface StPage {
	page: number;
	pageSize: number;
	hasMore: boolean;
	totalCount?: number | null;
	/**
	 * Entries at the top level of ServiceTitan's answer: the category roots when it nests subcategories (what
	 * `pageSize` and `totalCount` count), else as many as `data` holds. Unset when unknown.
	 */
	listed?: number;
	data: StRecord[];
}

export interface StExportPage {
	hasMore: boolean;
	/** Opaque: pass it back as `from` to go on where this page stopped. */
	continueFrom: string;
	data: StRecord[];
}

/** `Any` is the default here (not ST's `True`): a sync that cannot see deactivated items mistakes them for deletes. */
export type StActiveFilter = 'True' | 'False' | 'Any';

export interface ListParams {
	page: number;
	/** 1..5000; ST's own default is 50. */
	pageSize: number;
	active?: StActiveFilter;
	/** Inclusive, UTC, any ST timestamp form. */
	modifiedOnOrAfter?: string;
	/** Exclusive, UTC. */
	modifiedBefore?: string;
	/** ServiceTitan's text search (code, name, description); not declared for categories. */
	searchText?: string;
	/** At most 50; not supported by the categories listing (ST does not declare it there). */
	ids?: readonly number[];
	includeTotal?: boolean;
	/** `+Field` or `-Field`, e.g. `+Id`. */
	sort?: string;
	/** Categories only. */
	categoryType?: 'Services' | 'Materials';
}

export type IterateParams = Omit<ListParams, 'page'> & { page?: number };

export interface ExportParams {
	/** A `continueFrom` token from an earlier export page, or a date such as `2020-01-01`; omitted = from the start. */
	from?: string;
	includeRecentChanges?: boolean;
}

export type StEnvironment = 'production' | 'integration';

export interface StConfig {
	clientId: string;
	clientSecret: string;
	appKey: string;
	/** ST tenant id (an int64, kept as a string of digits). */
	tenantId: string;
	environment: StEnvironment;
	/** Full token URL; overrides the environment's (simulator, tests). */
	authUrl?: string;
	/** Scheme and host (and port); the client appends `/pricebook/v2/tenant/{tenant}/...`. */
	apiBaseUrl?: string;
	/**
	 * The rate every process together keeps to when they share a budget (lib/budget), at most ServiceTitan's 60 per
	 * app and tenant. Default 55, leaving room for bursts and other tools using the same app.
	 */
	requestsPerSecond?: number;
}

export type StLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields are plain data without secrets; safe to write to any log. */
export type StLogFn = (level: StLogLevel, message: string, fields: Record<string, unknown>) => void;

export interface StClientOptions {
	/** Current time in ms; drives the token lifetime, Retry-After dates and the rate limiter. */
	now?: () => number;
	sleep?: (ms: number) => Promise<void>;
	log?: StLogFn;
	httpAgent?: http.Agent;
	httpsAgent?: https.Agent;
	/** Per HTTP attempt. Default 120 s (ST gives up on a request after about 100 s). */
	timeoutMs?: number;
	/** Retries after the first attempt for retryable failures other than 429. Default 6. */
	maxRetries?: number;
	/**
	 * Time one call may spend waiting on 429s (Retry-After, the wait named in the body, or backoff), counted apart
	 * from maxRetries. Past it the call fails as `rate_limit`, naming the wait. Default 180 s.
	 */
	rateLimitBudgetMs?: number;
	/** First backoff step; doubles per retry, with jitter. Default 500 ms. */
	backoffBaseMs?: number;
	/** Ceiling of one backoff wait of the client's own (a wait ST names is bounded by rateLimitBudgetMs). Default 60 s. */
	backoffMaxMs?: number;
	/** Client-side throttle per tenant. Default 60 (ST's documented limit). Ignored when `throttle` is given. */
	requestsPerSecond?: number;
	/** What each request waits on: default a limiter of this process alone; SharedRequestBudget shares one budget through PostgreSQL. */
	throttle?: RequestThrottle;
	/** Renew the token this long before it expires. Default 60 s. */
	tokenRenewMarginMs?: number;
	/** Parallel single GETs when fetching categories by id (their listing has no `ids`). Default 8. */
	concurrency?: number;
	/** Answers larger than this fail as `too_large`. Default 64 MB. */
	maxResponseBytes?: number;
	/** Records nested deeper are handed out as a placeholder that validation refuses. Default 64 levels. */
	maxRecordDepth?: number;
	/** iteratePages halves the page size after a failed page down to this size. Default 50. */
	minPageSize?: number;
	/** For deterministic jitter in tests; returns [0, 1). */
	random?: () => number;
	userAgent?: string;
}

export interface StClientStats {
	/** HTTP attempts against the API (retries included, token requests excluded). */
	requests: number;
	tokenRequests: number;
	retries: number;
}
