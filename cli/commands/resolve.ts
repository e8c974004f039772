import { withMigratedDb } from '../database';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from '../../lib/sync/errors';
import { resolveConflict, RESOLUTIONS, type Resolution } from '../../lib/sync/resolve';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, requireDatabaseUrl, type CliContext, type ExitCodeValue } from '../context';
import { serviceTitanFromEnv } from './sync-runs';

export const resolveCommand = {
	name: 'resolve',
	summary: 'decide a conflict: use_st, use_local or merged (with --merged-data); records who decided',
	usage: "pricebook-sync resolve <conflictId> --resolution use_st|use_local|merged [--merged-data '<json>'] --by <user> [--json]",
	positionals: 'own',
	flags: {
		resolution: { type: 'string', valueName: RESOLUTIONS.join('|'), description: 'the decision' },
		'merged-data': { type: 'string', valueName: 'json', description: 'with merged: field values, e.g. \'{"price": 12.5}\'' },
		by: { type: 'string', valueName: 'user', description: 'who decided (recorded in the audit trail)' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [idText, extra] = args.positionals;
		if (!idText || extra !== undefined) throw new UsageError('expected one conflict id, e.g. pricebook-sync resolve 17 --resolution use_st --by ann');
		if (!/^\d{1,15}$/.test(idText) || Number(idText) <= 0) throw new UsageError(`conflict id must be a positive whole number (got ${JSON.stringify(idText)})`);
		const resolution = args.flags.resolution as string | undefined;
		if (!resolution) throw new UsageError(`--resolution is required (${RESOLUTIONS.join(', ')})`);
		if (!(RESOLUTIONS as readonly string[]).includes(resolution)) throw new UsageError(`--resolution must be one of ${RESOLUTIONS.join(', ')} (got ${JSON.stringify(resolution)})`);
		if (typeof args.flags.by !== 'string' || args.flags.by.trim() === '') throw new UsageError('--by is required: who decided');
		let mergedData: unknown;
		if (typeof args.flags['merged-data'] === 'string') {
			try {
				mergedData = JSON.parse(args.flags['merged-data']);
			} catch (error) {
				throw new UsageError(`--merged-data is not valid JSON: ${(error as Error).message}`);
			}
		}
		const st = serviceTitanFromEnv(ctx.env);
		const url = requireDatabaseUrl(ctx.env);
		try {
			const result = await withMigratedDb(url, 4, (db) =>
				resolveConflict({ db, st }, { conflictId: Number(idText), resolution: resolution as Resolution, mergedData, resolvedBy: args.flags.by as string, trigger: 'cli' }),
			);
			ctx.stdout(args.flags.json ? JSON.stringify(result) : result.message);
			return result.status === 'stale' ? ExitCode.busy : ExitCode.ok;
		} catch (error) {
			if (error instanceof SyncValidationError) throw new UsageError(`${error.message} (field ${error.field})`);
			if (error instanceof SyncNotFoundError) {
				ctx.stderr(`pricebook-sync resolve: ${error.message}`);
				return ExitCode.failure;
			}
			if (error instanceof SyncStateError) {
				ctx.stderr(`pricebook-sync resolve: ${error.message}`);
				return error.reason === 'busy' ? ExitCode.busy : ExitCode.failure;
			}
			throw error;
		}
	},
};
