import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { connectDb, migrate } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { DATABASE_CREDENTIAL, dbConfigFromCredential } from '../shared/database';

/** Creates or updates the pricebook schema. Every other node also migrates on first use; this one says so. */
export class PricebookSetup implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Pricebook Setup',
		name: 'pricebookSetup',
		icon: { light: 'file:pricebookSetup.svg', dark: 'file:pricebookSetup.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Migrate schema',
		description: 'Create or update the pricebook sync schema in PostgreSQL',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Pricebook Setup' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' }],
		properties: [
			{
				displayName: 'Applies the versioned migrations once; safe to run again and from several workers at once',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const credential = await this.getCredentials(DATABASE_CREDENTIAL);
		try {
			const result = await migrate(connectDb(dbConfigFromCredential(credential)));
			return [[{ json: { applied: result.applied, current: result.current }, pairedItem: { item: 0 } }]];
		} catch (error) {
			if (this.continueOnFail()) {
				return [[{ json: { error: (error as Error).message }, pairedItem: { item: 0 } }]];
			}
			throw new NodeOperationError(this.getNode(), error as Error, { description: 'Check the Pricebook Database credential' });
		}
	}
}
