import { withResources } from '../resources';
import { jsonOf, positiveIdOf, resolutionOf, resolvedByOf, resolveConflict, RESOLUTIONS } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';

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
		const conflictId = positiveIdOf(idText, 'id', 'conflict id');
		if (args.flags.resolution === undefined) throw new UsageError(`--resolution is required (${RESOLUTIONS.join(', ')})`);
		const resolution = resolutionOf(args.flags.resolution, 'resolution', '--resolution');
		const resolvedBy = resolvedByOf(args.flags.by, 'resolvedBy', '--by');
		const mergedData = args.flags['merged-data'] === undefined ? undefined : jsonOf(args.flags['merged-data'], 'mergedData', '--merged-data');
		// Refusals (unknown conflict, busy, gone in ServiceTitan, bad merged values) are thrown: main turns their kind into the exit code.
		const result = await withResources(ctx, { command: 'resolve', maxConnections: 4, serviceTitan: true }, ({ db, st }) =>
			resolveConflict({ db, st: st! }, { conflictId, resolution, mergedData, resolvedBy, trigger: 'cli' }),
		);
		ctx.stdout(args.flags.json ? JSON.stringify(result) : result.message);
		return result.status === 'stale' ? exitCodeFor('stale') : ExitCode.ok;
	},
};
