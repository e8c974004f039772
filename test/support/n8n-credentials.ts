import { randomBytes } from 'node:crypto';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import type { SyncHarness } from './sync-harness';

/** The webhooks' key (n8n's Header Auth credential), fresh per test process so a test cannot depend on its value. */
export const WEBHOOK_KEY_HEADER = 'X-Pricebook-Key';
export const WEBHOOK_KEY = `pbkey-${randomBytes(16).toString('hex')}`;

/** The two credentials of the package, filled for a harness's database and simulator, and the webhooks' key. */
export function credentialsFor(h: SyncHarness): Record<string, ICredentialDataDecryptedObject> {
	return {
		pricebookDatabase: { connectionString: h.t.url, ssl: 'disable' },
		serviceTitanApi: {
			clientId: h.sim.clientId,
			clientSecret: h.sim.clientSecret,
			appKey: h.sim.appKey,
			tenantId: h.sim.tenantId,
			environment: 'integration',
			authUrl: h.sim.tokenUrl,
			apiBaseUrl: h.sim.apiBaseUrl,
		},
		httpHeaderAuth: { name: WEBHOOK_KEY_HEADER, value: WEBHOOK_KEY },
	};
}
