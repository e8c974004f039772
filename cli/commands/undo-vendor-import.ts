import { positiveIdOf, resolvedByOf, retentionDaysOf, undoVendorImport, type VendorUndoLine } from '../../lib';
import { withResources } from '../resources';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

const price = (p: string | null): string => p ?? 'empty';
const describe = (l: VendorUndoLine): string => `${l.vendor} ${l.vendorSku} (material ${l.materialId ?? 'none'}): ${price(l.now)} -> ${price(l.after)}`;

export const undoVendorImportCommand = {
	name: 'undo-vendor-import',
	summary: 'set the prices a vendor price import changed back, except those changed since; recorded as a run',
	usage: 'pricebook-sync undo-vendor-import <run id> --by <user> [--dry-run] [--json]',
	positionals: 'own',
	flags: {
		by: { type: 'string', valueName: 'user', description: 'who asks for the undo (recorded with the run)' },
		'dry-run': { type: 'boolean', description: 'list what would change, change nothing' },
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [runText, extra] = args.positionals;
		if (!runText)
			throw new UsageError('expected the run id of the import, e.g. pricebook-sync undo-vendor-import 812 --by ann (find it with pricebook-sync logs)');
		if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
		const runId = positiveIdOf(runText, 'runId', 'run id');
		const by = resolvedByOf(args.flags.by, 'by', '--by');
		const dryRun = args.flags['dry-run'] === true;
		const retentionDays = retentionDaysOf(ctx.env);
		const result = await withResources(ctx, { command: 'undo-vendor-import', maxConnections: 2 }, ({ db }) =>
			undoVendorImport({ db }, runId, { by, dryRun, retentionDays }),
		);
		if (args.flags.json) {
			ctx.stdout(JSON.stringify(result));
			return ExitCode.ok;
		}
		const head = dryRun ? `dry run: undoing run ${runId} would restore` : `run ${result.runId} undid run ${runId}: restored`;
		ctx.stdout(`${head} ${result.restored.length} price(s), skipped ${result.skipped.length}`);
		for (const l of result.restored) ctx.stdout(`  ${describe(l)}`);
		for (const l of result.skipped) ctx.stdout(`  skipped ${describe(l)}: ${l.skipped}`);
		return ExitCode.ok;
	},
};
