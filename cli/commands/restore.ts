import { withResources } from '../resources';
import { entityIdOf, entityTypeOf, isoTimeOf, positiveIdOf, resolvedByOf, restoreItem, retentionDaysOf, type RestoreResult } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';
import { fieldLines } from './undo';

export const restoreCommand = {
	name: 'restore',
	summary:
		'bring one item back to an earlier state on both sides: --at <time>, or --change <id> to take back that change and every later one of the item; --dry-run shows every field first',
	usage: 'pricebook-sync restore <entity> <id> --at <time>|--change <changeId> --by <user> [--dry-run] [--json]',
	positionals: 'own',
	flags: {
		at: { type: 'string', valueName: 'time', description: 'restore the values the item had at this ISO time, e.g. 2024-12-10T10:00:00Z' },
		change: {
			type: 'string',
			valueName: 'changeId',
			description: 'restore the values from just before this change (`pricebook-sync history` lists the ids): it and every later change are taken back',
		},
		by: { type: 'string', valueName: 'user', description: 'who restores the item (recorded with the restore run)' },
		'dry-run': { type: 'boolean', description: 'list per field: now -> after restore, and what would be skipped; write nothing' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [entityText, idText, extra] = args.positionals;
		if (!entityText || !idText)
			throw new UsageError('expected an entity type and an id, e.g. pricebook-sync restore materials 1042 --change 812 --dry-run --by ann');
		if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
		const entityType = entityTypeOf(entityText, 'entityType', 'entity type');
		const entityId = entityIdOf(idText, 'id', 'id');
		const { at, change } = args.flags;
		if ((at === undefined) === (change === undefined))
			throw new UsageError('give either --at <time> or --change <changeId> (pricebook-sync history lists the change ids)');
		const point = at !== undefined ? { at: isoTimeOf(at, 'at', '--at') } : { changeId: positiveIdOf(change, 'change', '--change') };
		const by = resolvedByOf(args.flags.by, 'by', '--by');
		// The change log's retention window: restore does not reach past what prune may have deleted.
		const retentionDays = retentionDaysOf(ctx.env);
		// Refusals (unknown change, another item's, beyond the window) are thrown: main turns their kind into the exit code.
		const result = await withResources(ctx, { command: 'restore', maxConnections: 4, serviceTitan: true }, ({ db, st }) =>
			restoreItem({ db, st: st!, retentionDays }, { entityType, entityId, ...point, by, dryRun: Boolean(args.flags['dry-run']), trigger: 'cli' }),
		);
		ctx.stdout(args.flags.json ? JSON.stringify(result) : describeRestore(result, args));
		return result.failureKind ? exitCodeFor(result.failureKind) : ExitCode.ok;
	},
};

/** The plan or outcome, one line per field, and how to carry out or take back what was shown. */
function describeRestore(r: RestoreResult, args: ParsedArgs): string {
	const lines = [r.runId !== null ? `${r.message} (restore run ${r.runId})` : r.message, ...fieldLines(r.entityType, [r.item])];
	const point = r.at !== null ? `--at ${String(args.flags.at)}` : `--change ${r.changeId}`;
	if (r.dryRun && r.fieldsRestored > 0)
		lines.push(`Nothing was changed. To carry it out: pricebook-sync restore ${r.entityType} ${r.entityId} ${point} --by <user>`);
	if (r.runId !== null && r.fieldsRestored > 0) lines.push(`To take it back: pricebook-sync undo ${r.runId} --by <user>`);
	return lines.join('\n');
}
