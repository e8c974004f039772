import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { describeFailedRuns, errorMessage, failStagedRuns } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { executionKey, ledgerDeps } from '../shared/context';
import { whatToDo } from '../shared/errors';
import { failureOfItem, type ItemFailure } from '../shared/failure-items';

/**
 * Where a failure ends: on the error outputs of the sync steps (and after Respond to Webhook in the webhook
 * flows). It records the failure as the cause of its run, closes every other run this execution still holds
 * (lib/sync/staged-failure.ts), then fails itself with that error, so n8n shows the execution failed. Items
 * without a failure pass through.
 */
export class FailSyncRun implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Fail Sync Run',
		name: 'failSyncRun',
		icon: { light: 'file:failSyncRun.svg', dark: 'file:failSyncRun.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'Record the failure, stop the execution',
		description:
			"Connect the sync steps' error outputs here: records the failure as its run's cause, releases the leases of the execution's runs, and stops the execution as failed",
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Fail Sync Run' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' }],
		properties: [
			{
				displayName:
					'Takes the items of a step\'s error output (set the step\'s Settings → On Error to "Continue (using error output)"), or a webhook answer after Respond to Webhook; items that carry no failure pass through',
				name: 'notice',
				type: 'notice',
				default: '',
			},
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const failures = items.map((item) => failureOfItem(item.json)).filter((f): f is ItemFailure => f !== undefined);
		if (failures.length === 0) return [items];
		const step = previousNode(this);
		const first = failures[0];
		let outcome: string | undefined;
		const toClose = failures.filter((f) => f.fromErrorOutput).map((f) => ({ ...f, ...(step ? { step } : {}) }));
		if (toClose.length > 0) {
			try {
				const closed = await failStagedRuns(await ledgerDeps(this), { execution: executionKey(this), failures: toClose });
				// Said when there were runs to speak of: a failure outside any sync run (a vendor import) has none.
				if (closed.length > 0 || toClose.some((f) => f.run)) outcome = describeFailedRuns(closed);
			} catch (error) {
				outcome = `The failure could not be recorded (${errorMessage(error)}): a sync run of this execution keeps its lease until it expires, 10 minutes after its last step.`;
			}
		}
		const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
		throw new NodeOperationError(this.getNode(), `${step && first.fromErrorOutput ? `${step}: ` : ''}${first.shown}${more}`, {
			description: [first.description ?? whatToDo(first.failureKind), outcome].filter(Boolean).join(' '),
		});
	}
}

/** The node whose output this run of the node received (the failed step), if n8n says. */
function previousNode(ctx: IExecuteFunctions): string | undefined {
	try {
		return ctx.getInputSourceData(0)?.previousNode;
	} catch {
		return undefined;
	}
}
