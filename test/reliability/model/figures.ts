import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** What the model-based suite did, for the report `npm run test:reliability` prints. */
export interface Figures {
	scenarios: number;
	/** Steps taken, by kind (each followed by a check of every invariant). */
	steps: Record<string, number>;
	stEdits: number;
	/** ServiceTitan's clock jumping ahead for an edit, or stepping back. */
	clockSteps: number;
	stDeletes: number;
	stCreates: number;
	localEdits: number;
	vendorEdits: number;
	runs: Record<string, number>;
	/** Runs by driver ('library', 'n8n'), then by how they ended (an n8n run can also end with a failed step). */
	runsByDriver: Record<string, Record<string, number>>;
	crashes: number;
	/** n8n steps run a second time (a retried node), by step; each changed nothing. */
	stepReruns: Record<string, number>;
	/** Runs that took over the lease of an n8n execution that had died holding it. */
	leaseTakeovers: number;
	/** Faults the simulator injected, by kind (HTTP status, timeout, reset, malformed body). */
	faults: Record<string, number>;
	/** Runs that had a fault plan, by plan. */
	faultPlans: Record<string, number>;
	resolutions: Record<string, number>;
	/** PATCH behaviours drawn (per run, or per resolution), by name: what ServiceTitan did with the PATCHes. */
	patchBehaviours: Record<string, number>;
	/** What became of each push of a sync run, as its row shows after the run: landed, normalized, held, ... */
	pushes: Record<string, number>;
	/** Edits that landed while a push was under way: another ServiceTitan user's, a Retool edit of the row. */
	duringPush: Record<string, number>;
	/** A person's rows in Retool: inserts (held or not, vendor prices, the after-save run), soft deletes, reactivations, malformed values. */
	retool: Record<string, number>;
	/** Held edits a person retried (push_refused cleared) before the closing full sync. */
	heldRetried: number;
	/** Undo steps by path and outcome (refused as ..., restored fields, nothing to restore), and INV-24's checks. */
	undos: Record<string, number>;
	/** Fields INV-24 found back exactly on both sides after an undo of a run nothing touched since. */
	exactUndoFields: number;
	invariantChecks: number;
	idempotentReruns: number;
	converged: number;
}

export function emptyFigures(): Figures {
	return {
		scenarios: 0,
		steps: {},
		stEdits: 0,
		clockSteps: 0,
		stDeletes: 0,
		stCreates: 0,
		localEdits: 0,
		vendorEdits: 0,
		runs: {},
		runsByDriver: {},
		crashes: 0,
		stepReruns: {},
		leaseTakeovers: 0,
		faults: {},
		faultPlans: {},
		resolutions: {},
		patchBehaviours: {},
		pushes: {},
		duringPush: {},
		retool: {},
		heldRetried: 0,
		undos: {},
		exactUndoFields: 0,
		invariantChecks: 0,
		idempotentReruns: 0,
		converged: 0,
	};
}

export function addCounts(into: Record<string, number>, from: Record<string, number>): void {
	for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Adds one lane's figures to the total. */
export function addFigures(into: Figures, from: Figures): void {
	for (const key of [
		'scenarios',
		'stEdits',
		'clockSteps',
		'stDeletes',
		'stCreates',
		'localEdits',
		'vendorEdits',
		'crashes',
		'leaseTakeovers',
		'invariantChecks',
		'idempotentReruns',
		'converged',
		'heldRetried',
		'exactUndoFields',
	] as const)
		into[key] += from[key];
	for (const key of [
		'steps',
		'runs',
		'faults',
		'faultPlans',
		'resolutions',
		'stepReruns',
		'patchBehaviours',
		'pushes',
		'duringPush',
		'retool',
		'undos',
	] as const)
		addCounts(into[key], from[key]);
	for (const [driver, runs] of Object.entries(from.runsByDriver)) addCounts((into.runsByDriver[driver] ??= {}), runs);
}

/**
 * Hands a suite's figures to the report: one JSON file per suite in RELIABILITY_FIGURES_DIR (set by
 * test/reliability/run.mjs). Without it (a plain jest run) the figures are only printed by jest's summary.
 */
export function publishFigures(suite: string, figures: object): void {
	const dir = process.env.RELIABILITY_FIGURES_DIR;
	if (!dir) return;
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, `${suite}.json`), JSON.stringify(figures, null, 2));
}
