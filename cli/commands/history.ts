import { entityIdOf, entityTypeOf, itemHistory, retentionDaysOf, type ItemHistory } from '../../lib';
import { withResources } from '../resources';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

const value = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));

/** Human output: one line per change, then one line per changed field. (main.ts escapes control characters.) */
function printHistory(h: ItemHistory, retentionDays: number, ctx: CliContext): void {
	const alias = h.temporaryId !== null ? ` (created in Retool as ${h.temporaryId})` : '';
	if (h.entries.length === 0) ctx.stdout(`${h.entityType} ${h.entityId}${alias}: no changes recorded in the last ${retentionDays} days`);
	else ctx.stdout(`${h.entityType} ${h.entityId}${alias}: ${h.entries.length} change(s), oldest first`);
	for (const e of h.entries) {
		const run = e.runId === null ? 'no run' : `run ${e.runId} (${e.runKind ?? 'unknown'}, ${e.trigger ?? 'unknown'})`;
		ctx.stdout(`${e.changedAt} ${e.action} by ${e.changedBy ?? e.trigger ?? 'unknown'}, ${run}, change ${e.changeId}`);
		for (const [field, f] of Object.entries(e.fields)) ctx.stdout(`  ${field}: ${value(f.before)} -> ${value(f.after)}`);
	}
	ctx.stdout(`(changes older than ${retentionDays} days are pruned: CHANGE_LOG_RETENTION_DAYS)`);
}

export const historyCommand = {
	name: 'history',
	summary: 'show every recorded change of one item: run, time, who, and each changed field before and after',
	usage: 'pricebook-sync history <entity> <id> [--json]',
	positionals: 'own',
	flags: { json: { type: 'boolean', description: 'print one JSON object' } } as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [entityText, idText, extra] = args.positionals;
		if (!entityText || !idText) throw new UsageError('expected an entity type and an id, e.g. pricebook-sync history materials 1042');
		if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
		const entityType = entityTypeOf(entityText, 'entityType', 'entity type');
		const id = entityIdOf(idText, 'id', 'id');
		const retentionDays = retentionDaysOf(ctx.env);
		const history = await withResources(ctx, { command: 'history', maxConnections: 2 }, ({ db }) => itemHistory(db, entityType, id));
		if (args.flags.json) ctx.stdout(JSON.stringify({ ...history, retentionDays }));
		else printHistory(history, retentionDays, ctx);
		return ExitCode.ok;
	},
};
