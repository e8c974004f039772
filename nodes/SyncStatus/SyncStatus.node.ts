import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { getSyncStatus, listConflicts } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { database } from '../shared/context';
import { perItem } from '../shared/items';
import { answering, respondAsProperty } from '../shared/respond';

/** The sync status for Retool's dashboard: health light, counts per entity type, recent errors, open conflicts. */
export class SyncStatus implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Pricebook Sync Status',
		name: 'syncStatus',
		icon: { light: 'file:syncStatus.svg', dark: 'file:syncStatus.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Sync status',
		description: 'Read the pricebook sync status: green/yellow/red, last and next runs, counts and recent errors',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Pricebook Sync Status' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' }],
		properties: [
			{
				displayName: 'Include Open Conflicts',
				name: 'includeConflicts',
				type: 'boolean',
				default: true,
				description: 'Whether to add the open conflicts with their side-by-side diff',
			},
			respondAsProperty,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const db = await database(this);
		return perItem(this, 1, async (i) => {
			const json = await answering(this.getNodeParameter('respondAs', i) as string, async () => {
				const status = { ...(await getSyncStatus(db)) } as unknown as IDataObject;
				if (this.getNodeParameter('includeConflicts', i)) status.conflicts = (await listConflicts(db)) as unknown as IDataObject[];
				return { answer: { statusCode: 200, body: status }, items: status };
			});
			return [{ output: 0, json }];
		});
	}
}
