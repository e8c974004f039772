import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { answerForRuns, parseEntityRequest, parseSyncRequest, SyncEngine } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { runDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { answering, inputFromProperty, respondAsProperty } from '../shared/respond';
import { runTrigger } from '../shared/trigger';

/**
 * One whole sync run inside this node (the library path): for webhooks (Retool's save, external notices,
 * on-demand full or incremental runs). Only the summary is output, never the pricebook rows.
 */
export class PricebookSync implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Pricebook Sync',
		name: 'pricebookSync',
		icon: { light: 'file:pricebookSync.svg', dark: 'file:pricebookSync.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + " sync" }}',
		description: 'Run a full, incremental or single-item pricebook sync between ServiceTitan and PostgreSQL',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Pricebook Sync' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Full', value: 'full', action: 'Run a full sync', description: 'Every item; soft-deletes what ServiceTitan no longer has' },
					{ name: 'Incremental', value: 'incremental', action: 'Run an incremental sync', description: 'What changed since the last run' },
					{ name: 'Single Item', value: 'entity', action: 'Sync one item', description: 'One item by type and ID (e.g. after a save in Retool)' },
				],
				default: 'incremental',
			},
			inputFromProperty,
			{
				displayName: 'Entity Type',
				name: 'entityType',
				type: 'string',
				default: 'all',
				description: 'Services, materials, equipment or categories; for full and incremental also "all"',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			{
				displayName: 'Item ID',
				name: 'entityId',
				type: 'string',
				default: '',
				description: 'The ServiceTitan ID of the item',
				displayOptions: { show: { inputFrom: ['parameters'], operation: ['entity'] } },
			},
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				description: 'Whether to only report what would change, writing nothing',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			respondAsProperty,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const deps = await runDeps(this);
		const trigger = runTrigger(this);
		const engine = new SyncEngine({ ...deps, settings: deps.settings });
		const operation = this.getNodeParameter('operation', 0) as 'full' | 'incremental' | 'entity';
		return perItem(this, 1, async (i, item) => {
			const fromWebhook = this.getNodeParameter('inputFrom', i) === 'webhook';
			const param = (name: string, fallback: unknown) => (fromWebhook ? undefined : this.getNodeParameter(name, i, fallback));
			const json = await answering(this.getNodeParameter('respondAs', i) as string, async () => {
				let results;
				if (operation === 'entity') {
					const request = fromWebhook
						? parseEntityRequest(item.json.params, item.json.body)
						: parseEntityRequest({ type: param('entityType', ''), id: param('entityId', '') }, { dryRun: param('dryRun', false) });
					results = [
						await engine.run({
							kind: 'entity',
							entityType: request.entityType,
							entityId: request.entityId,
							dryRun: request.dryRun,
							trigger,
						}),
					];
				} else {
					const body = fromWebhook ? item.json.body : { entityType: param('entityType', 'all'), dryRun: param('dryRun', false) };
					const request = parseSyncRequest(operation, body);
					results = await engine.runMany(operation, request.entityTypes, {
						dryRun: request.dryRun,
						confirmMassDelete: request.confirmMassDelete,
						since: request.since,
						trigger,
					});
				}
				return { answer: answerForRuns(results), items: { results } as unknown as IDataObject };
			});
			return [{ output: 0, json }];
		});
	}
}
