import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { applyStagedPage, storedConflictsReport } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

/** Records the conflicts of one staged page (one open conflict per item; nothing overwritten on either side) and lists them for the person looking at the execution. */
export class StoreConflicts implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Store Conflicts',
		name: 'storeConflicts',
		icon: { light: 'file:storeConflicts.svg', dark: 'file:storeConflicts.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Store conflicts for review',
		description: 'Store the conflicts of a staged page for a person to resolve (refreshing open ones)',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Store Conflicts' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Runs once per page: running it again for the same page stores and counts nothing twice',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const deps = lazyRunDeps(this);
		return perItem(this, 1, async (_i, item) => {
			return [{ output: 0, json: storedConflictsReport(await applyStagedPage(await deps(), readRunRef(item.json), 'conflicts')) }];
		});
	}
}
