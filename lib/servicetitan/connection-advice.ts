import { ConfigError } from './config';
import { isStApiError, type StApiError, type StSetting } from './errors';
import { TOKEN_CALL_PATH } from './token-endpoint';

/** How the caller names each setting: the n8n credential's field labels, or the CLI's environment variables. */
export type SettingLabels = Readonly<Record<StSetting, string>>;

const SETTINGS: readonly StSetting[] = ['clientId', 'clientSecret', 'appKey', 'tenantId', 'environment', 'authUrl', 'apiBaseUrl'];

/**
 * What a failed connection test (a token, then one pricebook read) means, in one message that names the
 * settings to check in the caller's words. Pure: the credential test and the CLI hand in their own labels.
 */
export function connectionTestAdvice(error: unknown, labels: SettingLabels): string {
	if (error instanceof ConfigError) return configAdvice(error, labels);
	if (!isStApiError(error)) return `The connection test failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
	const name = (setting: StSetting) => labels[setting];
	const atToken = error.path === TOKEN_CALL_PATH;
	const status = error.status !== undefined ? ` (${error.status})` : '';
	switch (error.kind) {
		case 'auth':
			if (atToken) {
				return (
					`ServiceTitan refused ${name('clientId')} and ${name('clientSecret')}${status}. Check both, and ${name('environment')}: ` +
					'they are issued for one environment (production or integration) and one tenant.'
				);
			}
			return (
				`ServiceTitan accepted ${name('clientId')} and ${name('clientSecret')} but refused the pricebook request${status}. ` +
				`Check ${name('appKey')}; if it is right, check that ${name('tenantId')} is the tenant that issued this ${name('clientId')}.`
			);
		case 'forbidden':
			return (
				`ServiceTitan refused to let this app read the pricebook${status}. Check ${name('tenantId')}: that tenant must have ` +
				`connected the app of this ${name('appKey')}, with read access to the pricebook (the app's scopes).`
			);
		case 'misrouted':
			if (atToken) {
				return `The token URL answered 404. Check ${name('environment')}, and ${name('authUrl')} (leave it empty for ServiceTitan itself).`;
			}
			if (error.settings?.[0] === 'tenantId') {
				return (
					`ServiceTitan's pricebook API does not know this tenant (404). Check ${name('tenantId')}, and ${name('environment')}: ` +
					'a tenant exists in production or in integration, not both.'
				);
			}
			return (
				`The request did not reach ServiceTitan's pricebook API (404, not its own answer). Check ${name('apiBaseUrl')} ` +
				`(leave it empty for ServiceTitan itself), ${name('environment')} and ${name('tenantId')}.`
			);
		case 'network':
		case 'timeout':
			return atToken
				? `Cannot reach the token URL: ${error.message}. Check ${name('environment')} and ${name('authUrl')}.`
				: `Cannot reach the pricebook API: ${error.message}. Check ${name('environment')} and ${name('apiBaseUrl')}.`;
		default:
			return `${error.message}. ${unsettled(error)}`;
	}
}

/** A failure that names no setting (ServiceTitan busy or failing, an odd answer): the credential may be fine. */
function unsettled(error: StApiError): string {
	return error.retryable ? 'This is probably temporary: test again in a few minutes.' : 'The settings may be right: look at the message above.';
}

/** ConfigError problems start with the setting's key ("tenantId must be ..."): named in the caller's words. */
function configAdvice(error: ConfigError, labels: SettingLabels): string {
	const problems = error.problems.map((problem) => {
		const key = SETTINGS.find((s) => problem.startsWith(`${s} `));
		return key ? `${labels[key]}${problem.slice(key.length)}` : problem;
	});
	return `Fix: ${problems.join('; ')}.`;
}
