import { closeDb, connectDb, describeDbTarget, migrate } from '../../lib';
import type { FlagSpec, ParsedArgs } from '../args';
import { ExitCode, requireDatabaseUrl, type CliContext, type ExitCodeValue } from '../context';

export const migrateCommand = {
	name: 'migrate',
	summary: 'create or update the database schema (safe to run again, and from several processes at once)',
	usage: 'pricebook-sync migrate [--json]',
	flags: { json: { type: 'boolean', description: 'print one JSON object' } } as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const url = requireDatabaseUrl(ctx.env);
		const db = connectDb({ connectionString: url, max: 2 });
		try {
			const result = await migrate(db, { log: args.flags.json ? undefined : (line) => ctx.stdout(line) });
			if (args.flags.json) ctx.stdout(JSON.stringify(result));
			else if (result.applied.length === 0) ctx.stdout(`schema of ${describeDbTarget(url)} is up to date (${result.current})`);
			else ctx.stdout(`schema of ${describeDbTarget(url)} migrated to ${result.current}`);
			return ExitCode.ok;
		} finally {
			await closeDb(db);
		}
	},
};
