import type { StConfig } from '../lib/servicetitan/types';
import type { SimCounts, SimEntity, SimRecord, TenantPresetName } from './data';
import type { SimSnapshot } from './snapshot';

/** Behaviours of the real API that are undocumented or unreliable, as switches. */
export interface SimQuirks {
	/** `id`: stable id order; `shuffled`: a stable but meaningless order (and `sort` ignored); `modifiedOn`: oldest change first. */
	order: 'id' | 'shuffled' | 'modifiedOn';
	/**
	 * true: every page is computed from the data as it is at that moment, so changes during a listing shift rows
	 * between pages (skips and repeats). false: pages come from the ordering taken at page 1.
	 */
	pageDrift: boolean;
	/** DELETE removes the record (hard) or only deactivates it. */
	deleteMode: 'hard' | 'deactivate';
	/** How a 429 says when to come back. */
	retryAfter: 'seconds' | 'date' | 'none';
	retryAfterSeconds: number;
	/** Category listings nest children in `subcategories` (true) or list every category flat (false). */
	categoriesNested: boolean;
	/** Writes reach the export feed this late unless `includeRecentChanges=true` (ST: about 15 minutes). */
	exportDelayMs: number;
	/** Records per export page. */
	exportBatchSize: number;
	/**
	 * Categories carry `createdOn` and `modifiedOn` in listings and in GET, POST and PATCH answers (roots and nested
	 * children), and the categories listing honours its modified and created filters. A live tenant sends neither
	 * timestamp (false, the default), so its filters cannot be relied on: the simulator then ignores them and answers
	 * with the whole tree. The export feed (`/export/categories`) carries both timestamps either way.
	 */
	categoryTimestamps: boolean;
	/**
	 * Fractional digits of the timestamps ST hands out: `live` 3 to 7 (trailing zeros dropped, as a live tenant
	 * sends them), `any` 0 to 7. Read when the tenant is generated (pass it in `SimulatorOptions.quirks`) and at
	 * every later change.
	 */
	timestampDigits: 'live' | 'any';
	/**
	 * Services carry `useStaticPrices: null` and `calculatedPrice: null`, as every service of a live tenant does
	 * (fields the OpenAPI document of March 2026 lacks; the contract check accepts them explicitly).
	 */
	serviceNullPricing: boolean;
	/**
	 * The generated tenant holds literal `"Null"` strings as values (some category descriptions, some material
	 * units of measure), as a live tenant does: data, not null. Read when the tenant is generated only.
	 */
	nullStrings: boolean;
	/**
	 * What ST does with a PATCH beyond storing it as sent (all off by default): normalizing values, dropping or
	 * refusing fields, another user's edit landing meanwhile, a late answer. See SimPatchBehaviour.
	 * `setQuirks({ patch })` replaces the whole object.
	 */
	patch: SimPatchBehaviour;
	/**
	 * What ST answers when the tenant in the path is not the one the access token was issued for (a wrong tenant
	 * id): not documented, so a switch. `not_found` (default): its own RFC 7807 404, as for any path it does not
	 * serve; `unauthorized`: 401, as for a wrong app key; `forbidden`: 403, as for an app the tenant has not
	 * connected. A wrong app key is 401 in every case (documented), checked first.
	 */
	unknownTenant: 'not_found' | 'unauthorized' | 'forbidden';
}

/**
 * Which PATCHes a switch applies to. `entities`: these entity types only (default all). `fields`: these fields only
 * (default: every field the switch can apply to); a field is named as sent (`cost`, `variationMaterials`) and may be
 * qualified by its entity type (`services.cost`).
 */
export interface SimPatchScope {
	entities?: SimEntity[];
	fields?: string[];
}

/** Another ST user's edit, landing while our PATCH is under way. */
export interface SimConcurrentEdit {
	/** The PATCHes it lands on: of this entity type (default any) and id (default any). */
	entity?: SimEntity;
	id?: number;
	/** Fields as ST stores them (as `control.updateItem` takes them), e.g. `{ name: 'Changed in ST' }`. */
	changes: Record<string, unknown>;
	/** How many matching PATCHes it lands on (default 1), each as a separate modification. */
	times?: number;
}

/**
 * What ST is reported to do with a PATCH (see servicetitan-api.md, "Reported by practitioners"). Every switch is
 * off unless set. Applied in this order: another user's edit lands (`concurrentEdit`); the body is validated, and
 * `refuseFields` add their errors to the 400 (nothing is stored); ignored fields are dropped; the rest is
 * normalized (`stripHtml`, then `trimText`, then `emptyAsNull`; `roundMoney`) and stored, `modifiedOn` advancing as
 * for every PATCH. The answer shows what was stored (ignored fields echoed as sent with `ignoreFields.echo`), late
 * by `delayMs`. Applies to PATCH only: POST and the control interface store values as given.
 */
export interface SimPatchBehaviour {
	/**
	 * Money (`price`, `memberPrice`, `addOnPrice`, `addOnMemberPrice`, `cost`) stored rounded half away from zero
	 * to `decimals` (default 2).
	 */
	roundMoney?: SimPatchScope & { decimals?: number };
	/** Top-level text fields stored trimmed, runs of whitespace inside collapsed to one space. */
	trimText?: SimPatchScope;
	/**
	 * Top-level text fields' HTML stored normalized. `normalize` (default): tag names lower-cased and void elements
	 * (`br`, `hr`, `img`, ...) closed as `<br/>`, the form a live tenant's descriptions hold (`<BR>`, `<br>` and
	 * `<br />` become `<br/>`). `strip`: tags removed and the entities `&amp; &lt; &gt; &quot; &#39; &nbsp;` decoded.
	 */
	stripHtml?: SimPatchScope & { mode?: 'normalize' | 'strip' };
	/** `''` stored as null in nullable top-level text fields (required ones answer 400 for `''` anyway). */
	emptyAsNull?: SimPatchScope;
	/**
	 * Fields answered 200 but not stored (their values are still validated). The answer shows the stored (old)
	 * value, or with `echo` the value sent, as ST is reported to do at worst; a later GET shows the stored value.
	 */
	ignoreFields?: { fields: string[]; entities?: SimEntity[]; echo?: boolean };
	/** Fields refused: 400 with `errors: { field: [message] }`, nothing stored. */
	refuseFields?: { fields: string[]; entities?: SimEntity[]; message?: string };
	/** Edits by other ST users, each taken by the next matching PATCH (before it is applied) until spent. */
	concurrentEdit?: SimConcurrentEdit[];
	/**
	 * PATCH answers sent this late, ms (all entity types, or per type); the change is stored when the request
	 * arrives, so a client that gives up first loses the answer of an applied PATCH.
	 */
	delayMs?: number | Partial<Record<SimEntity, number>>;
}

export const DEFAULT_QUIRKS: SimQuirks = {
	order: 'id',
	pageDrift: true,
	deleteMode: 'hard',
	retryAfter: 'seconds',
	retryAfterSeconds: 1,
	categoriesNested: true,
	exportDelayMs: 15 * 60_000,
	exportBatchSize: 500,
	categoryTimestamps: false,
	timestampDigits: 'live',
	serviceNullPricing: true,
	nullStrings: true,
	patch: {},
	unknownTenant: 'not_found',
};

export type FaultAction =
	| { kind: 'status'; status: number }
	| { kind: 'timeout' }
	| { kind: 'reset' }
	| { kind: 'malformed' }
	/** The request is carried out, but the 2xx answer has no body (ST's bulk PATCH does this; reported for PATCH). */
	| { kind: 'empty_success'; status?: 200 | 204 }
	/** 404 with an HTML page, as a gateway in front of the API (or a wrong base URL) answers: not ST's own 404. */
	| { kind: 'gateway_404' }
	/** The answer with one record (the first of a page, or the item) holding a value nested `depth` levels deep. */
	| { kind: 'deep_record'; depth: number }
	/** The answer padded (with JSON whitespace) to at least `bytes`. */
	| { kind: 'oversized'; bytes: number };

export interface FaultMatch {
	/** `api` (default) or `token`. */
	target?: 'api' | 'token';
	method?: string;
	/** Substring of the path below `/pricebook/v2/tenant/{tenant}`, e.g. `/materials`. */
	path?: string;
}

export interface ScriptedFault {
	action: FaultAction;
	match?: FaultMatch;
	/** How many matching requests it hits (default 1). */
	times?: number;
}

/** Injected failures; random ones are drawn from a PRNG seeded with `seed`, so a run can be repeated exactly. */
export interface SimFaults {
	seed?: number;
	/** Added to every API answer, ms. */
	latencyMs?: number;
	/** Share (0..1) of API requests answered with `errorStatus`. */
	errorRate?: number;
	errorStatus?: number;
	timeoutRate?: number;
	resetRate?: number;
	malformedRate?: number;
	/** 429 for API requests beyond `budget` within `windowMs` (default 1000) of real time. */
	rateLimit?: { budget: number; windowMs?: number };
	/** Failures for the next matching requests, in order. */
	next?: ScriptedFault[];
	/**
	 * Page `page` of the next listing of `entity` fails (every attempt, retries included) until a new listing of
	 * that entity starts at page 1: a listing that cannot be read to the end.
	 */
	failListingPage?: { entity: SimEntity; page: number; action?: FaultAction };
	/**
	 * Where a 429 names its wait (`quirks.retryAfterSeconds`): `header` (default: as `quirks.retryAfter` says),
	 * `title` (only in the JSON body's title, "Rate limit is exceeded. Try again in N seconds.", no Retry-After)
	 * or `text` (only in a plain-text body).
	 */
	rateLimitWaitIn?: 'header' | 'title' | 'text';
	/** false: an app without write scope; PATCH, POST and DELETE answer 403, reads work. */
	writeScope?: boolean;
	/** Every successful PATCH answers this status with no body (the change is made). */
	patchEmptyBody?: 200 | 204;
	/** A gateway's HTML 404 for every API request (true), or for those whose path contains `path`. */
	gateway404?: boolean | { path: string };
	/** Listings asking for more than `pageSize` items fail with `action` (default: no answer, a timeout). */
	failPageSizeAbove?: { pageSize: number; entity?: SimEntity; action?: FaultAction };
}

export interface SimRequestLogEntry {
	seq: number;
	method: string;
	/** Full path, e.g. /pricebook/v2/tenant/1234/materials. */
	path: string;
	query: Record<string, string>;
	body?: unknown;
	status?: number;
	fault?: FaultAction['kind'] | 'rate_limit' | 'latency';
	target: 'api' | 'token' | 'admin' | 'other';
}

/** One request and the answer the simulator sent (for contract checks). */
export interface SimExchange {
	method: string;
	path: string;
	/** A parameter sent more than once shows as an array. */
	query: Record<string, string | string[]>;
	requestBody?: unknown;
	userAgent?: string;
	status: number;
	responseBody?: unknown;
	/** Set when the answer was a deliberate fault: its body is not expected to follow the document. */
	fault?: SimRequestLogEntry['fault'];
	target: 'api' | 'token';
}

export interface SimStats {
	total: number;
	api: number;
	token: number;
	tokensIssued: number;
	admin: number;
	byStatus: Record<string, number>;
	/** `GET /materials`, `PATCH /materials/{id}`, ... */
	byRoute: Record<string, number>;
	faults: number;
	/**
	 * The most API requests that arrived within any one second (a sliding window): what ServiceTitan's limit of 60
	 * per second per app and tenant is judged on, whoever sent them.
	 */
	busiestSecond: number;
}

export interface SimulatorOptions {
	port?: number;
	host?: string;
	seed?: number;
	/**
	 * The generated tenant's size and shape (see TENANT_PRESETS in data.ts): `small` (default, 40 categories,
	 * 500 materials, 100 equipment, 200 services) or `perfect-catch` (a live tenant's size: 12 root categories
	 * holding about 1,150 descendants up to 6 levels deep, 2,161 services, 205 equipment, 5,000 materials).
	 * `counts` overrides the preset's counts.
	 */
	tenant?: TenantPresetName;
	counts?: Partial<SimCounts>;
	tenantId?: string;
	clientId?: string;
	clientSecret?: string;
	appKey?: string;
	/** ST's clock in ms (default Date.now); `control.advanceClock` moves it further. */
	now?: () => number;
	quirks?: Partial<SimQuirks>;
	faults?: SimFaults;
	/** Token lifetime, seconds (ST: 900). */
	tokenLifetimeS?: number;
	onExchange?: (exchange: SimExchange) => void;
	/** Keep request bodies in the log (default true). */
	logBodies?: boolean;
	/**
	 * Serve this saved tenant (`SimulatorHandle.snapshot()`) instead of generating one: its records, counters, clock
	 * offset, quirks and credentials. `seed`, `tenant` and `counts` are then ignored; other options still apply.
	 */
	restore?: SimSnapshot;
}

export interface SimControl {
	getItem(entity: SimEntity, id: number): SimRecord | undefined;
	/** Change fields "as an ST user would" (stored shape, e.g. a service's categories as ids); bumps modifiedOn. */
	updateItem(entity: SimEntity, id: number, patch: Record<string, unknown>, options?: { modifiedOn?: string }): SimRecord;
	deactivate(entity: SimEntity, id: number): SimRecord;
	/** Deletes according to `quirks.deleteMode`. */
	deleteItem(entity: SimEntity, id: number): void;
	createItem(entity: SimEntity, fields: Record<string, unknown>): SimRecord;
	listIds(entity: SimEntity, options?: { includeInactive?: boolean }): number[];
	advanceClock(ms: number): void;
	/**
	 * Steps ServiceTitan's clock by `ms` (ahead, or back when negative) as a server whose clock is corrected does:
	 * stamps written afterwards follow the clock even when that is before stamps already handed out, and the
	 * `Date` header of every answer reads it. A jump ahead and back: stepClock(+3 h), an edit, stepClock(-3 h).
	 * (advanceClock keeps stamps increasing, as time passing does.)
	 */
	stepClock(ms: number): void;
	now(): number;
	setFaults(faults: SimFaults): void;
	/** Adds scripted faults behind those already queued. */
	failNext(fault: ScriptedFault): void;
	clearFaults(): void;
	setQuirks(quirks: Partial<SimQuirks>): void;
	quirks(): SimQuirks;
	/** Makes every issued token invalid (the next API call gets 401). */
	revokeTokens(): void;
	/** Every token handed out so far (for tests that check no secret leaks). */
	issuedTokens(): string[];
	requestCounts(): SimStats;
	readonly requests: readonly SimRequestLogEntry[];
	resetStats(): void;
}

export interface SimulatorHandle {
	url: string;
	tokenUrl: string;
	apiBaseUrl: string;
	tenantId: string;
	clientId: string;
	clientSecret: string;
	appKey: string;
	/** The client settings that point a ServiceTitanClient at this simulator (as a sandbox tenant). */
	stConfig(): StConfig;
	control: SimControl;
	/** The tenant as it is now, as plain JSON (a copy): what `restore` takes to serve it again later. */
	snapshot(): SimSnapshot;
	stop(): Promise<void>;
}
