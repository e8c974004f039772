import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The pricebook PostgreSQL database. The package has its own credential type because n8n's lint forbids
 * reusing n8n's built-in Postgres credential from a community package.
 */
export class PricebookDatabase implements ICredentialType {
	name = 'pricebookDatabase';

	displayName = 'Pricebook Database (PostgreSQL)';

	icon = 'file:pricebookDatabase.svg' as const;

	documentationUrl = 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#credentials-to-create';

	properties: INodeProperties[] = [
		{
			displayName: 'Connection String',
			name: 'connectionString',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'postgres://user:password@host:5432/pricebook',
			description: 'Optional. When set, it is used instead of the fields below.',
		},
		{ displayName: 'Host', name: 'host', type: 'string', default: 'localhost' },
		{ displayName: 'Port', name: 'port', type: 'number', default: 5432 },
		{ displayName: 'Database', name: 'database', type: 'string', default: 'pricebook' },
		{ displayName: 'User', name: 'user', type: 'string', default: 'postgres' },
		{ displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '' },
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Disable', value: 'disable' },
				{ name: 'Require', value: 'require' },
				{ name: 'Require (Allow Self-Signed Certificates)', value: 'allowUnauthorized' },
			],
			default: 'disable',
		},
	];
}
