import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { categorizedReport, categorizeStagedPage } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

/** The three-way comparison of a staged page, made once: the plan is kept in the stage, counts per category go on; no pricebook row is written. */
export class CategorizeChanges implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Categorize Changes',
		name: 'categorizeChanges',
		icon: { light: 'file:categorizeChanges.svg', dark: 'file:categorizeChanges.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Compare ServiceTitan, local and base',
		description:
			'Decide each item of a staged page once (newInST, deletedInST, modifiedInSTOnly, modifiedLocalOnly, conflicts, noChange) and keep the plan for Apply Changes and Store Conflicts',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Categorize Changes' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName:
					'Reports the categories of the page; Apply Changes and Store Conflicts decide again at write time, so an edit made in between is never overwritten',
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
			return [{ output: 0, json: categorizedReport(await categorizeStagedPage(await deps(), readRunRef(item.json))) }];
		});
	}
}
