import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { fetchedReport, fetchStagedPage } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

/** Reads one page from ServiceTitan, validates it once and stages it in PostgreSQL; only the run reference and counts travel on. */
export class StFetchPage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ST Fetch Page',
		name: 'stFetchPage',
		icon: { light: 'file:stFetchPage.svg', dark: 'file:stFetchPage.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Fetch one ServiceTitan page',
		description: 'Fetch the next page of a sync run from ServiceTitan and stage it in the pricebook database',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'ST Fetch Page' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Takes the run reference from Start Sync Run or Sync Next Page (runId, entityType, kind, page)',
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
			return [{ output: 0, json: fetchedReport(await fetchStagedPage(await deps(), readRunRef(item.json))) }];
		});
	}
}
