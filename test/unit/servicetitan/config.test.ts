import { ConfigError, resolveStUrls, stConfigFromEnv, validateStConfig } from '../../../lib/servicetitan/config';

const complete = {
	ST_CLIENT_ID: 'cid.abc',
	ST_CLIENT_SECRET: 'cs1.secret-value',
	ST_APP_KEY: 'ak1.app-key-value',
	ST_TENANT_ID: '1234567',
};

describe('stConfigFromEnv', () => {
	it('reads a complete environment, production by default', () => {
		const config = stConfigFromEnv(complete);
		expect(config).toEqual({
			clientId: 'cid.abc',
			clientSecret: 'cs1.secret-value',
			appKey: 'ak1.app-key-value',
			tenantId: '1234567',
			environment: 'production',
		});
		expect(resolveStUrls(config)).toEqual({
			authUrl: 'https://auth.servicetitan.io/connect/token',
			pricebookBaseUrl: 'https://api.servicetitan.io/pricebook/v2/tenant/1234567',
		});
	});

	it('sets the integration URLs from ST_ENV and honours explicit overrides', () => {
		const integration = stConfigFromEnv({ ...complete, ST_ENV: 'integration' });
		expect(resolveStUrls(integration)).toEqual({
			authUrl: 'https://auth-integration.servicetitan.io/connect/token',
			pricebookBaseUrl: 'https://api-integration.servicetitan.io/pricebook/v2/tenant/1234567',
		});
		const local = stConfigFromEnv({ ...complete, ST_AUTH_URL: 'http://127.0.0.1:4010/connect/token', ST_API_BASE_URL: 'http://127.0.0.1:4010/' });
		expect(resolveStUrls(local)).toEqual({
			authUrl: 'http://127.0.0.1:4010/connect/token',
			pricebookBaseUrl: 'http://127.0.0.1:4010/pricebook/v2/tenant/1234567',
		});
	});

	it('names every missing or invalid variable at once, never a value', () => {
		let error: unknown;
		try {
			stConfigFromEnv({ ST_CLIENT_SECRET: 'cs1.secret-value', ST_TENANT_ID: 'acme', ST_ENV: 'staging', ST_AUTH_URL: 'not a url' });
		} catch (e: unknown) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigError);
		const message = (error as ConfigError).message;
		for (const name of ['ST_CLIENT_ID', 'ST_APP_KEY', 'ST_TENANT_ID', 'ST_ENV', 'ST_AUTH_URL']) expect(message).toContain(name);
		expect(message).not.toContain('ST_CLIENT_SECRET');
		expect(message).not.toContain('cs1.secret-value');
		expect((error as ConfigError).problems).toHaveLength(5);
	});

	it('treats blank values as missing', () => {
		expect(() => stConfigFromEnv({ ...complete, ST_APP_KEY: '   ' })).toThrow(/ST_APP_KEY is missing/);
	});
});

describe('validateStConfig', () => {
	it('refuses an incomplete config object', () => {
		expect(() => validateStConfig({ clientId: '', clientSecret: 'x', appKey: 'y', tenantId: '12a', environment: 'prod' as never })).toThrow(
			/clientId is missing; tenantId must be the numeric ServiceTitan tenant id; environment must be/,
		);
	});
});
