import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { choiceOf, ENTITY_TYPES, isEntityType, startedReport, startStagedRuns, SyncValidationError, wholeNumberOf } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { executionKey, lazyRunDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { runTrigger } from '../shared/trigger';

/** Starts one run per entity type (lease taken, ledger row written); busy types leave on the second output. */
export class StartSyncRun implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Start Sync Run',
		name: 'startSyncRun',
		icon: { light: 'file:startSyncRun.svg', dark: 'file:startSyncRun.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["kind"] + " sync: " + $parameter["entityTypes"].join(", ") }}',
		description: 'Start a full or incremental pricebook sync run per entity type; outputs one run reference each',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Start Sync Run' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Started', 'Busy'],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			{
				displayName: 'Kind',
				name: 'kind',
				type: 'options',
				options: [
					{ name: 'Incremental', value: 'incremental', description: 'What changed since the last run (runs as a full sync when that is stale)' },
					{ name: 'Full', value: 'full', description: 'Every item; soft-deletes what ServiceTitan no longer has' },
				],
				default: 'incremental',
			},
			{
				displayName: 'Entity Types',
				name: 'entityTypes',
				type: 'multiOptions',
				options: ENTITY_TYPES.map((t) => ({ name: t[0].toUpperCase() + t.slice(1), value: t })),
				default: ['categories'],
				description: 'One run each. Sync categories in a run of their own before the others.',
			},
			{
				displayName: 'Page Size',
				name: 'pageSize',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 5000 },
				default: 5000,
				description: 'Items per ServiceTitan page (at most 5000); each page is one pass through the loop',
			},
			{
				displayName: 'Confirm Mass Delete',
				name: 'confirmMassDelete',
				type: 'boolean',
				default: false,
				description: 'Whether a full sync may soft-delete more items than the mass-delete guard allows',
				displayOptions: { show: { kind: ['full'] } },
			},
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const deps = lazyRunDeps(this);
		const trigger = runTrigger(this);
		return perItem(this, 2, async (i) => {
			const kind = choiceOf(this.getNodeParameter('kind', i), 'kind', ['full', 'incremental'] as const);
			const entityTypes = this.getNodeParameter('entityTypes', i) as unknown[];
			if (!Array.isArray(entityTypes) || entityTypes.length === 0 || !entityTypes.every(isEntityType)) {
				throw new SyncValidationError('entityTypes', 'choose at least one of services, materials, equipment, categories');
			}
			const pageSize = wholeNumberOf(this.getNodeParameter('pageSize', i, 5000), 'pageSize', { min: 1, max: 5000, showRange: true });
			const starts = await startStagedRuns(await deps(), {
				pageSize,
				kind,
				entityTypes,
				trigger,
				confirmMassDelete: kind === 'full' ? (this.getNodeParameter('confirmMassDelete', i, false) as boolean) : false,
				// So that Fail Sync Run can close every run of this execution when one of its steps fails.
				execution: executionKey(this),
			});
			return starts.map((s) =>
				s.status === 'started' ? { output: 0, json: startedReport(s.ref, trigger, s.ranAsFullBecause) } : { output: 1, json: { ...s.result } },
			);
		});
	}
}
