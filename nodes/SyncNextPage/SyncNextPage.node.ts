import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { nextPageStep } from '../../lib';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

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
				displayName: 'Reads hasMore from the step before it (every step from ST Fetch Page to Store Conflicts outputs it)',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return perItem(this, 2, async (_i, item) => {
			const { more, report } = nextPageStep(readRunRef(item.json), item.json.hasMore);
			return [{ output: more ? 0 : 1, json: report }];
		});
	}
}
