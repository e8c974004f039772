import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * A vendor portal's download secret, sent as one request header with the feed download. The package's own type
 * because n8n's lint forbids a community node reusing n8n's Header Auth credential.
 */
export class VendorFeedApi implements ICredentialType {
	name = 'vendorFeedApi';

	displayName = 'Vendor Price Feed';

	icon = 'file:vendorFeedApi.svg' as const;

	documentationUrl = 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#credentials-to-create';

	properties: INodeProperties[] = [
		{
			displayName: 'Header Name',
			name: 'headerName',
			type: 'string',
			default: 'Authorization',
			description: 'The request header the vendor portal expects',
		},
		{
			displayName: 'Header Value',
			name: 'headerValue',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The secret, e.g. "Bearer" and a token, or an API key',
		},
		{
			displayName: 'Test URL',
			name: 'testUrl',
			type: 'string',
			default: '',
			placeholder: 'https://vendor.example.com/prices.csv',
			description: 'A feed URL the Test button downloads with this header (the nodes take their own feed URL)',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { '={{$credentials.headerName}}': '={{$credentials.headerValue}}' } },
	};

	test: ICredentialTestRequest = {
		request: { url: '={{$credentials.testUrl}}', method: 'GET' },
	};
}
