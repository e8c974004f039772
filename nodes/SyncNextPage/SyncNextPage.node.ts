import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { SyncValidationError } from '../../lib';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

// A guard against a loop that never ends (ServiceTitan answering hasMore forever): 5,000 pages of 5,000 items.
const MAX_PAGES = 5000;

/** The page loop: runs with more pages go back to ST Fetch Page with the next page number; the others are done. */
export class SyncNextPage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Sync Next Page',
		name: 'syncNextPage',
		icon: { light: 'file:syncNextPage.svg', dark: 'file:syncNextPage.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'More pages or done',
		description: 'Route a sync run to its next page, or on to Finish Sync Run when ServiceTitan has no more',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Sync Next Page' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['More Pages', 'Done'],
		properties: [
			{
				displayName: 'Reads hasMore from ST Fetch Page (passed along by the nodes in between)',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return perItem(this, 2, async (_i, item) => {
			const ref = readRunRef(item.json);
			if (typeof item.json.hasMore !== 'boolean')
				throw new SyncValidationError('hasMore', 'the item has no hasMore flag: connect this node after ST Fetch Page');
			if (!item.json.hasMore) return [{ output: 1, json: { ...ref } }];
			if (ref.page >= MAX_PAGES)
				throw new SyncValidationError('page', `run ${ref.runId} reached ${MAX_PAGES} pages; ServiceTitan keeps answering hasMore, stopping`);
			return [{ output: 0, json: { ...ref, page: ref.page + 1 } }];
		});
	}
}
