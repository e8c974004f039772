import { entityIdOf, entityTypeOf, resolvedByOf, retryHeldPushes } from '../../lib';
import { withResources } from '../resources';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

export const retryPushCommand = {
	name: 'retry-push',
	summary: 'send held edits again (after fixing why ServiceTitan did not take them); the next run pushes and verifies them',
	usage: 'pricebook-sync retry-push <entity> <id>... | --all --by <user> [--json]',
	positionals: 'own',
	flags: {
		all: { type: 'boolean', description: 'every held edit of the entity type' },
		by: { type: 'string', valueName: 'user', description: 'who asked (recorded in the change log)' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [entityText, ...idTexts] = args.positionals;
		if (!entityText) throw new UsageError('expected an entity type and ids (or --all), e.g. pricebook-sync retry-push materials 1042 --by ann');
		const entityType = entityTypeOf(entityText, 'entityType', 'entity type');
		const all = args.flags.all === true;
		if (all ? idTexts.length > 0 : idTexts.length === 0) throw new UsageError('give the ids of the rows to retry, or --all (not both)');
		const ids = idTexts.map((id) => entityIdOf(id, 'id', 'id'));
		const requestedBy = resolvedByOf(args.flags.by, 'requestedBy', '--by');
		const result = await withResources(ctx, { command: 'retry-push', maxConnections: 2 }, ({ db }) =>
			retryHeldPushes({ db }, { entityType, ids, all, requestedBy }),
		);
		if (args.flags.json) ctx.stdout(JSON.stringify(result));
		else {
			ctx.stdout(result.message);
			for (const r of result.released) ctx.stdout(`  ${entityType} ${r.id}: ${r.fields.join(', ')} (was: ${r.reason ?? 'held'})`);
		}
		return ExitCode.ok;
	},
};
