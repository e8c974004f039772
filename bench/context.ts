import type { BenchDatabases } from './db';
import type { BenchOptions } from './options';
import type { SimCounts, SimulatorOptions } from '../sim';
import { SimProcess } from './sim-handle';

export interface BenchContext {
	opts: BenchOptions;
	dbs: BenchDatabases;
	log: (line: string) => void;
}

/** The entity every case syncs: the pricebook's biggest type. */
export const ENTITY = 'materials' as const;
export const TABLE = 'pricebook_materials';

/**
 * A simulator process holding `n` materials (and a few of the other types, which no case syncs unless it asks for
 * more in `counts`), seeded, at the configured latency, with any further `faults`. ServiceTitan's listing quirks
 * stay at their defaults (id order, page drift).
 */
export async function startSim(
	ctx: BenchContext,
	n: number,
	more: { counts?: Partial<SimCounts>; faults?: SimulatorOptions['faults'] } = {},
): Promise<SimProcess> {
	const sim = await SimProcess.start({
		seed: ctx.opts.seed,
		counts: { materials: n, equipment: 10, services: 10, categories: 40, ...more.counts },
		faults: { latencyMs: ctx.opts.latencyMs, ...more.faults },
	});
	if (sim.ready.counts.materials !== n) throw new Error(`the simulator holds ${sim.ready.counts.materials} materials, not ${n}`);
	return sim;
}

export const seconds = (ms: number): number => ms / 1000;
