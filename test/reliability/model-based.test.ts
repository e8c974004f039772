import fc from 'fast-check';
import { entityDefinition } from '../../lib/entities/definitions';
import { RESOLUTIONS } from '../../lib/sync/resolve';
import { commandArbitraries, tenantPatchArbitrary, tenantPatchNames, type Real } from './model/commands';
import { converge } from './model/converge';
import { DRIVERS } from './model/drivers';
import { addFigures, emptyFigures, publishFigures, type Figures } from './model/figures';
import { EDITABLE, Reference } from './model/reference';
import { undoArbitraries } from './model/undo-step';
import { openLane, openWorld, type Lane } from './model/world';

/**
 * Model-based, fault-injected scenarios against the real engine, a real PostgreSQL and the simulator over HTTP
 * (DESIGN.md's invariants, checked after every step). Every full or incremental run draws its driver: the
 * library's (SyncEngine.run, as the CLI) or n8n's (the staged step functions the step nodes call, one per node;
 * a step may run twice, an execution may die and leave its lease), so one scenario mixes both. Sizes and seeds come from the environment, so the same
 * file is CI's quick run, an operator's soak and a replay of a failure:
 *   RELIABILITY_SCENARIOS (default 1000), RELIABILITY_LANES (parallel workers, default 6),
 *   RELIABILITY_SEED (default fixed, so CI runs the same scenarios every time; lane i uses seed + i), and
 *   RELIABILITY_SEED + RELIABILITY_PATH (+ RELIABILITY_REPLAY_COMMANDS, the replayPath in the counterexample)
 *   together replay one failure as fast-check printed it.
 */
function setting(name: string, fallback: number): number {
	const text = process.env[name] ?? String(fallback);
	if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new Error(`${name} must be a positive whole number (got ${JSON.stringify(text)})`);
	return Number(text);
}
const SCENARIOS = setting('RELIABILITY_SCENARIOS', 1000);
const LANES = Math.min(setting('RELIABILITY_LANES', 6), SCENARIOS);
const SEED = setting('RELIABILITY_SEED', 20261125);
const REPLAY_PATH = process.env.RELIABILITY_PATH;
/** The steps' own replay path, printed in the counterexample as replayPath="...". */
const REPLAY_COMMANDS = process.env.RELIABILITY_REPLAY_COMMANDS;
/** RELIABILITY_NO_SHRINK=1: report the first failing scenario as drawn (shrinking a long one can take 20 minutes). */
const NO_SHRINK = process.env.RELIABILITY_NO_SHRINK === '1';
jest.setTimeout(4 * 3600_000);

const scenario = fc.constantFrom('materials' as const, 'services' as const).chain((entity) =>
	fc.record({
		entity: fc.constant(entity),
		count: fc.integer({ min: 2, max: 8 }),
		pageSize: fc.constantFrom(2, 3, 50),
		simSeed: fc.nat(),
		/** What this tenant's ServiceTitan does with every PATCH (normalize, ignore fields), until converge(). */
		tenant: tenantPatchArbitrary(EDITABLE[entity]),
		commands: fc.commands([...commandArbitraries(EDITABLE[entity]), ...undoArbitraries()], {
			maxCommands: 40,
			size: 'max',
			...(REPLAY_COMMANDS ? { replayPath: REPLAY_COMMANDS } : {}),
		}),
		decisions: fc.array(fc.constantFrom(...RESOLUTIONS), { minLength: 1, maxLength: 4 }),
		/** The driver of the closing full syncs. */
		convergeDriver: fc.constantFrom(...DRIVERS),
	}),
);

async function runLane(lane: Lane, laneIndex: number, runs: number, figures: Figures): Promise<void> {
	const property = fc.asyncProperty(scenario, async (s) => {
		const world = await openWorld(lane, { seed: s.simSeed, entity: s.entity, count: s.count, pageSize: s.pageSize });
		const real: Real = { world, figures, ...(s.tenant ? { tenant: s.tenant } : {}) };
		for (const name of tenantPatchNames(s.tenant)) figures.patchBehaviours[`${name} (tenant)`] = (figures.patchBehaviours[`${name} (tenant)`] ?? 0) + 1;
		const reference = new Reference(entityDefinition(s.entity), EDITABLE[s.entity]);
		try {
			await fc.asyncModelRun(() => ({ model: reference, real }), s.commands);
			await converge(reference, real, s.decisions, s.convergeDriver);
			figures.scenarios += 1;
		} finally {
			for (const entry of world.sim.control.requests) {
				const kind = entry.fault === 'status' || entry.fault === 'rate_limit' ? `HTTP ${entry.status}` : entry.fault;
				if (kind) figures.faults[kind] = (figures.faults[kind] ?? 0) + 1;
			}
			await world.close();
		}
	});
	// On failure fast-check shrinks the scenario and its message carries the seed, the path and the steps.
	await fc.assert(property, { seed: SEED + laneIndex, endOnFailure: NO_SHRINK, ...(REPLAY_PATH ? { path: REPLAY_PATH, numRuns: 1 } : { numRuns: runs }) });
}

/** fast-check's message names the counterexample; the invariant broken is its cause (an Error's `cause`). */
function failureText(reason: unknown): string {
	if (!(reason instanceof Error)) return String(reason);
	const cause = reason.cause instanceof Error ? `\n\nCause: ${reason.cause.message}` : '';
	return `${reason.message}${cause}`;
}

describe('model-based scenarios: generated edits, runs, resolutions, faults and crashes', () => {
	const total = emptyFigures();
	afterAll(() => publishFigures('model-based', { seed: SEED, lanes: LANES, ...total }));

	it(`${SCENARIOS} scenarios keep every invariant after every step and converge`, async () => {
		const started = Date.now();
		const lanes = await Promise.all(Array.from({ length: LANES }, () => openLane()));
		const perLane = lanes.map((_, i) => Math.floor(SCENARIOS / LANES) + (i < SCENARIOS % LANES ? 1 : 0));
		const laneFigures = lanes.map(() => emptyFigures());
		try {
			// A replay runs the one failing lane's seed; otherwise every lane runs its share with its own seed. Every lane
			// runs to its end and all counterexamples are reported, so one CI run shows every lane that failed.
			const outcomes = await Promise.allSettled(
				lanes.map((lane, i) => (REPLAY_PATH && i > 0 ? undefined : runLane(lane, i, perLane[i], laneFigures[i]))),
			);
			const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`lane ${i} (seed ${SEED + i}):\n${failureText(o.reason)}`] : []));
			if (failed.length > 0) throw new Error(`${failed.length} of ${lanes.length} lanes failed\n\n${failed.join('\n\n')}`);
		} finally {
			await Promise.all(lanes.map((lane) => lane.close()));
			for (const f of laneFigures) addFigures(total, f);
			Object.assign(total, { seconds: Math.round((Date.now() - started) / 1000) });
		}
		expect(total.scenarios).toBe(REPLAY_PATH ? 1 : SCENARIOS);
		expect(total.converged).toBe(total.scenarios);
	});
});
