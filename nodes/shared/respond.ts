import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { answerForError, type HttpAnswer } from '../../lib';

/** "Respond As" for nodes that serve webhooks: plain items, or a status code and body for Respond to Webhook. */
export const respondAsProperty: INodeProperties = {
	displayName: 'Respond As',
	name: 'respondAs',
	type: 'options',
	options: [
		{ name: 'Items', value: 'items', description: 'Output the result; failures stop the workflow (or go on with Continue On Fail)' },
		{
			name: 'HTTP Answer',
			value: 'http',
			description: 'Output { statusCode, body } for a Respond to Webhook node; bad input becomes 400, unknown ids 404, busy or stale 409',
		},
	],
	default: 'items',
};

export const inputFromProperty: INodeProperties = {
	displayName: 'Input From',
	name: 'inputFrom',
	type: 'options',
	options: [
		{ name: 'Node Parameters', value: 'parameters' },
		{ name: 'Webhook Request', value: 'webhook', description: "Read path parameters and JSON body from a Webhook node's item (params, body)" },
	],
	default: 'parameters',
};

export function httpItem(answer: HttpAnswer): IDataObject {
	return { statusCode: answer.statusCode, body: answer.body as IDataObject };
}

/** In HTTP mode every failure is an answer, never a thrown error: Retool always gets a status code and JSON. */
export async function answering(respondAs: string, work: () => Promise<{ answer: HttpAnswer; items: IDataObject }>): Promise<IDataObject> {
	if (respondAs !== 'http') return (await work()).items;
	try {
		return httpItem((await work()).answer);
	} catch (error) {
		return httpItem(answerForError(error));
	}
}
