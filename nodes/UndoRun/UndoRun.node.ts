import {
	NodeConnectionTypes,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { answerForUndo, DEFAULT_UNDO_RETENTION_DAYS, failureOfRun, parseUndoRequest, undoRun } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { runDeps } from '../shared/context';
import { perItem } from '../shared/items';
import { answering, inputFromProperty, respondAsProperty } from '../shared/respond';
import { runTrigger } from '../shared/trigger';

/** Undoes a sync run or a resolution on both sides (Retool's undo button), or lists what it would change. */
export class UndoRun implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Undo Sync Run',
		name: 'undoRun',
		icon: { light: 'file:undoRun.svg', dark: 'file:undoRun.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["inputFrom"] === "webhook" ? "from webhook" : "run " + $parameter["runId"] }}',
		description: 'Undo a pricebook sync run or resolution on both sides, keeping every edit made since; a dry run lists each field first',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#undo',
		defaults: { name: 'Undo Sync Run' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'serviceTitanApi', required: true, testedBy: 'serviceTitanApiTest' },
		],
		properties: [
			inputFromProperty,
			{ displayName: 'Run ID', name: 'runId', type: 'string', default: '', displayOptions: { show: { inputFrom: ['parameters'] } } },
			{
				displayName: 'By',
				name: 'by',
				type: 'string',
				default: '',
				description: 'Who undoes the run (recorded with the undo run)',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: true,
				description: 'Whether to only list per item and field what would change and what would be skipped, writing nothing',
				displayOptions: { show: { inputFrom: ['parameters'] } },
			},
			{
				displayName: 'Undo Window (Days)',
				name: 'retentionDays',
				type: 'number',
				default: DEFAULT_UNDO_RETENTION_DAYS,
				typeOptions: { minValue: 1 },
				description: 'Runs older than this are not undone',
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
			const respondAs = this.getNodeParameter('respondAs', i) as string;
			const json = await answering(respondAs, async () => {
				const request = fromWebhook
					? parseUndoRequest(item.json.params, item.json.body)
					: parseUndoRequest(
							{ runId: this.getNodeParameter('runId', i) },
							{ by: this.getNodeParameter('by', i), dryRun: this.getNodeParameter('dryRun', i) },
						);
				const retentionDays = this.getNodeParameter('retentionDays', i) as number;
				const result = await undoRun({ db: deps.db, st: deps.st, retentionDays }, { ...request, trigger });
				// As items, an undo that failed part-way fails the node, like a failed sync run; as an HTTP answer it is a status.
				const failure = respondAs === 'http' ? undefined : failureOfRun(result);
				if (failure) throw failure;
				return { answer: answerForUndo(result), items: { ...result } as unknown as IDataObject };
			});
			return [{ output: 0, json }];
		});
	}
}
