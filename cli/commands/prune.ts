import { pruneChangeLog, retentionDaysOf } from '../../lib';
import { withResources } from '../resources';
import type { FlagSpec, ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

export const pruneCommand = {
	name: 'prune',
	summary: 'delete change-log entries older than CHANGE_LOG_RETENTION_DAYS (default 90), in batches; run it daily',
	usage: 'pricebook-sync prune [--json]',
	flags: { json: { type: 'boolean', description: 'print one JSON object' } } as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const retentionDays = retentionDaysOf(ctx.env);
		const result = await withResources(ctx, { command: 'prune', maxConnections: 2 }, ({ db }) => pruneChangeLog(db, { retentionDays }));
		if (args.flags.json) ctx.stdout(JSON.stringify(result));
		else
			ctx.stdout(
				`deleted ${result.deleted} change-log entries older than ${result.cutoff} (${retentionDays}-day retention); oldest kept: ${result.oldestKept ?? 'none'}`,
			);
		return ExitCode.ok;
	},
};
