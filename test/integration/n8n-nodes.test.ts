import type { IDataObject, INode, IWorkflowBase, WorkflowExecuteMode } from 'n8n-workflow';
import { closeDatabase } from '../../nodes/shared/database';
import { closeServiceTitanClients } from '../../nodes/shared/servicetitan';
import { credentialsFor } from '../support/n8n-credentials';
import { PACKAGE, runWorkflow, shutdownN8n } from '../support/n8n-harness';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

let h: SyncHarness;
beforeAll(async () => {
	h = await startHarness();
});
afterAll(shutdownN8n);
afterAll(async () => {
	await closeDatabase(credentialsFor(h).pricebookDatabase);
	closeServiceTitanClients();
	await h.close();
});

/** Trigger → one node of ours, fed the given items. */
function oneNode(type: string, parameters: IDataObject, extra: Partial<INode> = {}): IWorkflowBase {
	return {
		id: 'nodeTest',
		name: 'node test',
		active: false,
		nodes: [
			{ id: 't', name: 'Trigger', type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, position: [0, 0], parameters: {} },
			{
				id: 'n',
				name: 'Node',
				type: `${PACKAGE}.${type}`,
				typeVersion: 1,
				position: [200, 0],
				parameters,
				credentials: { pricebookDatabase: { id: 'db', name: 'db' }, serviceTitanApi: { id: 'st', name: 'st' } },
				...extra,
			},
		],
		connections: { Trigger: { main: [[{ node: 'Node', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	} as unknown as IWorkflowBase;
}

const feed = (definition: IWorkflowBase, items: IDataObject[], mode?: WorkflowExecuteMode) =>
	runWorkflow(definition, { credentials: credentialsFor(h), trigger: { node: 'Trigger', items }, ...(mode ? { mode } : {}) });

describe('our nodes under n8n conventions', () => {
	it.each([
		['stFetchPage', { runId: 'seven' }, 'runId'],
		['categorizeChanges', { runId: 3, entityType: 'widgets', kind: 'full', page: 1 }, 'entityType'],
		['applyChanges', { runId: 3, entityType: 'materials', kind: 'sometimes', page: 1 }, 'kind'],
		['storeConflicts', { runId: 3, entityType: 'materials', kind: 'full', page: 0 }, 'page'],
		['finishSyncRun', {}, 'runId'],
		['syncNextPage', { runId: 3, entityType: 'materials', kind: 'full', page: 1 }, 'hasMore'],
	])('%s refuses a bad item with a NodeOperationError naming the item and the field', async (type, json, field) => {
		const result = await feed(oneNode(type, {}), [json]);
		const error = result.error as unknown as { name: string; message: string; description?: string; context?: { itemIndex?: number } };
		expect(error).toBeDefined();
		expect(error.name).toBe('NodeOperationError');
		expect(error.context?.itemIndex).toBe(0);
		expect(`${error.message} ${error.description ?? ''}`).toContain(field);
	});

	it('a failed item goes on as an error item when the node continues on fail, with pairedItem kept', async () => {
		const result = await feed(oneNode('syncNextPage', {}, { onError: 'continueRegularOutput' } as Partial<INode>), [
			{ runId: 5, entityType: 'materials', kind: 'full', page: 2, hasMore: true },
			{ runId: 'bad' },
			{ runId: 6, entityType: 'services', kind: 'incremental', page: 4, hasMore: false },
		]);
		expect(result.error).toBeUndefined();
		const [task] = result.run.data.resultData.runData.Node;
		const [more, done] = task.data!.main as { json: IDataObject; pairedItem: unknown }[][];
		expect(more.map((i) => [i.json, i.pairedItem])).toEqual([
			[{ runId: 5, entityType: 'materials', kind: 'full', page: 3, message: 'materials run 5: page 2 done, page 3 next' }, { item: 0 }],
			[{ error: expect.objectContaining({ message: expect.stringContaining('runId'), failureKind: 'validation' }) }, { item: 1 }],
		]);
		expect(done.map((i) => [i.json, i.pairedItem])).toEqual([
			[
				{
					runId: 6,
					entityType: 'services',
					kind: 'incremental',
					page: 4,
					message: 'services run 6: page 4 was the last; Finish Sync Run ends the run',
				},
				{ item: 2 },
			],
		]);
	});

	it('with the error output, a failed item leaves on it with its run reference, its failure kind and the cause (what Fail Sync Run reads)', async () => {
		const result = await feed(oneNode('syncNextPage', {}, { onError: 'continueErrorOutput' } as Partial<INode>), [
			{ runId: 5, entityType: 'materials', kind: 'full', page: 2, hasMore: true },
			{ runId: 6, entityType: 'services', kind: 'incremental', page: 4 },
		]);
		expect(result.error).toBeUndefined();
		const [task] = result.run.data.resultData.runData.Node;
		const [more, done, failed] = task.data!.main as { json: IDataObject; pairedItem: unknown }[][];
		expect(more.map((i) => i.json)).toEqual([expect.objectContaining({ runId: 5, entityType: 'materials', kind: 'full', page: 3 })]);
		expect(done).toEqual([]);
		expect(failed.map((i) => [i.json, i.pairedItem])).toEqual([
			[
				{
					runId: 6,
					entityType: 'services',
					kind: 'incremental',
					page: 4,
					error: {
						message: expect.stringContaining('hasMore'),
						description: 'Fix the input field "hasMore"',
						failureKind: 'validation',
						cause: 'the item has no hasMore flag: connect this node after ST Fetch Page',
					},
				},
				{ item: 1 },
			],
		]);
	});

	it("a credential that fails the whole step is the item's failure: on the error output with its run reference, not passed on as a success", async () => {
		const start = await feed(oneNode('startSyncRun', { kind: 'full', entityTypes: ['services'], pageSize: 5000, trigger: 'test' }), [{}]);
		const [ref] = start.last('Node');
		const credentials = credentialsFor(h);
		const result = await runWorkflow(oneNode('stFetchPage', {}, { onError: 'continueErrorOutput' } as Partial<INode>), {
			credentials: { ...credentials, serviceTitanApi: { ...credentials.serviceTitanApi, clientId: '' } },
			trigger: { node: 'Trigger', items: [ref] },
		});
		const [fetched, failed] = result.run.data.resultData.runData.Node[0].data!.main as { json: IDataObject }[][];
		expect(fetched).toEqual([]);
		expect(failed.map((i) => i.json)).toEqual([
			{ ...ref, error: expect.objectContaining({ failureKind: 'configuration', cause: expect.stringMatching(/clientId is missing/) }) },
		]);
		await feed(oneNode('finishSyncRun', {}), [ref]);
	});

	it('a ServiceTitan failure surfaces as NodeApiError with its status; with HTTP answers it becomes a 502 body instead', async () => {
		const start = await feed(oneNode('startSyncRun', { kind: 'full', entityTypes: ['equipment'], pageSize: 5000 }), [{}]);
		const [ref] = start.last('Node');
		expect(ref).toMatchObject({ entityType: 'equipment', page: 1 });
		// 403 is not retried, so the failure comes back at once.
		h.sim.control.setFaults({ errorRate: 1, errorStatus: 403 });
		try {
			const fetch = await feed(oneNode('stFetchPage', {}), [ref]);
			const error = fetch.error as unknown as { name: string; httpCode: string; message: string; context?: { itemIndex?: number } };
			expect(error.name).toBe('NodeApiError');
			expect(error.httpCode).toBe('403');
			expect(error.message).toMatch(/ServiceTitan/);
			expect(error.context?.itemIndex).toBe(0);
			const answer = await feed(
				oneNode('pricebookSync', { operation: 'entity', inputFrom: 'parameters', entityType: 'materials', entityId: '1', respondAs: 'http' }),
				[{}],
			);
			expect(answer.last('Node')[0]).toMatchObject({ statusCode: 502 });
			const asItems = await feed(
				oneNode('pricebookSync', { operation: 'entity', inputFrom: 'parameters', entityType: 'materials', entityId: '1', respondAs: 'items' }),
				[{}],
			);
			expect((asItems.last('Node')[0].results as IDataObject[])[0]).toMatchObject({ success: false, status: 'failed' });
		} finally {
			h.sim.control.clearFaults();
		}
		// A run that ends failed is recorded so, and the node fails with it: the execution does not show green over it.
		const finish = await feed(oneNode('finishSyncRun', {}), [ref]);
		expect(finish.error?.message).toMatch(/before every page/);
		expect(await h.t.db.one('SELECT status, error FROM sync_runs WHERE id = $1', [ref.runId])).toEqual({
			status: 'failed',
			error: expect.stringMatching(/before every page/),
		});
	});

	it("the nodes that start runs record the execution's trigger in the run ledger, not a label of their own", async () => {
		const entity = { operation: 'entity', inputFrom: 'parameters', entityType: 'materials', entityId: String(h.sim.control.listIds('materials')[0]) };
		const trigger = async () => (await h.t.db.one<{ trigger: string }>('SELECT trigger FROM sync_runs ORDER BY id DESC LIMIT 1')).trigger;
		expect((await feed(oneNode('pricebookSync', { ...entity, respondAs: 'items' }), [{}], 'manual')).error).toBeUndefined();
		expect(await trigger()).toBe('manual');
		// n8n's other modes keep n8n's name, so a retried execution is told apart from our CLI's 'cli'.
		expect((await feed(oneNode('pricebookSync', { ...entity, respondAs: 'items' }), [{}], 'retry')).error).toBeUndefined();
		expect(await trigger()).toBe('n8n-retry');
		const start = await feed(oneNode('startSyncRun', { kind: 'incremental', entityTypes: ['categories'], pageSize: 5000 }), [{}], 'manual');
		expect(start.last('Node')[0]).toMatchObject({ entityType: 'categories', trigger: 'manual' });
		expect(await trigger()).toBe('manual');
	});

	it('Pricebook Setup migrates the schema and is idempotent', async () => {
		const first = await feed(oneNode('pricebookSetup', {}), [{}]);
		expect(first.error).toBeUndefined();
		expect(first.last('Node')[0]).toMatchObject({ applied: [], current: expect.stringMatching(/^\d{4}_/) });
	});
});
