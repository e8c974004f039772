import * as path from 'node:path';
import type { IDataObject, IWorkflowBase } from 'n8n-workflow';
import { credentialsFor, WEBHOOK_KEY, WEBHOOK_KEY_HEADER } from '../../support/n8n-credentials';
import { callWebhook as callN8nWebhook, loadWorkflow } from '../../support/n8n-harness';
import type { SyncHarness } from '../../support/sync-harness';
import { figures, tried } from './figures';
import { untouched } from './untouched';

// Webhooks, in n8n's own engine as in test/integration/n8n-workflows.test.ts.

const WORKFLOWS = path.resolve(__dirname, '../../../workflows');
export const workflow = {
	full: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-full.json')),
	incremental: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-incremental.json')),
	entity: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-entity.json')),
	resolve: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-resolve-conflict.json')),
	status: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-status.json')),
};

interface Answer {
	statusCode: number;
	body: IDataObject;
}

export interface WebhookCase {
	defect: string;
	params?: unknown;
	query?: unknown;
	body?: unknown;
	status: 400 | 404;
	/** The `field` of a 400 answer. */
	field?: string;
	/** Text the error message must contain, naming the problem. */
	mentions: string;
}

/** As n8n's webhook server hands a JSON body on: parsed, so plain data only. */
function wire(value: unknown): unknown {
	return typeof value === 'object' && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}

export async function callWebhook(h: SyncHarness, definition: IWorkflowBase, request: { params?: unknown; query?: unknown; body?: unknown }): Promise<Answer> {
	// Through the workflow's own trigger (Pricebook Webhook), with the key, as Retool calls it.
	const method = String(definition.nodes.find((n) => n.name === 'Webhook')!.parameters.httpMethod);
	const { execution } = await callN8nWebhook(definition, {
		credentials: credentialsFor(h),
		node: 'Webhook',
		request: {
			method,
			headers: { [WEBHOOK_KEY_HEADER]: WEBHOOK_KEY },
			params: request.params ?? {},
			query: request.query ?? {},
			body: wire(request.body ?? {}),
		},
	});
	expect(execution?.error).toBeUndefined();
	return execution!.response as Answer;
}

export async function expectWebhookRefuses(h: SyncHarness, entryPoint: string, definition: IWorkflowBase, c: WebhookCase): Promise<void> {
	tried(entryPoint, `webhook: ${c.defect}`);
	const answer = await untouched(h, () => callWebhook(h, definition, c));
	expect({ defect: c.defect, statusCode: answer.statusCode, field: answer.body.field }).toEqual({ defect: c.defect, statusCode: c.status, field: c.field });
	expect(String(answer.body.error)).toContain(c.mentions);
	figures.refusedCorrectly += 1;
}
