import * as path from 'node:path';
import { NodeConnectionTypes, type IWorkflowBase } from 'n8n-workflow';
import type { RunResult } from '../../lib/sync/runs';
import { closeDatabase } from '../../nodes/shared/database';
import { closeServiceTitanClients } from '../../nodes/shared/servicetitan';
import { loadWorkflow, runWorkflow, shutdownN8n } from '../../test/support/n8n-harness';
import { runJob } from '../child';
import { ENTITY, startSim, type BenchContext } from '../context';
import { round, spread, type Spread } from '../stats';
import type { ModuleStepFn } from '../worker';

/**
 * Case 6: the full-sync workflow (workflows/pricebook-full-sync.json) run in-process by n8n's engine at the
 * reference size, as a ratio to the library's full sync (target: at most 1.2x). The workflow runs through the same
 * harness the workflow tests use (n8n-core's WorkflowExecute, our nodes as n8n loads them), in a fresh worker
 * process per run, so its peak RSS is its own. The workflow is pointed at materials only (materialsOnly), so both
 * sides sync exactly the same items.
 */
export const runN8nFullSync: ModuleStepFn | null = async ({ db, st }) => {
	const credentials = {
		pricebookDatabase: { connectionString: db, ssl: 'disable' },
		serviceTitanApi: { ...st, authUrl: st.authUrl ?? '', apiBaseUrl: st.apiBaseUrl ?? '' },
	};
	try {
		const run = await runWorkflow(materialsOnly(loadWorkflow(path.resolve(__dirname, '../../../workflows/pricebook-full-sync.json'))), {
			credentials,
			trigger: { node: 'Schedule', items: [{}] },
		});
		if (run.error) throw run.error;
		if (process.env.BENCH_N8N_NODES) {
			const per: Record<string, number> = {};
			for (const [name, tasks] of Object.entries(run.run.data.resultData.runData)) per[name] = tasks.reduce((s, t) => s + (t.executionTime ?? 0), 0);
			process.stderr.write(`N8N NODES ${JSON.stringify(per)}\n`);
		}
		const finished = run.outputs('Finish Sync Run (services, materials, equipment)').flatMap((o) => o[0].map((i) => i.json as unknown as RunResult));
		const materials = finished.find((r) => r.entityType === ENTITY);
		if (!materials) throw new Error('the workflow finished no materials run');
		return { result: { ...materials, kind: materials.kind } };
	} finally {
		await closeDatabase(credentials.pricebookDatabase);
		closeServiceTitanClients();
		shutdownN8n();
	}
};

/**
 * The shipped full-sync workflow doing the library case's work and no more: the schedule goes straight to the main
 * Start Sync Run node, which starts a materials run only. Every other node (the page loop, the staged steps, the
 * finish) is the workflow's own, so the ratio compares the two drivers on the same run.
 */
function materialsOnly(workflow: IWorkflowBase): IWorkflowBase {
	const main = 'Start Sync Run (services, materials, equipment)';
	const nodes = workflow.nodes.map((n) => (n.name === main ? { ...n, parameters: { ...n.parameters, entityTypes: [ENTITY] } } : n));
	if (!nodes.some((n) => n.name === main)) throw new Error(`the full-sync workflow has no node "${main}"`);
	const connections = { ...workflow.connections, Schedule: { main: [[{ node: main, type: NodeConnectionTypes.Main, index: 0 }]] } };
	return { ...workflow, nodes, connections };
}

export type N8nFigures =
	| { status: 'not measured yet'; why: string; target: string }
	| {
			status: 'measured';
			n: number;
			wallS: Spread;
			peakRssMb: Spread;
			libraryS: number;
			ratio: number;
			target: string;
	  };

export const N8N_TARGET = 'n8n path <= 1.2x the library path';

export async function measureN8nFullSync(ctx: BenchContext, library: { medianS: number }): Promise<N8nFigures> {
	if (!runN8nFullSync) {
		return { status: 'not measured yet', why: 'the in-process n8n workflow runner is not wired in yet (see bench/cases/n8n.ts)', target: N8N_TARGET };
	}
	const n = ctx.opts.referenceSize;
	const wall: number[] = [];
	const rss: number[] = [];
	for (let run = 1; run <= ctx.opts.runs(n); run++) {
		const sim = await startSim(ctx, n);
		const db = await ctx.dbs.create(`n8n${run}`);
		try {
			ctx.log(`n8n: full-sync workflow, ${n} ${ENTITY}, run ${run}`);
			const [step] = await runJob({
				db,
				st: sim.stConfig(),
				steps: [{ kind: 'module', label: 'n8n full sync', module: './cases/n8n.js', export: 'runN8nFullSync' }],
			});
			const result = step.result;
			if (result && (result.summary.newInST !== n || result.status !== 'succeeded'))
				throw new Error(`n8n full sync: expected ${n} new items, got ${JSON.stringify(result)}`);
			wall.push(step.ms / 1000);
			rss.push(step.maxRssKb / 1024);
		} finally {
			await sim.stop();
			await ctx.dbs.drop(db);
		}
	}
	const wallS = spread(wall);
	return {
		status: 'measured',
		n,
		wallS,
		peakRssMb: spread(rss, 1),
		libraryS: library.medianS,
		ratio: round(wallS.median / library.medianS, 2),
		target: N8N_TARGET,
	};
}
