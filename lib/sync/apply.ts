import { markEngineWrites } from '../db/engine-session';
import { MAX_IDS_PER_REQUEST } from '../servicetitan/client';
import type { Decision } from './categorize';
import { decideItems, type Pending, type PlannedDecision } from './decide';
import { prepareStItems, type StItem } from './prepare';
import { pushAll } from './push';
import type { RunScope } from './scope';
import { clearStaleUnreadableMarks, recordUnreadable, UNREADABLE_VALUE, unloggedCount } from './unreadable';
import { applyDecisions } from './write';

export type { RunScope } from './scope';
export type { StItem } from './prepare';

/**
 * Which decisions a call carries out: all of them (one process), or, as n8n's Apply Changes and Store Conflicts
 * nodes do, the changes (create, update, soft-delete, push) and the conflicts separately.
 */
export type BatchPhase = 'all' | 'changes' | 'conflicts';

const CONFLICT_ACTIONS: ReadonlySet<Decision['action']> = new Set(['conflict', 'refresh_conflict', 'keep_conflict']);

export function isConflictDecision(decision: Decision): boolean {
	return CONFLICT_ACTIONS.has(decision.action);
}

function inPhase(decision: Decision, phase: BatchPhase): boolean {
	return phase === 'all' || isConflictDecision(decision) === (phase === 'conflicts');
}

export interface BatchOptions {
	phase?: BatchPhase;
	/** Decisions made earlier (n8n's Categorize Changes); items whose row moved since are decided again. */
	plan?: ReadonlyMap<number, PlannedDecision>;
	/** Collects the ids left to the other phase. */
	outOfPhase?: number[];
	/** False: decide and write, but leave pushes for the next run (a re-decision right after a push). */
	push?: boolean;
}

/**
 * Decides and applies one batch of items (a page of a listing, the re-read of pending rows, one entity, or the
 * ids a full listing no longer returned). `st: null` means ServiceTitan no longer has the item. A constant number
 * of statements per batch; rows a person edited between read and write are decided again (up to three times;
 * after that they simply stay pending for the next run). Counts what it applied in the scope's tally.
 */
export async function processBatch(scope: RunScope, items: readonly { id: number; st: StItem | null }[], options: BatchOptions = {}): Promise<void> {
	const phase = options.phase ?? 'all';
	if (items.length === 0) return;
	const stById = new Map(items.map((i) => [i.id, i.st]));
	let ids = items.map((i) => i.id);
	let plan = options.plan;
	const pushes: Pending[] = [];
	for (let attempt = 0; attempt < 3 && ids.length > 0; attempt++) {
		const { pending: decided, unreadable } = await decideItems(
			scope,
			ids.map((id) => ({ id, st: stById.get(id) ?? null })),
			plan,
		);
		// A plan serves the first attempt only: a retry exists because the row moved.
		plan = undefined;
		const pending = decided.filter((p) => {
			if (inPhase(p.decision, phase)) return true;
			options.outOfPhase?.push(p.decision.id);
			return false;
		});
		if (scope.dryRun) {
			for (const p of pending) scope.tally.count(p.decision);
			scope.tally.errors += unloggedCount(unreadable);
			return;
		}
		// Nothing to write (every item as it was, nothing unreadable, no mark to clear): no transaction. An unchanged
		// re-run and a single-entity sync of an unchanged item spent three round trips per page on an empty one.
		const clears = pending.filter((p) => p.decision.action !== 'push' && p.local?.pushError?.startsWith(UNREADABLE_VALUE));
		if (unreadable.length === 0 && clears.length === 0 && pending.every((p) => p.decision.action === 'none')) {
			for (const p of pending) scope.tally.count(p.decision);
			ids = [];
			continue;
		}
		const { retry, logged } = await scope.t.tx('apply-batch', async (tx) => {
			await markEngineWrites(tx);
			const missed = await applyDecisions(scope, tx, pending);
			const marks = await recordUnreadable(scope, tx, unreadable);
			// A row marked unreadable that reads again was corrected: its mark goes (a push clears it when it lands,
			// and clearing it here would move the row version the push compares).
			const missedSet = new Set(missed);
			await clearStaleUnreadableMarks(
				tx,
				scope.def.table,
				pending
					.filter((p) => p.decision.action !== 'push' && !missedSet.has(p.decision.id) && p.local?.pushError?.startsWith(UNREADABLE_VALUE))
					.map((p) => p.decision.id),
			);
			return { retry: [...missed, ...marks.moved], logged: marks.logged };
		});
		scope.tally.errors += logged;
		const retrySet = new Set(retry);
		for (const p of pending) {
			if (retrySet.has(p.decision.id)) continue;
			scope.tally.count(p.decision);
			if (p.decision.action === 'push') pushes.push(p);
		}
		ids = retry;
	}
	if (ids.length > 0) scope.log('info', `${ids.length} ${scope.def.type} row(s) kept changing during the run; the next run picks them up`, { ids });
	if (options.push !== false) await pushAll(scope, pushes);
}

export interface LookupOutcome {
	/** How many of the ids ServiceTitan returned. */
	found: number;
	/** The ids it did not return (gone there), when the caller applies them itself. */
	missing: number[];
}

/**
 * Re-reads items by id (50 per call) and applies what ServiceTitan returned. An id it does not return is gone
 * there: applied at once, or, with `deferMissing`, handed back so the caller can weigh them first (the sweep's
 * mass-delete guard counts only what a look-up confirmed missing).
 */
export async function processByIdLookup(scope: RunScope, ids: readonly number[], options: { deferMissing?: boolean } = {}): Promise<LookupOutcome> {
	const outcome: LookupOutcome = { found: 0, missing: [] };
	for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
		const chunk = ids.slice(i, i + MAX_IDS_PER_REQUEST);
		const records = await scope.st.getByIds(scope.def.type, chunk);
		const items = await prepareStItems(scope, records);
		const byId = new Map(items.map((it) => [it.id, it]));
		const returned = new Set(records.map((r) => (r as { id?: unknown }).id));
		outcome.found += chunk.filter((id) => returned.has(id)).length;
		const missing = chunk.filter((id) => !returned.has(id));
		if (options.deferMissing) outcome.missing.push(...missing);
		// Returned but invalid: skipped (and logged), never taken for a delete.
		const apply = chunk.filter((id) => byId.has(id) || (!options.deferMissing && !returned.has(id)));
		await processBatch(
			scope,
			apply.map((id) => ({ id, st: byId.get(id) ?? null })),
		);
	}
	return outcome;
}
