import { readFileSync } from 'node:fs';
import { Container } from '@n8n/di';
import { ExecutionLifecycleHooks, WebhookContext, WorkflowExecute } from 'n8n-core';
// Not re-exported by n8n-core; n8n itself stops it when the process shuts down.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import {
	createRunExecutionData,
	ICredentialsHelper,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type INode,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IVersionedNodeType,
	type IWebhookData,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type INodeProperties,
	type WorkflowExecuteMode,
} from 'n8n-workflow';
import { ApplyChanges } from '../../nodes/ApplyChanges/ApplyChanges.node';
import { CategorizeChanges } from '../../nodes/CategorizeChanges/CategorizeChanges.node';
import { FailSyncRun } from '../../nodes/FailSyncRun/FailSyncRun.node';
import { FinishSyncRun } from '../../nodes/FinishSyncRun/FinishSyncRun.node';
import { PricebookSetup } from '../../nodes/PricebookSetup/PricebookSetup.node';
import { PricebookSync } from '../../nodes/PricebookSync/PricebookSync.node';
import { ResolveConflict } from '../../nodes/ResolveConflict/ResolveConflict.node';
import { UndoRun } from '../../nodes/UndoRun/UndoRun.node';
import { StartSyncRun } from '../../nodes/StartSyncRun/StartSyncRun.node';
import { StFetchPage } from '../../nodes/StFetchPage/StFetchPage.node';
import { StoreConflicts } from '../../nodes/StoreConflicts/StoreConflicts.node';
import { SyncNextPage } from '../../nodes/SyncNextPage/SyncNextPage.node';
import { SyncStatus } from '../../nodes/SyncStatus/SyncStatus.node';
import { PricebookWebhook } from '../../nodes/PricebookWebhook/PricebookWebhook.node';
import { VendorPriceImport } from '../../nodes/VendorPriceImport/VendorPriceImport.node';
import { baseNodeStandIns } from './n8n-base-standins';
import { installRecordingLogger } from './n8n-logger';

/**
 * Runs workflow JSON in-process with n8n's own engine (n8n-core WorkflowExecute): the real expression
 * evaluation, parameter handling, routing, loops, pairedItem and error handling, with our nodes loaded as n8n
 * loads them. n8n's own test harness is not published, so this is the small part it would provide: a node-type
 * registry, a credentials helper and a plain additional-data object.
 */
export const PACKAGE = 'n8n-nodes-perfectcatch-pricebook';

/** What our nodes logged through n8n's logger in this test file (kept, not printed). */
export const n8nLog = installRecordingLogger();

const ourNodes: INodeType[] = [
	new PricebookSetup(),
	new StartSyncRun(),
	new StFetchPage(),
	new CategorizeChanges(),
	new ApplyChanges(),
	new StoreConflicts(),
	new SyncNextPage(),
	new FinishSyncRun(),
	new FailSyncRun(),
	new PricebookSync(),
	new ResolveConflict(),
	new UndoRun(),
	new SyncStatus(),
	new VendorPriceImport(),
	new PricebookWebhook(),
];

class NodeTypeRegistry implements INodeTypes {
	private readonly types = new Map<string, INodeType | IVersionedNodeType>();

	constructor() {
		for (const node of ourNodes) this.types.set(`${PACKAGE}.${node.description.name}`, node);
		for (const [name, node] of Object.entries(baseNodeStandIns)) this.types.set(name, node);
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types.get(nodeType);
		if (!type) throw new Error(`node type ${nodeType} is not registered in the test harness`);
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return Object.fromEntries([...this.types.keys()].map((k) => [k, {}]));
	}
}

/** Hands each node the decrypted credential of its type, as n8n's credentials service would. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly byType: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(_c: ICredentialDataDecryptedObject, _t: string, requestOptions: never): Promise<never> {
		return requestOptions;
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('not used by these nodes');
	}

	async getDecrypted(_a: IWorkflowExecuteAdditionalData, _n: unknown, type: string): Promise<ICredentialDataDecryptedObject> {
		const data = this.byType[type];
		if (!data) throw new Error(`no test credential of type ${type}`);
		return data;
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(): INodeProperties[] {
		return [];
	}
}

/**
 * Stops what n8n's engine leaves running between executions (the SSH tunnel manager's cleanup timer), as n8n
 * does at shutdown. Call it in afterAll of every file that runs workflows, or jest cannot exit.
 */
export function shutdownN8n(): void {
	if (Container.has(SSHClientsManager)) Container.get(SSHClientsManager).onShutdown();
}

export interface WorkflowRun {
	run: IRun;
	/** What the execution answered the webhook call with (Respond to Webhook), if it did. */
	response?: { statusCode: number; body: IDataObject };
	/** Every output of every run of a node, in order (a node in a loop runs several times). */
	outputs(nodeName: string): INodeExecutionData[][][];
	/** The items of the given output of the node's last run. */
	last(nodeName: string, output?: number): IDataObject[];
	error?: Error;
}

export function loadWorkflow(file: string): IWorkflowBase {
	return JSON.parse(readFileSync(file, 'utf8')) as IWorkflowBase;
}

export interface RunOptions {
	credentials: Record<string, ICredentialDataDecryptedObject>;
	/** The trigger node (Schedule) and the items it emits, as n8n's trigger server would. */
	trigger: { node: string; items: IDataObject[] };
	mode?: WorkflowExecuteMode;
}

function buildWorkflow(definition: IWorkflowBase): Workflow {
	return new Workflow({
		id: definition.id,
		name: definition.name,
		nodes: definition.nodes,
		connections: definition.connections,
		active: false,
		nodeTypes: new NodeTypeRegistry(),
		staticData: {},
		settings: definition.settings,
	});
}

function triggerNodeOf(workflow: Workflow, definition: IWorkflowBase, name: string): INode {
	const node = workflow.getNode(name);
	if (!node) throw new Error(`workflow ${definition.name} has no node "${name}"`);
	return node;
}

let executions = 0;

function additionalDataFor(
	definition: IWorkflowBase,
	mode: WorkflowExecuteMode,
	credentials: Record<string, ICredentialDataDecryptedObject>,
	http: { httpRequest?: unknown; httpResponse?: unknown } = {},
): IWorkflowExecuteAdditionalData {
	// Each execution its own id, as n8n gives them (nodes read it with getExecutionId()).
	const executionId = `test-${process.pid}-${++executions}`;
	return {
		executionId,
		hooks: new ExecutionLifecycleHooks(mode, executionId, definition),
		credentialsHelper: new TestCredentialsHelper(credentials),
		executeWorkflow: async () => {
			throw new Error('sub-workflows are not used');
		},
		getRunExecutionData: async () => undefined,
		restApiUrl: 'http://127.0.0.1/rest',
		instanceBaseUrl: 'http://127.0.0.1/',
		formWaitingBaseUrl: 'http://127.0.0.1/form-waiting',
		webhookBaseUrl: 'http://127.0.0.1/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1/webhook-test',
		currentNodeExecutionIndex: 0,
		variables: {},
		logAiEvent: () => undefined,
		startRunnerTask: async () => {
			throw new Error('the Code node is not used');
		},
		...http,
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** Runs the workflow from its trigger node, the trigger having emitted `main` (as n8n starts an execution). */
async function execute(
	workflow: Workflow,
	triggerNode: INode,
	main: INodeExecutionData[][],
	additionalData: IWorkflowExecuteAdditionalData,
	mode: WorkflowExecuteMode,
): Promise<WorkflowRun> {
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [{ node: triggerNode, data: { main }, source: null }] },
	});
	// Respond to Webhook hands its answer to n8n's webhook server through this hook.
	let response: WorkflowRun['response'];
	additionalData.hooks!.addHandler('sendResponse', (data) => {
		response = data as unknown as WorkflowRun['response'];
	});
	const run = await new WorkflowExecute(additionalData, mode, runExecutionData).processRunExecutionData(workflow);
	const outputs = (name: string) => (run.data.resultData.runData[name] ?? []).map((task) => (task.data?.main ?? []).map((items) => items ?? []));
	return {
		run,
		...(response ? { response } : {}),
		outputs,
		last: (name, output = 0) => {
			const all = outputs(name);
			return (all[all.length - 1]?.[output] ?? []).map((i) => i.json);
		},
		...(run.data.resultData.error ? { error: run.data.resultData.error as Error } : {}),
	};
}

export async function runWorkflow(definition: IWorkflowBase, options: RunOptions): Promise<WorkflowRun> {
	const workflow = buildWorkflow(definition);
	const triggerNode = triggerNodeOf(workflow, definition, options.trigger.node);
	const mode: WorkflowExecuteMode = options.mode ?? 'trigger';
	const additionalData = additionalDataFor(definition, mode, options.credentials);
	return execute(workflow, triggerNode, [options.trigger.items.map((json) => ({ json }))], additionalData, mode);
}

/** An HTTP request as n8n's webhook server hands it to the webhook node: body already parsed from JSON. */
export interface WebhookRequest {
	method: string;
	headers?: Record<string, string>;
	/** The path parameters n8n's router took from the URL (":type/:id"). */
	params?: unknown;
	query?: unknown;
	body?: unknown;
}

export interface WebhookCall {
	/** What the webhook node answered itself (it refused the call); then no execution started. */
	answered?: { statusCode: number; headers: Record<string, string>; body: string };
	/** The execution the webhook node started. */
	execution?: WorkflowRun;
}

/** Just what the webhook nodes use of express's Response: they answer a refusal with writeHead and end. */
class RecordedResponse {
	statusCode = 200;
	headers: Record<string, string> = {};
	body: string | undefined;

	writeHead(statusCode: number, headers: Record<string, string> = {}) {
		this.statusCode = statusCode;
		Object.assign(this.headers, headers);
		return this;
	}

	end(body?: string) {
		this.body = body ?? '';
		return this;
	}
}

/**
 * Calls a webhook trigger node as n8n's webhook server does (n8n's WebhookContext around our request; the node's
 * own webhook() decides), then, if the node passed the request on, runs the workflow from what it emitted, in
 * webhook mode. The request's method and path parameters must fit the node's parameters, as n8n's router would
 * not reach the node otherwise.
 */
export async function callWebhook(
	definition: IWorkflowBase,
	options: { credentials: Record<string, ICredentialDataDecryptedObject>; node: string; request: WebhookRequest },
): Promise<WebhookCall> {
	const workflow = buildWorkflow(definition);
	const node = triggerNodeOf(workflow, definition, options.node);
	const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
	const webhookDescription = nodeType.description.webhooks?.[0];
	if (!nodeType.webhook || !webhookDescription) throw new Error(`node "${node.name}" (${node.type}) is not a webhook trigger`);
	const { request } = options;
	if (node.parameters.httpMethod !== request.method)
		throw new Error(`node "${node.name}" listens to ${String(node.parameters.httpMethod)}, not ${request.method}`);
	const path = String(node.parameters.path);
	// (Hostile-input tests hand in params that are no object at all, as n8n's router never would: passed on as they are.)
	const params = request.params ?? {};
	if (typeof params === 'object' && !Array.isArray(params))
		for (const name of Object.keys(params)) if (!path.split('/').includes(`:${name}`)) throw new Error(`the path ${path} has no parameter :${name}`);

	const response = new RecordedResponse();
	const httpRequest = {
		method: request.method,
		headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
		params,
		query: request.query ?? {},
		body: request.body,
	};
	const mode: WorkflowExecuteMode = 'webhook';
	const additionalData = additionalDataFor(definition, mode, options.credentials, { httpRequest, httpResponse: response });
	const webhookData = {
		httpMethod: request.method,
		node: node.name,
		path,
		webhookDescription,
		workflowId: definition.id,
		workflowExecuteAdditionalData: additionalData,
	};
	const context = new WebhookContext(workflow, node, additionalData, mode, webhookData as IWebhookData, [], null);
	const result = await nodeType.webhook.call(context);
	if (!result.workflowData) {
		if (!result.noWebhookResponse || response.body === undefined) throw new Error(`node "${node.name}" neither answered nor started an execution`);
		return { answered: { statusCode: response.statusCode, headers: response.headers, body: response.body } };
	}
	return { execution: await execute(workflow, node, result.workflowData, additionalData, mode) };
}
