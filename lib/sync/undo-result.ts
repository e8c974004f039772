import { finishRun, type RunRow } from '../db/ledger';
import type { Task } from '../db/pricebook-store';
import type { FailureKind } from '../failures';
import type { Tally } from './tally';
import type { ItemPlan } from './undo-plan';

/** What an undo and a restore both answer: their own run, how it ended, and the counts of what it did. */
export interface RestoreOutcome {
	/** The operation's own run (null for a dry run, which writes nothing); `pricebook-sync undo <runId>` takes it back. */
	runId: number | null;
	dryRun: boolean;
	success: boolean;
	status: 'succeeded' | 'failed' | 'planned';
	fieldsRestored: number;
	fieldsSkipped: number;
	itemsPushed: number;
	conflictsDetected: number;
	errors: number;
	message: string;
	failureKind?: FailureKind;
}

/** What an undo answers (CLI, webhook): the same for a sync run's undo and a resolution's. */
export interface UndoResult extends RestoreOutcome {
	/** The run undone. */
	undoes: number;
	entityType: string;
	/** Per item the run changed: the fields restored (now -> after undo) and what was skipped and why. */
	items: ItemPlan[];
}

export function counts(plans: readonly ItemPlan[]) {
	return {
		fieldsRestored: plans.reduce((n, p) => n + p.restore.length, 0),
		fieldsSkipped: plans.reduce((n, p) => n + p.skipped.length, 0),
	};
}

export async function finish(
	t: Task,
	runId: number,
	status: 'succeeded' | 'failed',
	error: string | null,
	r: Pick<UndoResult, 'undoes' | 'fieldsRestored' | 'fieldsSkipped' | 'items'>,
	tally: Tally,
	at: Date,
): Promise<void> {
	const skipped = r.items.flatMap((p) => p.skipped.map((s) => ({ entityId: p.entityId, ...s })));
	await finishRun(
		t,
		runId,
		{ status, error, details: { undoes: r.undoes, fieldsRestored: r.fieldsRestored, fieldsSkipped: r.fieldsSkipped, skipped: skipped.slice(0, 1000) } },
		tally.progress(),
		at,
	);
}

export function describe(target: RunRow, r: Pick<UndoResult, 'items' | 'fieldsRestored' | 'fieldsSkipped'>, dryRun: boolean): string {
	const items = r.items.filter((p) => p.restore.length > 0).length;
	const partial = target.status === 'failed' ? ` (run ${target.id} failed part-way; what it had changed is undone)` : '';
	const verb = dryRun ? 'would restore' : 'restored';
	return `undo of ${target.kind} run ${target.id} (${target.entity_type})${partial}: ${verb} ${r.fieldsRestored} field(s) of ${items} item(s); ${r.fieldsSkipped} skipped`;
}
