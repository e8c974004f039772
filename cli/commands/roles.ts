import { applyRoleGrants, DEFAULT_ROLE_NAMES, roleGrantSql, roleSetupSql, type RoleNames } from '../../lib';
import { withResources } from '../resources';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

function roleNamesOf(args: ParsedArgs): RoleNames {
	const names = { ...DEFAULT_ROLE_NAMES };
	for (const which of ['engine', 'retool', 'dashboard'] as const) {
		const value = args.flags[which];
		if (value === undefined) continue;
		if (typeof value !== 'string' || value === '') throw new UsageError(`--${which} needs a role name`);
		names[which] = value;
	}
	return names;
}

const role = (who: string, name: string): FlagSpec => ({ type: 'string', valueName: 'role', description: `${who} (default ${name})` });

export const rolesCommand = {
	name: 'roles',
	summary: 'print the SQL that sets up the engine, Retool and dashboard database roles; --apply grants them (run as the engine)',
	usage: 'pricebook-sync roles [--engine <role>] [--retool <role>] [--dashboard <role>] [--schema <schema>] [--apply] [--json]',
	flags: {
		engine: role("the sync's role, owner of the schema", DEFAULT_ROLE_NAMES.engine),
		retool: role("Retool's role: edits, never deletes", DEFAULT_ROLE_NAMES.retool),
		dashboard: role('the read-only role for dashboards', DEFAULT_ROLE_NAMES.dashboard),
		schema: { type: 'string', valueName: 'schema', description: 'the schema of the pricebook tables, for the printed SQL (default public)' },
		apply: {
			type: 'boolean',
			description: "migrate DATABASE_URL, then grant Retool's and the dashboards' privileges there; connect as the engine. Creates no roles",
		},
		json: { type: 'boolean', description: 'print one JSON object' },
	} as Record<string, FlagSpec>,
	async run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const names = roleNamesOf(args);
		if (args.flags.apply) {
			if (args.flags.schema !== undefined) throw new UsageError('--apply grants on the schema DATABASE_URL migrates into; leave --schema out');
			const { applied, where } = await withResources(ctx, { command: 'roles', maxConnections: 2 }, async ({ db, where }) => ({
				applied: await applyRoleGrants(db, names),
				where,
			}));
			if (args.flags.json) ctx.stdout(JSON.stringify({ applied: true, ...names, ...applied }));
			else {
				ctx.stdout(`granted on ${where} (schema ${applied.schema}, owned by the engine ${applied.engine}):`);
				ctx.stdout(`  ${names.retool}: reads everything; INSERT and UPDATE on the pricebook tables and vendor_prices; no DELETE, TRUNCATE or DDL`);
				ctx.stdout(`  ${names.dashboard}: reads everything, writes nothing`);
			}
			return ExitCode.ok;
		}
		const schema = typeof args.flags.schema === 'string' ? args.flags.schema : 'public';
		if (schema === '') throw new UsageError('--schema needs a schema name');
		const setup = roleSetupSql(names, schema);
		const grants = roleGrantSql(names, schema);
		if (args.flags.json) {
			ctx.stdout(JSON.stringify({ ...names, schema, setup, grants }));
			return ExitCode.ok;
		}
		ctx.stdout(
			[
				'-- Database roles of the pricebook sync (docs/security.md, "Database roles").',
				'-- 1. Once, as an administrator (a superuser): the three login roles; the engine owns the schema.',
				...setup.map((s) => `${s};`),
				`-- Then set each password in psql (\\password ${names.engine}, and so on), never in a script.`,
				'--',
				`-- 2. As the engine (DATABASE_URL with user ${names.engine}): pricebook-sync migrate, then these grants,`,
				'--    again after every upgrade. pricebook-sync roles --apply does both.',
				'BEGIN;',
				...grants.map((s) => `${s};`),
				'COMMIT;',
				'--',
				`-- 3. Connect the sync (n8n, the CLI) as ${names.engine}, Retool as ${names.retool}, dashboards as ${names.dashboard}.`,
			].join('\n'),
		);
		return ExitCode.ok;
	},
};
