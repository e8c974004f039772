import { withResources } from '../resources';
import { positiveIdOf, resolvedByOf, retentionDaysOf, undoRun, type UndoResult } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';

export const undoCommand = {
	name: 'undo',
	summary: 'undo a sync run or a resolution on both sides (fields changed since are kept and listed); --dry-run shows every field first',
	usage: 'pricebook-sync undo <runId> --by <user> [--dry-run] [--json]',
	positionals: 'own',
	flags: {
		by: { type: 'string', valueName: 'user', description: 'who undoes the run (recorded with the undo run)' },
		'dry-run': { type: 'boolean', description: 'list per item and field: now -> after undo, and what would be skipped; write nothing' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [idText, extra] = args.positionals;
		if (!idText || extra !== undefined)
			throw new UsageError('expected one run id, e.g. pricebook-sync undo 42 --dry-run --by ann (pricebook-sync logs lists the runs)');
		const runId = positiveIdOf(idText, 'runId', 'run id');
		const by = resolvedByOf(args.flags.by, 'by', '--by');
		// The change log's retention window: prune deletes what undo would read beyond it, so one setting rules both.
		const retentionDays = retentionDaysOf(ctx.env);
		// Refusals (unknown run, still running, already undone, older than the window) are thrown: main turns their kind into the exit code.
		const result = await withResources(ctx, { command: 'undo', maxConnections: 4, serviceTitan: true }, ({ db, st }) =>
			undoRun({ db, st: st!, retentionDays }, { runId, by, dryRun: Boolean(args.flags['dry-run']), trigger: 'cli' }),
		);
		ctx.stdout(args.flags.json ? JSON.stringify(result) : describeUndo(result));
		return result.failureKind ? exitCodeFor(result.failureKind) : ExitCode.ok;
	},
};

/** The plan or outcome, one line per field: restored (now -> after undo) or skipped, with the reason. */
export function describeUndo(r: UndoResult): string {
	const lines = [r.runId !== null ? `${r.message} (undo run ${r.runId})` : r.message, ...fieldLines(r.entityType, r.items)];
	if (r.dryRun && r.fieldsRestored > 0) lines.push(`Nothing was changed. To carry it out: pricebook-sync undo ${r.undoes} --by <user>`);
	return lines.join('\n');
}

/** One line per field of each item: restored (now -> after) or skipped, with the reason. Undo and restore print the same. */
export function fieldLines(entityType: string, items: UndoResult['items']): string[] {
	const lines: string[] = [];
	const show = (v: unknown) => (v === null || v === undefined ? 'empty' : JSON.stringify(v));
	for (const item of items) {
		for (const f of item.restore)
			lines.push(`  ${entityType} ${item.entityId} ${f.field}${f.side ? ` (${f.side})` : ''}: ${show(f.now)} -> ${show(f.afterUndo)}`);
		for (const s of item.skipped) lines.push(`  ${entityType} ${item.entityId}${s.field ? ` ${s.field}` : ''}: skipped, ${s.reason}`);
	}
	return lines;
}
