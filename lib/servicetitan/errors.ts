export type StErrorKind =
	| 'network'
	| 'timeout'
	| 'rate_limit'
	| 'auth'
	/** 403: the ServiceTitan app lacks the permission (scope) for the call, e.g. write access for a PATCH. */
	| 'forbidden'
	| 'validation'
	/** ServiceTitan's own 404 for an item path: the item is gone (or never existed). */
	| 'not_found'
	/** A 404 that did not come from the pricebook API (gateway page, wrong base URL or tenant): a setting is wrong. */
	| 'misrouted'
	| 'server'
	| 'malformed_response'
	/** An answer over the client's size limit (maxResponseBytes). */
	| 'too_large';

/** A ServiceTitan setting (StConfig key) a failure points at; callers name it in their own words (n8n field, env var). */
export type StSetting = 'clientId' | 'clientSecret' | 'appKey' | 'tenantId' | 'environment' | 'authUrl' | 'apiBaseUrl';

export interface StApiErrorInit {
	kind: StErrorKind;
	status?: number;
	errors?: Record<string, string[]>;
	retryable: boolean;
	method?: string;
	/** Path and query below the API base; never holds a secret. */
	path?: string;
	traceId?: string;
	attempts?: number;
	/** Transport error code such as ECONNRESET (network and timeout kinds). */
	code?: string;
	/** The settings that are probably wrong, most likely first (only where the answer points at them). */
	settings?: readonly StSetting[];
}

/**
 * The only error the client throws for a failed call. It holds plain data only (no request config, headers or
 * response object), so logging or serializing it can never leak a token, client secret or app key.
 */
export class StApiError extends Error {
	readonly kind: StErrorKind;
	readonly status?: number;
	/** ST's validation messages, field → messages (400 bodies). */
	readonly errors?: Record<string, string[]>;
	/** Whether trying again later may succeed (the client has already retried what it may). */
	readonly retryable: boolean;
	readonly method?: string;
	readonly path?: string;
	readonly traceId?: string;
	readonly attempts?: number;
	readonly code?: string;
	readonly settings?: readonly StSetting[];

	constructor(message: string, init: StApiErrorInit) {
		super(message);
		this.name = 'StApiError';
		this.kind = init.kind;
		this.retryable = init.retryable;
		if (init.status !== undefined) this.status = init.status;
		if (init.errors !== undefined) this.errors = init.errors;
		if (init.method !== undefined) this.method = init.method;
		if (init.path !== undefined) this.path = init.path;
		if (init.traceId !== undefined) this.traceId = init.traceId;
		if (init.attempts !== undefined) this.attempts = init.attempts;
		if (init.code !== undefined) this.code = init.code;
		if (init.settings !== undefined) this.settings = init.settings;
	}

	toJSON(): Record<string, unknown> {
		return {
			name: this.name,
			message: this.message,
			kind: this.kind,
			status: this.status,
			errors: this.errors,
			retryable: this.retryable,
			method: this.method,
			path: this.path,
			traceId: this.traceId,
			attempts: this.attempts,
			code: this.code,
			settings: this.settings,
		};
	}
}

/** The same error with some of its fields changed. */
export function copyStApiError(error: StApiError, changes: Partial<StApiErrorInit> & { message?: string }): StApiError {
	const { message, ...init } = changes;
	return new StApiError(message ?? error.message, {
		kind: error.kind,
		retryable: error.retryable,
		...(error.status !== undefined ? { status: error.status } : {}),
		...(error.errors !== undefined ? { errors: error.errors } : {}),
		...(error.method !== undefined ? { method: error.method } : {}),
		...(error.path !== undefined ? { path: error.path } : {}),
		...(error.traceId !== undefined ? { traceId: error.traceId } : {}),
		...(error.attempts !== undefined ? { attempts: error.attempts } : {}),
		...(error.code !== undefined ? { code: error.code } : {}),
		...(error.settings !== undefined ? { settings: error.settings } : {}),
		...init,
	});
}

export function isStApiError(value: unknown): value is StApiError {
	return value instanceof StApiError;
}

export function kindForStatus(status: number): StErrorKind {
	if (status === 401) return 'auth';
	if (status === 403) return 'forbidden';
	if (status === 404) return 'not_found';
	if (status === 429) return 'rate_limit';
	if (status >= 500) return 'server';
	return 'validation';
}

/** Replaces every known secret in `text`; applied to anything taken from a response or a transport error. */
export class Redactor {
	private readonly secrets = new Set<string>();

	add(secret: string | undefined): void {
		// Very short values would redact ordinary words; real secrets are long.
		if (secret && secret.length >= 4) this.secrets.add(secret);
	}

	redact(text: string): string {
		let out = text;
		for (const secret of this.secrets) {
			if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
		}
		return out;
	}
}

/** Any error from below the client as an StApiError for the call `call` ({method, path}). */
export function asStApiError(error: unknown, call: { method: string; path: string }): StApiError {
	if (error instanceof StApiError) return error;
	// Not expected (the transport converts everything), but an unknown error object must not escape as is.
	return new StApiError(`ServiceTitan ${call.method} ${call.path} failed unexpectedly`, {
		kind: 'network',
		retryable: true,
		method: call.method,
		path: call.path,
	});
}
