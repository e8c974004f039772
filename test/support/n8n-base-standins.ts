import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeProperties,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	ITriggerFunctions,
	ITriggerResponse,
} from 'n8n-workflow';

/**
 * Stand-ins for the two n8n-nodes-base nodes the workflows use (Schedule Trigger, Respond to Webhook); the
 * webhooks' trigger is our own Pricebook Webhook node, which the harness runs for real. n8n-nodes-base itself
 * cannot be installed beside n8n-core 2.11 on Node 20 (it pulls isolated-vm, which needs Node 22+); the real
 * nodes run in the end-to-end test against a real n8n. The stand-ins honour the parameters our workflows set,
 * and nothing else.
 */
const base = (name: string, displayName: string, group: INodeTypeDescription['group'], properties: INodeProperties[] = []): INodeTypeDescription => ({
	displayName,
	name,
	group,
	version: [1, 1.1, 1.2, 2],
	description: `test stand-in for n8n-nodes-base.${name}`,
	defaults: { name: displayName },
	inputs: group.includes('trigger') ? [] : [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	properties,
});

/**
 * A trigger: in trigger mode n8n passes the trigger's items through without running it. In manual mode (the
 * editor's "Execute workflow") n8n calls its manual trigger function and waits for the item it emits, as the real
 * Schedule Trigger emits one item with the time.
 */
class ScheduleTrigger implements INodeType {
	description = base('scheduleTrigger', 'Schedule Trigger', ['trigger', 'schedule'], [{ displayName: 'Rule', name: 'rule', type: 'json', default: {} }]);

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => this.emit([this.helpers.returnJsonArray([{ timestamp: new Date().toISOString() }])]);
		return this.getMode() === 'manual' ? { manualTriggerFunction } : {};
	}
}

/**
 * Respond to Webhook (version 1), `respondWith: json`: evaluates responseBody and options.responseCode per n8n's
 * rules, sends the answer through n8n's sendResponse, and outputs its input items, as the real node does.
 */
class RespondToWebhook implements INodeType {
	description = base(
		'respondToWebhook',
		'Respond to Webhook',
		['transform'],
		[
			{ displayName: 'Respond With', name: 'respondWith', type: 'string', default: 'firstIncomingItem' },
			{ displayName: 'Response Body', name: 'responseBody', type: 'json', default: '' },
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				default: {},
				options: [{ displayName: 'Response Code', name: 'responseCode', type: 'number', default: 200 }],
			},
		],
	);

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const respondWith = this.getNodeParameter('respondWith', 0) as string;
		if (respondWith !== 'json') throw new Error(`stand-in supports respondWith=json only (got ${respondWith})`);
		const body = this.getNodeParameter('responseBody', 0) as unknown;
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const response = {
			statusCode: Number(options.responseCode ?? 200),
			body: typeof body === 'string' ? (JSON.parse(body) as IDataObject) : (body as IDataObject),
		};
		this.sendResponse(response);
		return [this.getInputData()];
	}
}

export const baseNodeStandIns: Record<string, INodeType> = {
	'n8n-nodes-base.scheduleTrigger': new ScheduleTrigger(),
	'n8n-nodes-base.respondToWebhook': new RespondToWebhook(),
};
