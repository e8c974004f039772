import { runJob } from '../child';
import { ENTITY, startSim, type BenchContext } from '../context';
import { round, spread, type Spread } from '../stats';
import type { ModuleStepFn } from '../worker';

/**
 * Case 6: the full-sync workflow (workflows/pricebook-full-sync.json) run in-process by n8n's engine at the
 * reference size, as a ratio to the library's full sync (target: at most 2x).
 *
 * NOT MEASURED YET: the in-process n8n runner (test/support/n8n-harness.ts) is being built. The benchmark prints
 * `"n8n": { "status": "not measured yet" }` and never a figure until this file says how to run the workflow.
 *
 * To plug it in, replace `runN8nFullSync` below with the function that runs the workflow once against the given
 * database and simulator (it runs in a fresh worker process, so its peak RSS is its own), e.g.:
 *
 *   export const runN8nFullSync: ModuleStepFn | null = async ({ db, st }) => {
 *     const run = await runWorkflow(loadWorkflow('workflows/pricebook-full-sync.json'), {
 *       credentials: { pricebookDatabase: { connectionString: db }, serviceTitanApi: { ...st } },  // whatever the harness takes
 *     });
 *     // Return the run's summary for materials if the workflow reports one: the case then checks it (N new items).
 *     return { result: { status: 'succeeded', kind: 'full', summary, itemsSynced, itemsPushed: 0, errors: 0 } };
 *   };
 *
 * Nothing else needs to change: `measureN8nFullSync` (called by run.ts with the library's median) starts a fresh
 * simulator and database per run, runs the step `runs` times, checks the result when one is returned, and
 * reports the median wall time, the peak RSS and the ratio to the library path. The simulator holds only a few
 * categories, services and equipment (see startSim), so a workflow that syncs every type still times materials.
 */
export const runN8nFullSync: ModuleStepFn | null = null;

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

export const N8N_TARGET = 'n8n path <= 2x the library path';

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
			const [step] = await runJob({ db, st: sim.stConfig(), steps: [{ kind: 'module', label: 'n8n full sync', module: './cases/n8n.js', export: 'runN8nFullSync' }] });
			const result = step.result;
			if (result && (result.summary.newInST !== n || result.status !== 'succeeded')) throw new Error(`n8n full sync: expected ${n} new items, got ${JSON.stringify(result)}`);
			wall.push(step.ms / 1000);
			rss.push(step.maxRssKb / 1024);
		} finally {
			await sim.stop();
			await ctx.dbs.drop(db);
		}
	}
	const wallS = spread(wall);
	return { status: 'measured', n, wallS, peakRssMb: spread(rss, 1), libraryS: library.medianS, ratio: round(wallS.median / library.medianS, 2), target: N8N_TARGET };
}
