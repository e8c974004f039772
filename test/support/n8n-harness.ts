import { readFileSync } from 'node:fs';
import { Container } from '@n8n/di';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
// Not re-exported by n8n-core; n8n itself stops it when the process shuts down.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import {
	createRunExecutionData,
	ICredentialsHelper,
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IVersionedNodeType,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type INodeProperties,
	type WorkflowExecuteMode,
} from 'n8n-workflow';
import { ApplyChanges } from '../../nodes/ApplyChanges/ApplyChanges.node';
import { CategorizeChanges } from '../../nodes/CategorizeChanges/CategorizeChanges.node';
import { FinishSyncRun } from '../../nodes/FinishSyncRun/FinishSyncRun.node';
import { PricebookSetup } from '../../nodes/PricebookSetup/PricebookSetup.node';
import { PricebookSync } from '../../nodes/PricebookSync/PricebookSync.node';
import { ResolveConflict } from '../../nodes/ResolveConflict/ResolveConflict.node';
import { StartSyncRun } from '../../nodes/StartSyncRun/StartSyncRun.node';
import { StFetchPage } from '../../nodes/StFetchPage/StFetchPage.node';
import { StoreConflicts } from '../../nodes/StoreConflicts/StoreConflicts.node';
import { SyncNextPage } from '../../nodes/SyncNextPage/SyncNextPage.node';
import { SyncStatus } from '../../nodes/SyncStatus/SyncStatus.node';
import { VendorPriceImport } from '../../nodes/VendorPriceImport/VendorPriceImport.node';
import { baseNodeStandIns } from './n8n-base-standins';

/**
 * Runs workflow JSON in-process with n8n's own engine (n8n-core WorkflowExecute): the real expression
 * evaluation, parameter handling, routing, loops, pairedItem and error handling, with our nodes loaded as n8n
 * loads them. n8n's own test harness is not published, so this is the small part it would provide: a node-type
 * registry, a credentials helper and a plain additional-data object.
 */
export const PACKAGE = 'n8n-nodes-perfectcatch-pricebook';

const ourNodes: INodeType[] = [
	new PricebookSetup(),
	new StartSyncRun(),
	new StFetchPage(),
	new CategorizeChanges(),
	new ApplyChanges(),
	new StoreConflicts(),
	new SyncNextPage(),
	new FinishSyncRun(),
	new PricebookSync(),
	new ResolveConflict(),
	new SyncStatus(),
	new VendorPriceImport(),
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
	/** The trigger node (Schedule, Webhook) and the items it emits, as n8n's trigger or webhook server would. */
	trigger: { node: string; items: IDataObject[] };
	mode?: WorkflowExecuteMode;
}

export async function runWorkflow(definition: IWorkflowBase, options: RunOptions): Promise<WorkflowRun> {
	const workflow = new Workflow({
		id: definition.id,
		name: definition.name,
		nodes: definition.nodes,
		connections: definition.connections,
		active: false,
		nodeTypes: new NodeTypeRegistry(),
		staticData: {},
		settings: definition.settings,
	});
	const triggerNode = workflow.getNode(options.trigger.node);
	if (!triggerNode) throw new Error(`workflow ${definition.name} has no node "${options.trigger.node}"`);
	const mode: WorkflowExecuteMode = options.mode ?? (triggerNode.type.endsWith('.webhook') ? 'webhook' : 'trigger');
	const additionalData = {
		hooks: new ExecutionLifecycleHooks(mode, `test-${Date.now()}`, definition),
		credentialsHelper: new TestCredentialsHelper(options.credentials),
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
	} as unknown as IWorkflowExecuteAdditionalData;
	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node: triggerNode, data: { main: [options.trigger.items.map((json) => ({ json }))] }, source: null }],
		},
	});
	const run = await new WorkflowExecute(additionalData, mode, runExecutionData).processRunExecutionData(workflow);
	const outputs = (name: string) => (run.data.resultData.runData[name] ?? []).map((task) => (task.data?.main ?? []).map((items) => items ?? []));
	return {
		run,
		outputs,
		last: (name, output = 0) => {
			const all = outputs(name);
			return (all[all.length - 1]?.[output] ?? []).map((i) => i.json);
		},
		...(run.data.resultData.error ? { error: run.data.resultData.error as Error } : {}),
	};
}
