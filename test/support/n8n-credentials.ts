import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import type { SyncHarness } from './sync-harness';

/** The two credentials of the package, filled for a harness's database and simulator. */
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
	};
}
