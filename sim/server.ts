import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { minFractionDigits, SimClock } from './clock';
import { generateSeedData, SIM_ENTITIES, TENANT_PRESETS, type SimEntity } from './data';
import { FaultInjector, type FaultDecision } from './faults';
import { patchDelayMs } from './patch-behaviour';
import { createRng, hash32, randomHex, type Rng } from './random';
import { contentsOf, SNAPSHOT_FORMAT, snapshotContents, type SimSnapshot } from './snapshot';
import { problem, SimState, type SimResult } from './state';
import {
	DEFAULT_QUIRKS,
	type ScriptedFault,
	type SimControl,
	type SimExchange,
	type SimQuirks,
	type SimRequestLogEntry,
	type SimStats,
	type SimulatorHandle,
	type SimulatorOptions,
} from './types';

const API_PREFIX = '/pricebook/v2/tenant/';
const MAX_BODY_BYTES = 20 * 1024 * 1024;

interface Incoming {
	method: string;
	url: URL;
	body: unknown;
	rawBody: string;
	headers: http.IncomingHttpHeaders;
}

interface Outgoing {
	status: number;
	body?: unknown;
	/** Sent as is instead of JSON (undocumented error bodies, malformed answers). */
	text?: string;
	contentType?: string;
	headers?: Record<string, string>;
}

const isEntity = (value: string): value is SimEntity => (SIM_ENTITIES as readonly string[]).includes(value);

/**
 * A stand-in for ServiceTitan's pricebook v2 API on node:http: OAuth token endpoint, the four entity types
 * (list, get, create, patch, delete, export), quirks and injected faults, plus admin routes under /__sim/.
 */
class Simulator {
	readonly clock: SimClock;
	readonly state: SimState;
	readonly faults: FaultInjector;
	private quirkValues: SimQuirks;
	private readonly rng: Rng;
	private readonly tokens = new Map<string, number>();
	private readonly everIssued: string[] = [];
	private readonly log: SimRequestLogEntry[] = [];
	private stats: SimStats = emptyStats();
	/** Arrival times (ms, monotonic) of the API requests of the last second, for stats.busiestSecond. */
	private lastSecond: number[] = [];
	private seq = 0;
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly seed: number;
	readonly tenantId: string;
	readonly clientId: string;
	readonly clientSecret: string;
	readonly appKey: string;
	readonly control: SimControl;

	constructor(private readonly options: SimulatorOptions) {
		const restore = options.restore;
		const seed = restore?.seed ?? options.seed ?? 1;
		this.seed = seed;
		// A restored tenant's later random choices (stamps' precision, error ids) must not replay those made
		// before it was saved: they start from a seed that differs at every save.
		this.rng = createRng(restore ? hash32(seed, restore.savedAt) : seed);
		this.clock = new SimClock(options.now);
		if (restore) this.clock.advance(restore.clockOffsetMs);
		this.quirkValues = { ...DEFAULT_QUIRKS, ...restore?.quirks, ...options.quirks };
		const preset = TENANT_PRESETS[options.tenant ?? 'small'];
		if (!preset) throw new Error(`simulator: no tenant preset ${String(options.tenant)}`);
		const contents = restore
			? contentsOf(restore)
			: generateSeedData(this.rng, { ...preset.counts, ...options.counts }, this.clock.now(), {
					rootCategories: preset.rootCategories,
					maxCategoryDepth: preset.maxCategoryDepth,
					minDigits: minFractionDigits(this.quirkValues.timestampDigits),
					nullStrings: this.quirkValues.nullStrings,
				});
		this.state = new SimState(
			this.rng,
			this.clock,
			() => this.quirkValues,
			(quirks) => this.control.setQuirks(quirks),
			contents,
		);
		this.faults = new FaultInjector(options.faults);
		const secrets = createRng(seed ^ 0x5eed);
		this.tenantId = options.tenantId ?? restore?.tenantId ?? '1234567';
		this.clientId = options.clientId ?? restore?.clientId ?? `cid.sim${seed}.${randomHex(secrets, 6)}`;
		this.clientSecret = options.clientSecret ?? restore?.clientSecret ?? `cs1.${randomHex(secrets, 24)}`;
		this.appKey = options.appKey ?? restore?.appKey ?? `ak1.${randomHex(secrets, 16)}`;
		this.control = this.buildControl();
	}

	private buildControl(): SimControl {
		const log = this.log;
		return {
			getItem: (entity, id) => this.state.record(entity, id),
			updateItem: (entity, id, patch, options) => this.state.updateRaw(entity, id, patch, options?.modifiedOn),
			deactivate: (entity, id) => this.state.deactivate(entity, id),
			deleteItem: (entity, id) => this.state.deleteRecord(entity, id),
			createItem: (entity, fields) => this.state.createRaw(entity, fields),
			listIds: (entity, options) => this.state.ids(entity, options?.includeInactive ?? true),
			advanceClock: (ms) => this.clock.advance(ms),
			stepClock: (ms) => {
				this.clock.advance(ms);
				this.state.followClock();
			},
			now: () => this.clock.now(),
			setFaults: (faults) => this.faults.set(faults),
			failNext: (fault) => this.faults.add(fault),
			clearFaults: () => this.faults.set({}),
			setQuirks: (quirks) => {
				this.quirkValues = { ...this.quirkValues, ...quirks };
			},
			quirks: () => ({ ...this.quirkValues }),
			revokeTokens: () => this.tokens.clear(),
			issuedTokens: () => [...this.everIssued],
			requestCounts: () => structuredClone(this.stats),
			get requests(): readonly SimRequestLogEntry[] {
				return log;
			},
			resetStats: () => {
				log.length = 0;
				this.stats = emptyStats();
				this.lastSecond = [];
			},
		};
	}

	/** See SimulatorHandle.snapshot. */
	snapshot(): SimSnapshot {
		return structuredClone({
			format: SNAPSHOT_FORMAT,
			version: 1,
			savedAt: new Date().toISOString(),
			seed: this.seed,
			tenantId: this.tenantId,
			clientId: this.clientId,
			clientSecret: this.clientSecret,
			appKey: this.appKey,
			clockOffsetMs: this.clock.offset(),
			quirks: this.quirkValues,
			...snapshotContents(this.state.contents()),
		});
	}

	async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://sim.local');
		const rawBody = await readBody(req);
		const incoming: Incoming = { method: (req.method ?? 'GET').toUpperCase(), url, rawBody, body: undefined, headers: req.headers };
		const target = url.pathname.startsWith('/__sim/')
			? 'admin'
			: url.pathname === '/connect/token'
				? 'token'
				: url.pathname.startsWith(API_PREFIX)
					? 'api'
					: 'other';
		const entry: SimRequestLogEntry = {
			seq: ++this.seq,
			method: incoming.method,
			path: url.pathname,
			query: Object.fromEntries(url.searchParams.entries()),
			target,
		};
		if (rawBody && target !== 'token') {
			try {
				incoming.body = JSON.parse(rawBody);
			} catch {
				// Left undefined: the API answers 400 for a body that is not JSON.
			}
			// Token requests carry the client secret: never kept.
			if (this.options.logBodies ?? true) entry.body = incoming.body ?? rawBody.slice(0, 1000);
		}
		this.log.push(entry);
		this.stats.total += 1;
		if (target === 'admin') {
			this.stats.admin += 1;
			this.send(res, entry, this.admin(incoming));
			return;
		}
		if (target === 'other') {
			this.send(res, entry, { status: 404, text: 'Not Found', contentType: 'text/plain' });
			return;
		}
		if (target === 'token') this.stats.token += 1;
		else {
			this.stats.api += 1;
			this.countArrival();
		}

		const apiPath = target === 'api' ? this.apiSubPath(url.pathname) : undefined;
		const route = apiPath !== undefined ? parseRoute(apiPath) : undefined;
		if (route) {
			const key = `${incoming.method} ${route.template}`;
			this.stats.byRoute[key] = (this.stats.byRoute[key] ?? 0) + 1;
		}
		const latency = target === 'api' ? this.faults.latencyMs() : 0;
		if (latency > 0) await this.delay(latency);

		const decision: FaultDecision = this.faults.decide({
			target,
			method: incoming.method,
			path: apiPath ?? url.pathname,
			...(route?.kind === 'list' && incoming.method === 'GET'
				? {
						listing: {
							entity: route.entity,
							page: Number(url.searchParams.get('page') ?? '1') || 1,
							pageSize: Number(url.searchParams.get('pageSize') ?? '50') || 50,
						},
					}
				: {}),
		});
		if (decision) {
			this.stats.faults += 1;
			entry.fault = decision.kind;
			if (decision.kind === 'timeout') {
				this.exchange(incoming, entry, 0, undefined, target);
				return; // no answer at all; the socket stays open until the client gives up or the server stops
			}
			if (decision.kind === 'reset') {
				this.exchange(incoming, entry, 0, undefined, target);
				req.socket.destroy();
				return;
			}
			if (decision.kind === 'rate_limit' || (decision.kind === 'status' && decision.status === 429)) {
				this.send(res, entry, this.tooManyRequests(), incoming, target);
				return;
			}
			if (decision.kind === 'status') {
				this.send(res, entry, errorPage(decision.status), incoming, target);
				return;
			}
			if (decision.kind === 'gateway_404') {
				this.send(res, entry, errorPage(404), incoming, target);
				return;
			}
		}

		const answer = target === 'token' ? this.token(incoming) : this.api(incoming, apiPath);
		if (decision?.kind === 'malformed') {
			const text = answer.text ?? JSON.stringify(answer.body ?? {});
			this.send(
				res,
				entry,
				{ status: answer.status === 204 ? 200 : answer.status, text: text.slice(0, Math.max(1, Math.floor(text.length / 2))) },
				incoming,
				target,
			);
			return;
		}
		const altered = decision ? alteredAnswer(decision, answer) : undefined;
		// A late PATCH answer: the change is already stored (quirks.patch.delayMs).
		const late = route?.kind === 'item' && incoming.method === 'PATCH' ? patchDelayMs(this.quirkValues.patch ?? {}, route.entity) : 0;
		if (late > 0) await this.delay(late);
		this.send(res, entry, altered ?? answer, incoming, target);
	}

	private apiSubPath(pathname: string): string | undefined {
		const rest = pathname.slice(API_PREFIX.length);
		const slash = rest.indexOf('/');
		const tenant = slash < 0 ? rest : rest.slice(0, slash);
		if (tenant !== this.tenantId) return undefined;
		return slash < 0 ? '' : rest.slice(slash);
	}

	private tooManyRequests(): Outgoing {
		const q = this.quirkValues;
		const waitIn = this.faults.rateLimitWaitIn();
		// Azure API Management's words, which ServiceTitan's gateway is reported to send.
		const saying = `Rate limit is exceeded. Try again in ${q.retryAfterSeconds} seconds.`;
		if (waitIn === 'title') return { status: 429, body: problem(429, saying, this.rng).body };
		if (waitIn === 'text') return { status: 429, text: saying, contentType: 'text/plain' };
		const headers: Record<string, string> = {};
		if (q.retryAfter === 'seconds') headers['Retry-After'] = String(q.retryAfterSeconds);
		if (q.retryAfter === 'date') headers['Retry-After'] = new Date(Date.now() + q.retryAfterSeconds * 1000).toUTCString();
		const body = problem(429, 'Too many requests', this.rng).body;
		return { status: 429, body, headers };
	}

	private token(incoming: Incoming): Outgoing {
		if (incoming.method !== 'POST') return { status: 405, body: { error: 'invalid_request' } };
		const form = new URLSearchParams(incoming.rawBody);
		const type = String(incoming.headers['content-type'] ?? '');
		if (!type.includes('application/x-www-form-urlencoded')) {
			return { status: 400, body: { error: 'invalid_request', error_description: 'form body expected' } };
		}
		if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
		if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
			return { status: 400, body: { error: 'invalid_client' } };
		}
		const lifetime = this.options.tokenLifetimeS ?? 900;
		const token = `eyJ${randomBytes(24).toString('base64url')}`;
		this.tokens.set(token, this.clock.now() + lifetime * 1000);
		this.everIssued.push(token);
		this.stats.tokensIssued += 1;
		return { status: 200, body: { access_token: token, expires_in: lifetime, token_type: 'Bearer', scope: 'tn.pricebook' } };
	}

	private authorized(incoming: Incoming): boolean {
		const appKey = incoming.headers['st-app-key'] ?? incoming.url.searchParams.get('servicetitanapplicationkey');
		if (appKey !== this.appKey) return false;
		const auth = String(incoming.headers.authorization ?? '').trim();
		// ST's own example sends the bare token; both forms are accepted.
		const token = /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : auth;
		const expiresAt = this.tokens.get(token);
		if (expiresAt === undefined) return false;
		if (expiresAt <= this.clock.now()) {
			this.tokens.delete(token);
			return false;
		}
		return true;
	}

	/** `apiPath` is undefined when the path names another tenant than this one. */
	private api(incoming: Incoming, apiPath: string | undefined): Outgoing {
		if (!this.authorized(incoming)) return this.unauthorized();
		if (apiPath === undefined) return this.unknownTenant();
		const route = parseRoute(apiPath);
		if (!route) return fromResult(problem(404, 'Not Found', this.rng));
		const { method, url } = incoming;
		if (incoming.rawBody && incoming.body === undefined && (method === 'POST' || method === 'PATCH')) {
			return fromResult(problem(400, 'One or more validation errors occurred.', this.rng, { $: ['The request body is not valid JSON.'] }));
		}
		switch (route.kind) {
			case 'list':
				if (method === 'GET') return fromResult(this.state.list(route.entity, url.searchParams));
				if (method === 'POST') return fromResult(this.state.create(route.entity, incoming.body));
				break;
			case 'item':
				if (method === 'GET') return fromResult(this.state.getOne(route.entity, route.id));
				if (method === 'PATCH') return fromResult(this.state.patch(route.entity, route.id, incoming.body));
				if (method === 'DELETE') return fromResult(this.state.remove(route.entity, route.id));
				break;
			case 'export':
				if (method === 'GET') return fromResult(this.state.exportFeed(route.entity, url.searchParams));
				break;
		}
		return { status: 405, text: '', contentType: 'text/plain' };
	}

	private unauthorized(): Outgoing {
		return { ...fromResult(problem(401, 'Unauthorized', this.rng)), headers: { 'WWW-Authenticate': 'Bearer' } };
	}

	/** A valid token and app key, but for another tenant than the path names (quirks.unknownTenant). */
	private unknownTenant(): Outgoing {
		const answer = this.quirkValues.unknownTenant;
		if (answer === 'unauthorized') return this.unauthorized();
		if (answer === 'forbidden') return fromResult(problem(403, 'Forbidden', this.rng));
		return fromResult(problem(404, 'Not Found', this.rng));
	}

	private countArrival(): void {
		const now = performance.now();
		this.lastSecond.push(now);
		while (this.lastSecond[0] <= now - 1000) this.lastSecond.shift();
		this.stats.busiestSecond = Math.max(this.stats.busiestSecond, this.lastSecond.length);
	}

	private admin(incoming: Incoming): Outgoing {
		const { method, url, body } = incoming;
		const parts = url.pathname.split('/').filter(Boolean).slice(1); // after "__sim"
		const ok = (value: unknown): Outgoing => ({ status: 200, body: value });
		const obj = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
		try {
			const [head, a, b, c] = parts;
			if (head === 'health' && method === 'GET') return ok({ ok: true, now: new Date(this.clock.now()).toISOString() });
			if (head === 'stats' && method === 'GET') return ok(this.control.requestCounts());
			if (head === 'stats' && a === 'reset' && method === 'POST') {
				this.control.resetStats();
				return ok({ ok: true });
			}
			if (head === 'requests' && method === 'GET') return ok(this.log);
			if (head === 'faults' && method === 'PUT') {
				this.control.setFaults(obj(body));
				return ok({ ok: true });
			}
			if (head === 'faults' && a === 'next' && method === 'POST') {
				this.control.failNext(obj(body) as unknown as ScriptedFault);
				return ok({ ok: true });
			}
			if (head === 'faults' && method === 'DELETE') {
				this.control.clearFaults();
				return ok({ ok: true });
			}
			if (head === 'quirks' && method === 'GET') return ok(this.control.quirks());
			if (head === 'quirks' && method === 'PUT') {
				this.control.setQuirks(obj(body));
				return ok(this.control.quirks());
			}
			if (head === 'clock' && method === 'GET') return ok({ now: this.clock.now() });
			if (head === 'clock' && method === 'POST') {
				this.control.advanceClock(Number(obj(body).advanceMs));
				return ok({ now: this.clock.now() });
			}
			if (head === 'tokens' && a === 'revoke' && method === 'POST') {
				this.control.revokeTokens();
				return ok({ ok: true });
			}
			if (head === 'items' && a && isEntity(a)) {
				const id = b === undefined ? undefined : Number(b);
				if (id === undefined && method === 'GET') return ok(this.control.listIds(a));
				if (id === undefined && method === 'POST') return ok(this.control.createItem(a, obj(body)));
				if (id !== undefined && Number.isSafeInteger(id)) {
					if (c === 'deactivate' && method === 'POST') return ok(this.control.deactivate(a, id));
					if (c === undefined && method === 'GET') {
						const item = this.control.getItem(a, id);
						return item ? ok(item) : { status: 404, body: { error: 'not found' } };
					}
					if (c === undefined && method === 'PATCH') return ok(this.control.updateItem(a, id, obj(body)));
					if (c === undefined && method === 'DELETE') {
						this.control.deleteItem(a, id);
						return { status: 204 };
					}
				}
			}
			return { status: 404, body: { error: `no admin route ${method} ${url.pathname}` } };
		} catch (error: unknown) {
			return { status: 400, body: { error: error instanceof Error ? error.message : String(error) } };
		}
	}

	private send(res: http.ServerResponse, entry: SimRequestLogEntry, out: Outgoing, incoming?: Incoming, target?: 'api' | 'token' | 'admin' | 'other'): void {
		entry.status = out.status;
		this.stats.byStatus[out.status] = (this.stats.byStatus[out.status] ?? 0) + 1;
		const text = out.text ?? (out.body === undefined ? '' : JSON.stringify(out.body));
		// ServiceTitan's notion of now, as any HTTP server sends it (second precision): the sync bounds its cursor by it.
		const headers: Record<string, string | number> = { Date: new Date(this.clock.now()).toUTCString(), ...out.headers };
		if (out.status !== 204) headers['Content-Type'] = out.contentType ?? 'application/json; charset=utf-8';
		headers['Content-Length'] = Buffer.byteLength(text);
		if (!res.destroyed) {
			res.writeHead(out.status, headers);
			res.end(text);
		}
		if (incoming && (target === 'api' || target === 'token')) {
			this.exchange(incoming, entry, out.status, out.text === undefined ? out.body : undefined, target);
		}
	}

	private exchange(incoming: Incoming, entry: SimRequestLogEntry, status: number, responseBody: unknown, target: 'api' | 'token' | 'admin' | 'other'): void {
		const hook = this.options.onExchange;
		if (!hook || (target !== 'api' && target !== 'token')) return;
		const exchange: SimExchange = {
			method: incoming.method,
			path: incoming.url.pathname,
			query: queryOf(incoming.url.searchParams),
			status,
			target,
			...(incoming.body !== undefined ? { requestBody: incoming.body } : {}),
			...(typeof incoming.headers['user-agent'] === 'string' ? { userAgent: incoming.headers['user-agent'] } : {}),
			...(responseBody !== undefined ? { responseBody } : {}),
			...(entry.fault ? { fault: entry.fault } : {}),
		};
		hook(exchange);
	}

	private delay(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.add(timer);
		});
	}

	clearTimers(): void {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
	}
}

type Route =
	| { kind: 'list'; entity: SimEntity; template: string }
	| { kind: 'item'; entity: SimEntity; id: number; template: string }
	| { kind: 'export'; entity: SimEntity; template: string };

function parseRoute(apiPath: string): Route | undefined {
	const parts = apiPath.split('/').filter(Boolean);
	if (parts.length === 1 && isEntity(parts[0])) return { kind: 'list', entity: parts[0], template: `/${parts[0]}` };
	if (parts.length === 2 && parts[0] === 'export' && isEntity(parts[1])) {
		return { kind: 'export', entity: parts[1], template: `/export/${parts[1]}` };
	}
	if (parts.length === 2 && isEntity(parts[0]) && /^\d+$/.test(parts[1])) {
		return { kind: 'item', entity: parts[0], id: Number(parts[1]), template: `/${parts[0]}/{id}` };
	}
	return undefined;
}

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const key of new Set(params.keys())) {
		const values = params.getAll(key);
		out[key] = values.length > 1 ? values : values[0];
	}
	return out;
}

function fromResult(result: SimResult): Outgoing {
	return { status: result.status, ...(result.body !== undefined ? { body: result.body } : {}) };
}

/**
 * A successful answer changed by a fault that does not replace it: no body, one record nested absurdly deep,
 * or padding. Undefined for an answer the fault leaves alone (a failed request, another kind of fault).
 */
function alteredAnswer(decision: NonNullable<FaultDecision>, answer: Outgoing): Outgoing | undefined {
	if (answer.status < 200 || answer.status >= 300) return undefined;
	if (decision.kind === 'empty_success') return { status: decision.status ?? 204, text: '' };
	if (decision.kind === 'oversized') {
		const text = answer.text ?? JSON.stringify(answer.body ?? {});
		return { ...answer, text: text + ' '.repeat(Math.max(0, decision.bytes - Buffer.byteLength(text))) };
	}
	if (decision.kind === 'deep_record') {
		const body = answer.body as { data?: unknown[] } | undefined;
		const target = Array.isArray(body?.data) ? body.data[0] : body;
		if (typeof target !== 'object' || target === null) return undefined;
		// Built as text: JSON.stringify (here, or in anyone's logging) would overflow the stack on such a value.
		const mark = `"__deep_${Date.now()}__"`;
		const deep = { ...(target as Record<string, unknown>), deepValue: JSON.parse(mark) as string };
		const shaped = Array.isArray(body?.data) ? { ...body, data: [deep, ...body.data.slice(1)] } : deep;
		const depth = Math.max(1, decision.depth);
		return { status: answer.status, text: JSON.stringify(shaped).replace(mark, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) };
	}
	return undefined;
}

/** 5xx bodies are undocumented: a gateway page, as a load balancer would send, so clients cannot expect JSON. */
function errorPage(status: number): Outgoing {
	const text = `<html><head><title>${status}</title></head><body><h1>${status} ${http.STATUS_CODES[status] ?? 'Error'}</h1></body></html>`;
	return { status, text, contentType: 'text/html' };
}

function emptyStats(): SimStats {
	return { total: 0, api: 0, token: 0, tokensIssued: 0, admin: 0, byStatus: {}, byRoute: {}, faults: 0, busiestSecond: 0 };
}

function readBody(req: http.IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				reject(new Error('request body too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

/** Starts the simulator on 127.0.0.1 (port 0 = a free port). Always `stop()` it: tests must not leave it running. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
	const sim = new Simulator(options);
	const server = http.createServer((req, res) => {
		sim.handle(req, res).catch((error: unknown) => {
			if (!res.headersSent && !res.destroyed) {
				res.writeHead(500, { 'Content-Type': 'text/plain' });
				res.end(`simulator error: ${error instanceof Error ? error.message : String(error)}`);
			}
		});
	});
	const host = options.host ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
	let stopped: Promise<void> | undefined;
	return {
		url,
		tokenUrl: `${url}/connect/token`,
		apiBaseUrl: url,
		tenantId: sim.tenantId,
		clientId: sim.clientId,
		clientSecret: sim.clientSecret,
		appKey: sim.appKey,
		stConfig: () => ({
			clientId: sim.clientId,
			clientSecret: sim.clientSecret,
			appKey: sim.appKey,
			tenantId: sim.tenantId,
			environment: 'integration',
			authUrl: `${url}/connect/token`,
			apiBaseUrl: url,
		}),
		control: sim.control,
		snapshot: () => sim.snapshot(),
		stop: () => {
			stopped ??= new Promise<void>((resolve) => {
				sim.clearTimers();
				server.close(() => resolve());
				// Keep-alive sockets and requests held open by the timeout fault would keep close() waiting.
				server.closeAllConnections();
			});
			return stopped;
		},
	};
}
