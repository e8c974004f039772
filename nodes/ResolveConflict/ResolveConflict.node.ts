import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { answerForResolution, parseResolveRequest, RESOLUTIONS, resolveConflict } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { runDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { answering, inputFromProperty, respondAsProperty } from '../shared/respond';
import { runTrigger } from '../shared/trigger';

/** Applies a person's decision on a conflict (Retool's resolve button): use_st, use_local or merged. */
export class ResolveConflict implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resolve Conflict',
		name: 'resolveConflict',
		icon: { light: 'file:resolveConflict.svg', dark: 'file:resolveConflict.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["inputFrom"] === "webhook" ? "from webhook" : $parameter["resolution"] }}',
		description: 'Resolve a pricebook sync conflict with use_st, use_local or merged, recording who decided',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Resolve Conflict' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			inputFromProperty,
			{ displayName: 'Conflict ID', name: 'conflictId', type: 'string', default: '', displayOptions: { show: { inputFrom: ['parameters'] } } },
			{
				displayName: 'Resolution',
				name: 'resolution',
				type: 'options',
				options: RESOLUTIONS.map((r) => ({ name: r, value: r })),
				default: 'use_st',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			{
				displayName: 'Merged Data',
				name: 'mergedData',
				type: 'json',
				default: '{}',
				description: 'For merged: the chosen field values, e.g. {"price": 12.5}',
				displayOptions: { show: { inputFrom: ['parameters'], resolution: ['merged'] } },
			},
			{
				displayName: 'Resolved By',
				name: 'resolvedBy',
				type: 'string',
				default: '',
				description: 'Who decided (recorded in the audit trail)',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			respondAsProperty,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const deps = await runDeps(this);
		const trigger = runTrigger(this);
		return perItem(this, 1, async (i, item) => {
			const fromWebhook = this.getNodeParameter('inputFrom', i) === 'webhook';
			const json = await answering(this.getNodeParameter('respondAs', i) as string, async () => {
				const request = fromWebhook
					? parseResolveRequest(item.json.params, item.json.body)
					: parseResolveRequest(
							{ id: this.getNodeParameter('conflictId', i) },
							{
								resolution: this.getNodeParameter('resolution', i),
								resolvedBy: this.getNodeParameter('resolvedBy', i),
								...(this.getNodeParameter('resolution', i) === 'merged' ? { mergedData: this.getNodeParameter('mergedData', i) } : {}),
							},
						);
				const result = await resolveConflict({ db: deps.db, st: deps.st }, { ...request, trigger });
				return { answer: answerForResolution(result), items: { ...result } as unknown as IDataObject };
			});
			return [{ output: 0, json }];
		});
	}
}
