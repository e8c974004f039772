import {
	NodeConnectionTypes,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';
import { checkWebhookKey, type WebhookKey } from '../../lib';

/**
 * The trigger of the pricebook API webhooks (what Retool calls). It replaces n8n's Webhook node because that node
 * outputs the request headers, key header included, and n8n saves trigger output in every execution: the key
 * would sit in n8n's database (redaction of sensitive fields applies when executions are read, not when they are
 * saved). This node checks the key itself and outputs only { params, query, body }, so the key never enters an
 * execution; a call without the right key is answered here (403) and starts no execution at all.
 */
export class PricebookWebhook implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Pricebook Webhook',
		name: 'pricebookWebhook',
		icon: { light: 'file:pricebookWebhook.svg', dark: 'file:pricebookWebhook.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["httpMethod"] + " /" + $parameter["path"] }}',
		description: 'Starts the workflow when the pricebook API is called with the right key; passes on path parameters, query and body, never headers',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Pricebook Webhook' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		// The same credential type as n8n's Webhook node with Header Auth: the header's name and the key.
		credentials: [{ name: 'httpHeaderAuth', required: true }],
		webhooks: [
			{
				name: 'default',
				httpMethod: '={{$parameter["httpMethod"]}}',
				// As n8n's Webhook node: the path is the URL (after /webhook/); with ":params" n8n puts webhookId first.
				isFullPath: true,
				path: '={{$parameter["path"]}}',
				responseMode: '={{$parameter["responseMode"]}}',
				responseCode: '={{200}}',
				responseData: 'firstEntryJson',
			},
		],
		properties: [
			{
				displayName: 'HTTP Method',
				name: 'httpMethod',
				type: 'options',
				options: ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'].map((m) => ({ name: m, value: m })),
				default: 'POST',
				description: 'The HTTP method to listen to',
			},
			{
				displayName: 'Path',
				name: 'path',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'api/sync/pricebook/entity/:type/:id',
				description: 'The path to listen to; ":name" parts are path parameters (n8n then puts the webhook ID in front of the path)',
			},
			{
				displayName: 'Respond',
				name: 'responseMode',
				type: 'options',
				options: [
					{
						name: "Using 'Respond to Webhook' Node",
						value: 'responseNode',
						description: 'A Respond to Webhook node (type version 1) answers; the pricebook workflows answer this way',
					},
					{ name: 'When Last Node Finishes', value: 'lastNode', description: "The last node's first item, as JSON, with status 200" },
				],
				default: 'responseNode',
			},
		],
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const req = this.getRequestObject();
		// No credential selected, or one n8n cannot decrypt: the check answers 500 and says what to set up.
		const key = await this.getCredentials<WebhookKey>('httpHeaderAuth').catch(() => undefined);
		const check = checkWebhookKey(req.headers, key);
		if (!check.ok) {
			const res = this.getResponseObject();
			res.writeHead(check.statusCode, { 'Content-Type': 'application/json; charset=utf-8' });
			res.end(JSON.stringify({ error: check.message }));
			// Answered here: n8n sends nothing more and, with no workflowData, starts no execution.
			return { noWebhookResponse: true };
		}
		// Never headers: they carry the key (and whatever else a caller or proxy sends); the nodes after this read
		// path parameters and the JSON body only.
		const json: IDataObject = {
			params: (req.params ?? {}) as IDataObject,
			query: (req.query ?? {}) as IDataObject,
			body: (req.body ?? {}) as IDataObject,
		};
		return { workflowData: [[{ json }]] };
	}
}
