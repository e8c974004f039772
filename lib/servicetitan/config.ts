import type { StConfig, StEnvironment } from './types';

export const ST_ENVIRONMENTS: Readonly<Record<StEnvironment, { authUrl: string; apiBaseUrl: string }>> = Object.freeze({
	production: {
		authUrl: 'https://auth.servicetitan.io/connect/token',
		apiBaseUrl: 'https://api.servicetitan.io',
	},
	integration: {
		authUrl: 'https://auth-integration.servicetitan.io/connect/token',
		apiBaseUrl: 'https://api-integration.servicetitan.io',
	},
});

export class ConfigError extends Error {
	constructor(
		message: string,
		/** Names of the settings (or environment variables) that are missing or invalid. */
		readonly problems: readonly string[],
	) {
		super(message);
		this.name = 'ConfigError';
	}
}

export interface ResolvedStUrls {
	authUrl: string;
	/** Up to and including `/pricebook/v2/tenant/{tenant}`. */
	pricebookBaseUrl: string;
}

function isHttpUrl(value: string): boolean {
	try {
		const u = new URL(value);
		return u.protocol === 'http:' || u.protocol === 'https:';
	} catch {
		return false;
	}
}

/** ServiceTitan's documented limit: requests per second per app and tenant, shared by everything using the app. */
export const ST_REQUESTS_PER_SECOND_LIMIT = 60;

/** Checks a config (from any source: env, n8n credentials, tests) and names every problem at once. */
export function validateStConfig(config: StConfig): void {
	const problems: string[] = [];
	for (const key of ['clientId', 'clientSecret', 'appKey'] as const) {
		if (typeof config[key] !== 'string' || config[key].trim() === '') problems.push(`${key} is missing`);
	}
	if (!/^\d{1,19}$/.test(String(config.tenantId ?? ''))) problems.push('tenantId must be the numeric ServiceTitan tenant id');
	if (!(config.environment in ST_ENVIRONMENTS)) problems.push(`environment must be "production" or "integration"`);
	if (config.authUrl !== undefined && !isHttpUrl(config.authUrl)) problems.push('authUrl must be an http(s) URL');
	if (config.apiBaseUrl !== undefined && !isHttpUrl(config.apiBaseUrl)) problems.push('apiBaseUrl must be an http(s) URL');
	const rate = config.requestsPerSecond;
	if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && rate <= ST_REQUESTS_PER_SECOND_LIMIT))
		problems.push(`requestsPerSecond must be a number above 0 and at most ServiceTitan's limit of ${ST_REQUESTS_PER_SECOND_LIMIT}`);
	if (problems.length > 0) {
		throw new ConfigError(`Invalid ServiceTitan configuration: ${problems.join('; ')}`, problems);
	}
}

export function resolveStUrls(config: StConfig): ResolvedStUrls {
	const env = ST_ENVIRONMENTS[config.environment];
	const apiBase = (config.apiBaseUrl ?? env.apiBaseUrl).replace(/\/+$/, '');
	return {
		authUrl: config.authUrl ?? env.authUrl,
		pricebookBaseUrl: `${apiBase}/pricebook/v2/tenant/${encodeURIComponent(config.tenantId)}`,
	};
}

/**
 * Reads ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY, ST_TENANT_ID, ST_ENV (production | integration; default
 * production), ST_AUTH_URL and ST_API_BASE_URL (optional overrides) and ST_REQUESTS_PER_SECOND (the shared request
 * budget's rate, default 55, at most 60). The error names every missing or invalid
 * variable, never a value.
 */
export function stConfigFromEnv(env: Record<string, string | undefined> = process.env): StConfig {
	const problems: string[] = [];
	const read = (name: string): string | undefined => {
		const value = env[name]?.trim();
		return value ? value : undefined;
	};
	const required = (name: string): string => {
		const value = read(name);
		if (value === undefined) problems.push(`${name} is missing`);
		return value ?? '';
	};
	const url = (name: string): string | undefined => {
		const value = read(name);
		if (value !== undefined && !isHttpUrl(value)) problems.push(`${name} must be an http(s) URL`);
		return value;
	};

	const clientId = required('ST_CLIENT_ID');
	const clientSecret = required('ST_CLIENT_SECRET');
	const appKey = required('ST_APP_KEY');
	const tenantId = required('ST_TENANT_ID');
	if (tenantId !== '' && !/^\d{1,19}$/.test(tenantId)) problems.push('ST_TENANT_ID must be a number');
	const environment = (read('ST_ENV') ?? 'production').toLowerCase();
	if (environment !== 'production' && environment !== 'integration') {
		problems.push('ST_ENV must be "production" or "integration"');
	}
	const authUrl = url('ST_AUTH_URL');
	const apiBaseUrl = url('ST_API_BASE_URL');
	const rateText = read('ST_REQUESTS_PER_SECOND');
	const requestsPerSecond = rateText === undefined ? undefined : Number(rateText);
	if (requestsPerSecond !== undefined && !(requestsPerSecond > 0 && requestsPerSecond <= ST_REQUESTS_PER_SECOND_LIMIT))
		problems.push(`ST_REQUESTS_PER_SECOND must be a number above 0 and at most ${ST_REQUESTS_PER_SECOND_LIMIT} (ServiceTitan's limit per app and tenant)`);

	if (problems.length > 0) {
		throw new ConfigError(`ServiceTitan settings are incomplete: ${problems.join('; ')}`, problems);
	}
	return {
		clientId,
		clientSecret,
		appKey,
		tenantId,
		environment: environment as StEnvironment,
		...(authUrl ? { authUrl } : {}),
		...(apiBaseUrl ? { apiBaseUrl } : {}),
		...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
	};
}
