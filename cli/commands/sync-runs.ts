import { Progress } from '../progress';
import { withResources } from '../resources';
import { entityTypeOf, entityTypesOf, failureKindOfRuns, isoTimeOf, entityIdOf, SyncEngine, type RunResult } from '../../lib';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { exitCodeFor } from '../errors';

const jsonFlag: FlagSpec = { type: 'boolean', description: 'print exactly one JSON object on stdout' };
const dryRunFlag: FlagSpec = { type: 'boolean', description: 'show what would change; write nothing (not even the cursor)' };
const entityFlag: FlagSpec = {
	type: 'string',
	valueName: 'services|materials|equipment|categories|all',
	description: 'entity type (default: all, categories first)',
};

/** Opens the database and ServiceTitan (cli/resources.ts), runs `work`, prints the results, picks the exit code. */
async function withEngine(command: string, ctx: CliContext, args: ParsedArgs, work: (engine: SyncEngine) => Promise<RunResult[]>): Promise<ExitCodeValue> {
	const json = Boolean(args.flags.json);
	const dryRun = Boolean(args.flags['dry-run']);
	return withResources(ctx, { command, maxConnections: 10, serviceTitan: true, recordTenant: !dryRun }, async ({ db, st }) => {
		const progress = new Progress((text) => ctx.stderr(text.replace(/\n$/, '')), false);
		const engine = new SyncEngine({
			db,
			st: st!,
			log: (level, message) => {
				if (!json && (level === 'warn' || level === 'error' || level === 'info')) ctx.stderr(`${level}: ${message}`);
			},
			onProgress: json || !ctx.isTTY ? undefined : (e) => progress.update(e),
		});
		const results = await work(engine);
		ctx.stdout(json ? JSON.stringify({ results }) : results.map(describeResult).join('\n'));
		const kind = failureKindOfRuns(results);
		return kind === undefined ? ExitCode.ok : exitCodeFor(kind);
	});
}

export function describeResult(r: RunResult): string {
	const s = r.summary;
	const head = `${r.entityType.padEnd(10)} ${r.kind}${r.dryRun ? ' (dry run)' : ''}: ${r.status}${r.runId !== null ? ` (run ${r.runId})` : ''}`;
	const counts =
		`new ${s.newInST}, deleted in ST ${s.deletedInST}, changed in ST ${s.modifiedInSTOnly}, changed locally ${s.modifiedLocalOnly}, ` +
		`conflicts ${s.conflicts}, unchanged ${s.noChange}; synced ${r.itemsSynced}, pushed ${r.itemsPushed}, new conflicts ${r.conflictsDetected}, errors ${r.errors}`;
	const lines = [`${head}\n  ${counts}`];
	if (r.ranAsFullBecause) lines.push(`  ran as a full sync: ${r.ranAsFullBecause}`);
	if (r.message) lines.push(`  ${r.message}`);
	return lines.join('\n');
}

export const fullCommand = {
	name: 'full',
	summary: 'read every item from ServiceTitan, apply changes both ways, soft-delete what ServiceTitan deleted',
	usage: 'pricebook-sync full [--entity <type>|all] [--dry-run] [--confirm-mass-delete] [--json]',
	flags: {
		entity: entityFlag,
		'dry-run': dryRunFlag,
		'confirm-mass-delete': { type: 'boolean', description: 'allow a sweep that soft-deletes more than the guard allows' },
		json: jsonFlag,
	} as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
		const types = entityTypesOf(args.flags.entity, 'entityType', '--entity');
		return withEngine('full', ctx, args, (engine) =>
			engine.runMany('full', types, { dryRun: Boolean(args.flags['dry-run']), confirmMassDelete: Boolean(args.flags['confirm-mass-delete']) }),
		);
	},
};

export const incrementalCommand = {
	name: 'incremental',
	summary: 'apply what changed since the last sync (runs as a full sync when none succeeded recently)',
	usage: 'pricebook-sync incremental [--entity <type>|all] [--since <ISO-8601>] [--dry-run] [--json]',
	flags: {
		entity: entityFlag,
		since: { type: 'string', valueName: 'ISO-8601', description: 'read changes from this time instead of the stored cursor' },
		'dry-run': dryRunFlag,
		json: jsonFlag,
	} as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
		const types = entityTypesOf(args.flags.entity, 'entityType', '--entity');
		const sinceIso = args.flags.since === undefined ? undefined : isoTimeOf(args.flags.since, 'since', '--since');
		return withEngine('incremental', ctx, args, (engine) =>
			engine.runMany('incremental', types, { dryRun: Boolean(args.flags['dry-run']), since: sinceIso }),
		);
	},
};

export const entityCommand = {
	name: 'entity',
	summary: 'sync one item now (e.g. after a save in Retool); 404 in ServiceTitan means deleted there',
	usage: 'pricebook-sync entity <services|materials|equipment|categories> <id> [--dry-run] [--json]',
	flags: { 'dry-run': dryRunFlag, json: jsonFlag } as Record<string, FlagSpec>,
	positionals: 'own',
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const [type, idText, extra] = args.positionals;
		if (!type || !idText || extra !== undefined) throw new UsageError('expected an entity type and an id, e.g. pricebook-sync entity materials 9404');
		const entityType = entityTypeOf(type, 'type', 'entity type');
		const entityId = entityIdOf(idText, 'id');
		return withEngine('entity', ctx, args, async (engine) => [
			await engine.run({ kind: 'entity', entityType, entityId, dryRun: Boolean(args.flags['dry-run']) }),
		]);
	},
};
