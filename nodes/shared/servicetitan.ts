import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { createHash } from 'node:crypto';
import { budgetedStClient, validateStConfig, type Db, type ServiceTitanClient, type StConfig } from '../../lib';

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
		// Credentials saved before this field existed have none: the budget's default applies.
		...(credential.requestsPerSecond !== undefined && credential.requestsPerSecond !== ''
			? { requestsPerSecond: Number(credential.requestsPerSecond) }
			: {}),
	};
	validateStConfig(config);
	return config;
}

// One client per credential and pricebook database per process: it only caches the access token (ServiceTitan
// throttles token requests), never sync state, so queue-mode workers each keep their own and nothing depends on it.
// Its requests draw on the budget the database keeps for the app and tenant, shared with every other worker and the CLI.
const clients = new Map<string, { client: ServiceTitanClient; db: Db }>();

export function stClientFromCredential(credential: ICredentialDataDecryptedObject, db: Db): ServiceTitanClient {
	const config = stConfigFromCredential(credential);
	const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
	let entry = clients.get(key);
	if (!entry || entry.db !== db) {
		entry?.client.close();
		entry = { client: budgetedStClient(db, config, { userAgent: 'n8n-nodes-perfectcatch-pricebook' }), db };
		clients.set(key, entry);
	}
	return entry.client;
}

/** Releases the cached clients' keep-alive sockets (process shutdown, tests). */
export function closeServiceTitanClients(): void {
	for (const { client } of clients.values()) client.close();
	clients.clear();
}
