import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { createHash } from 'node:crypto';
import { ServiceTitanClient, validateStConfig, type StConfig } from '../../lib';

export function stConfigFromCredential(credential: ICredentialDataDecryptedObject): StConfig {
	const text = (key: string) => (typeof credential[key] === 'string' ? (credential[key] as string).trim() : String(credential[key] ?? '').trim());
	const config: StConfig = {
		clientId: text('clientId'),
		clientSecret: text('clientSecret'),
		appKey: text('appKey'),
		tenantId: text('tenantId'),
		environment: text('environment') === 'integration' ? 'integration' : 'production',
		...(text('authUrl') ? { authUrl: text('authUrl') } : {}),
		...(text('apiBaseUrl') ? { apiBaseUrl: text('apiBaseUrl') } : {}),
	};
	validateStConfig(config);
	return config;
}

// One client per credential per process: it only caches the access token (ServiceTitan throttles token
// requests), never sync state, so queue-mode workers each keep their own and nothing depends on it.
const clients = new Map<string, ServiceTitanClient>();

export function stClientFromCredential(credential: ICredentialDataDecryptedObject): ServiceTitanClient {
	const config = stConfigFromCredential(credential);
	const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
	let client = clients.get(key);
	if (!client) {
		client = new ServiceTitanClient(config, { userAgent: 'n8n-nodes-perfectcatch-pricebook' });
		clients.set(key, client);
	}
	return client;
}

/** Releases the cached clients' keep-alive sockets (process shutdown, tests). */
export function closeServiceTitanClients(): void {
	for (const client of clients.values()) client.close();
	clients.clear();
}
