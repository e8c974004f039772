import { migrate } from '../../lib';
import type { FlagSpec, ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';
import { withResources } from '../resources';

export const migrateCommand = {
	name: 'migrate',
	summary: 'create or update the database schema (safe to run again, and from several processes at once)',
	usage: 'pricebook-sync migrate [--json]',
	flags: { json: { type: 'boolean', description: 'print one JSON object' } } as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		return withResources(ctx, { command: 'migrate', maxConnections: 2, migrate: false }, async ({ db, where }) => {
			const result = await migrate(db, { log: args.flags.json ? undefined : (line) => ctx.stdout(line) });
			if (args.flags.json) ctx.stdout(JSON.stringify(result));
			else if (result.applied.length === 0) ctx.stdout(`schema of ${where} is up to date (${result.current})`);
			else ctx.stdout(`schema of ${where} migrated to ${result.current}`);
			return ExitCode.ok;
		});
	},
};
