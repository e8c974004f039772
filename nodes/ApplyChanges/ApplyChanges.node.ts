import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { appliedReport, applyStagedPage } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

/** Carries out a staged page's plan except its conflicts (run-lifecycle applyItems, phase 'changes'); edits of items not on any page are pushed by Finish Sync Run. */
export class ApplyChanges implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Apply Changes',
		name: 'applyChanges',
		icon: { light: 'file:applyChanges.svg', dark: 'file:applyChanges.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Apply non-conflicting changes',
		description: 'Carry out the plan of a staged page, except conflicts: create, update and soft-delete local rows, push local edits of items on the page',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Apply Changes' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Runs once per page: running it again for the same page applies and counts nothing twice',
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
			return [{ output: 0, json: appliedReport(await applyStagedPage(await deps(), readRunRef(item.json), 'changes')) }];
		});
	}
}
