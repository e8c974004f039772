import { connectionTestAdvice, type SettingLabels } from '../../../lib/servicetitan/connection-advice';
import { ConfigError } from '../../../lib/servicetitan/config';
import { StApiError } from '../../../lib/servicetitan/errors';
import { TOKEN_CALL_PATH } from '../../../lib/servicetitan/token-endpoint';

/** The CLI's words for the settings: the advice names whatever labels the caller hands in. */
const ENV_NAMES: SettingLabels = {
	clientId: 'ST_CLIENT_ID',
	clientSecret: 'ST_CLIENT_SECRET',
	appKey: 'ST_APP_KEY',
	tenantId: 'ST_TENANT_ID',
	environment: 'ST_ENV',
	authUrl: 'ST_AUTH_URL',
	apiBaseUrl: 'ST_API_BASE_URL',
};

const listing = { method: 'GET', path: '/categories?page=1&pageSize=1&active=Any' };

describe('connectionTestAdvice', () => {
	it("names the settings in the caller's words", () => {
		const appKey = new StApiError('x', { kind: 'auth', status: 401, retryable: false, ...listing, settings: ['appKey', 'tenantId'] });
		expect(connectionTestAdvice(appKey, ENV_NAMES)).toMatch(
			/Check ST_APP_KEY; if it is right, check that ST_TENANT_ID is the tenant that issued this ST_CLIENT_ID\.$/,
		);
		const secret = new StApiError('x', { kind: 'auth', status: 400, retryable: false, method: 'POST', path: TOKEN_CALL_PATH });
		expect(connectionTestAdvice(secret, ENV_NAMES)).toMatch(/^ServiceTitan refused ST_CLIENT_ID and ST_CLIENT_SECRET \(400\)\. Check both, and ST_ENV/);
	});

	it('tells a tenant ServiceTitan does not know from a request that never reached the pricebook API', () => {
		const tenant = new StApiError('x', { kind: 'misrouted', status: 404, retryable: false, ...listing, settings: ['tenantId', 'environment'] });
		expect(connectionTestAdvice(tenant, ENV_NAMES)).toMatch(/does not know this tenant \(404\)\. Check ST_TENANT_ID, and ST_ENV/);
		const base = new StApiError('x', { kind: 'misrouted', status: 404, retryable: false, ...listing, settings: ['apiBaseUrl', 'environment', 'tenantId'] });
		expect(connectionTestAdvice(base, ENV_NAMES)).toMatch(/did not reach ServiceTitan's pricebook API .* Check ST_API_BASE_URL/);
	});

	it('a host it cannot reach: the URL settings of that host', () => {
		const refused = (path: string) =>
			new StApiError(`ServiceTitan GET ${path} failed: connect ECONNREFUSED`, { kind: 'network', retryable: true, method: 'GET', path });
		expect(connectionTestAdvice(refused(TOKEN_CALL_PATH), ENV_NAMES)).toMatch(
			/^Cannot reach the token URL: .*ECONNREFUSED\. Check ST_ENV and ST_AUTH_URL\.$/,
		);
		expect(connectionTestAdvice(refused(listing.path), ENV_NAMES)).toMatch(/^Cannot reach the pricebook API: .*Check ST_ENV and ST_API_BASE_URL\.$/);
	});

	it('a failure that is no setting problem says so: temporary, or look at the message', () => {
		const busy = new StApiError('ServiceTitan GET /categories answered 503', { kind: 'server', status: 503, retryable: true, ...listing });
		expect(connectionTestAdvice(busy, ENV_NAMES)).toBe(
			'ServiceTitan GET /categories answered 503. This is probably temporary: test again in a few minutes.',
		);
		expect(connectionTestAdvice(new Error('boom'), ENV_NAMES)).toBe('The connection test failed unexpectedly: boom');
	});

	it('configuration problems name each setting', () => {
		const error = new ConfigError('Invalid', ['clientSecret is missing', 'apiBaseUrl must be an http(s) URL']);
		expect(connectionTestAdvice(error, ENV_NAMES)).toBe('Fix: ST_CLIENT_SECRET is missing; ST_API_BASE_URL must be an http(s) URL.');
	});
});
