import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * ServiceTitan app credentials (OAuth client credentials). The nodes use the package's own client (token cache,
 * retries, rate limit), so this credential only holds the values; its test is run by the nodes (testedBy).
 */
export class ServiceTitanApi implements ICredentialType {
	name = 'serviceTitanApi';

	displayName = 'ServiceTitan API';

	icon = 'file:serviceTitanApi.svg' as const;

	documentationUrl = 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#credentials-to-create';

	properties: INodeProperties[] = [
		{ displayName: 'Client ID', name: 'clientId', type: 'string', default: '', required: true },
		{ displayName: 'Client Secret', name: 'clientSecret', type: 'string', typeOptions: { password: true }, default: '', required: true },
		{
			displayName: 'App Key',
			name: 'appKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'Sent as the ST-App-Key header with every call',
		},
		{ displayName: 'Tenant ID', name: 'tenantId', type: 'string', default: '', required: true, placeholder: '1234567890' },
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: [
				{ name: 'Production', value: 'production' },
				{ name: 'Integration (Sandbox)', value: 'integration' },
			],
			default: 'production',
		},
		{
			displayName: 'Token URL Override',
			name: 'authUrl',
			type: 'string',
			default: '',
			description: "Full token URL. Leave empty to use the environment's (only set it for a simulator or a proxy).",
		},
		{
			displayName: 'API Base URL Override',
			name: 'apiBaseUrl',
			type: 'string',
			default: '',
			description: "Scheme and host of the API, e.g. http://127.0.0.1:4010. Leave empty to use the environment's.",
		},
		{
			displayName: 'Requests Per Second',
			name: 'requestsPerSecond',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 60 },
			default: 55,
			description:
				'The rate every n8n worker and the command line together keep to for this app and tenant (ServiceTitan allows 60). Set the same value wherever this tenant is synced.',
		},
	];
}
