import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { failureOfRun, finishedReport, finishStagedRun } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { readRunRef } from '../shared/run-ref';

/** Ends a run: deletes what a complete full listing lacked, or pushes pending edits; records the outcome. */
export class FinishSyncRun implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Finish Sync Run',
		name: 'finishSyncRun',
		icon: { light: 'file:finishSyncRun.svg', dark: 'file:finishSyncRun.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Finish and record the run',
		description:
			'Finish a sync run: full runs soft-delete what ServiceTitan no longer lists; incremental runs push local edits of items no page listed; then cursor, ledger, lease',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Finish Sync Run' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Outputs the run summary (the same object as pricebook-sync --json prints per entity type), with a one-line message',
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
			const result = await finishStagedRun(await deps(), readRunRef(item.json));
			// A run that ended failed (the sweep's ServiceTitan calls, the mass-delete guard) is recorded as such; the
			// node fails too, so the execution does not show green over it.
			const failure = failureOfRun(result);
			if (failure) throw failure;
			return [{ output: 0, json: { ...finishedReport(result) } }];
		});
	}
}
