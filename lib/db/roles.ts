import { SyncFailure } from '../failures';
import { pgp, type Db } from './connection';

/**
 * The three database roles (docs/security.md, "Database roles"): the engine owns the schema and is the only role
 * whose writes can count as the sync's own (migration 0014); Retool edits the pricebook and vendor prices but can
 * neither delete nor change the schema; dashboards only read.
 */
export interface RoleNames {
	engine: string;
	retool: string;
	dashboard: string;
}

export const DEFAULT_ROLE_NAMES: RoleNames = { engine: 'pricebook_engine', retool: 'pricebook_retool', dashboard: 'pricebook_dashboard' };

/** What Retool may write: the pricebook tables and its local vendor prices. Never DELETE or TRUNCATE. */
export const RETOOL_WRITABLE_TABLES = ['pricebook_services', 'pricebook_materials', 'pricebook_equipment', 'pricebook_categories', 'vendor_prices'] as const;

/** A person's INSERT takes its temporary id from this sequence (migration 0011). */
const LOCAL_ID_SEQUENCE = 'pricebook_local_id_seq';

/** Names PostgreSQL would quote differently or truncate are refused up front rather than surprising later. */
export function checkRoleNames(names: RoleNames): void {
	for (const [which, name] of Object.entries(names)) {
		if (!/^[a-z_][a-z0-9_$]{0,62}$/.test(name)) {
			throw new SyncFailure(
				'validation',
				`role name for ${which} "${name}" must be 1 to 63 lower-case letters, digits or _ and not start with a digit`,
				which,
			);
		}
	}
	if (new Set(Object.values(names)).size !== 3) {
		throw new SyncFailure('validation', 'the engine, Retool and dashboard roles must be three different roles: only separate roles protect the sync');
	}
}

const fmt = (query: string, values: unknown[]): string => pgp().as.format(query, values);

/**
 * Run once by an administrator (a superuser, or a role with CREATEROLE that may change the schema's owner): the
 * three login roles, and the engine as owner of the schema, so it can migrate and nobody else can create objects
 * there. Passwords are set separately (psql's \password), never in a script.
 */
export function roleSetupSql(names: RoleNames, schema = 'public'): string[] {
	checkRoleNames(names);
	return [
		fmt('CREATE ROLE $1:name LOGIN', [names.engine]),
		fmt('CREATE ROLE $1:name LOGIN', [names.retool]),
		fmt('CREATE ROLE $1:name LOGIN', [names.dashboard]),
		fmt('ALTER SCHEMA $1:name OWNER TO $2:name', [schema, names.engine]),
		// The default since PostgreSQL 15; older servers let every role create objects in schema public.
		fmt('REVOKE CREATE ON SCHEMA $1:name FROM PUBLIC', [schema]),
	];
}

/**
 * The grants, exactly: what Retool and the dashboards held before is revoked first, in the same transaction, so
 * applying them again after an upgrade or a mistaken manual GRANT (a DELETE, say) leaves only these. Run by the
 * engine (the owner of the tables) after migrating.
 */
export function roleGrantSql(names: RoleNames, schema = 'public'): string[] {
	checkRoleNames(names);
	const people = [names.retool, names.dashboard];
	return [
		fmt('REVOKE ALL ON ALL TABLES IN SCHEMA $1:name FROM $2:name, $3:name', [schema, ...people]),
		fmt('REVOKE ALL ON ALL SEQUENCES IN SCHEMA $1:name FROM $2:name, $3:name', [schema, ...people]),
		fmt('GRANT USAGE ON SCHEMA $1:name TO $2:name, $3:name', [schema, ...people]),
		// Tables and views: reading the sync's ledger does no harm, and Retool's screens show runs and conflicts.
		fmt('GRANT SELECT ON ALL TABLES IN SCHEMA $1:name TO $2:name, $3:name', [schema, ...people]),
		`GRANT INSERT, UPDATE ON ${RETOOL_WRITABLE_TABLES.map((table) => fmt('$1:name.$2:name', [schema, table])).join(', ')} TO ${fmt('$1:name', [names.retool])}`,
		fmt('GRANT USAGE ON SEQUENCE $1:name.$2:name TO $3:name', [schema, LOCAL_ID_SEQUENCE, names.retool]),
		// Tables a later migration adds are readable at once, without running this again.
		fmt('ALTER DEFAULT PRIVILEGES FOR ROLE $1:name IN SCHEMA $2:name GRANT SELECT ON TABLES TO $3:name, $4:name', [names.engine, schema, ...people]),
	];
}

export interface AppliedGrants {
	schema: string;
	engine: string;
	statements: string[];
}

/**
 * Applies roleGrantSql in one transaction, as the engine. Refuses a setup in which Retool or the dashboards could
 * act as the engine (a superuser, or a member of the engine's role): their writes would count as the sync's own.
 */
export async function applyRoleGrants(db: Db, names: RoleNames): Promise<AppliedGrants> {
	checkRoleNames(names);
	return db.tx('role-grants', async (t) => {
		const here = await t.one<{ schema: string; owner: string | null; me: string }>(
			`SELECT current_schema() AS schema, current_user AS me,
			   (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('pricebook_materials')) AS owner`,
		);
		if (here.owner === null)
			throw new SyncFailure('configuration', 'the pricebook tables do not exist here yet: run pricebook-sync migrate as the engine first');
		if (here.owner !== names.engine) {
			throw new SyncFailure(
				'configuration',
				`the pricebook tables are owned by role ${here.owner}, not by the engine role ${names.engine}: the owner is the only role whose writes count as the sync's, ` +
					`so run the engine as ${here.owner} (--engine ${here.owner}) or hand it the tables (docs/security.md, "Moving to separate roles")`,
			);
		}
		const found = await t.any<{ name: string; super: boolean; engine: boolean }>(
			`SELECT rolname AS name, rolsuper AS super, pg_has_role(oid, $2, 'MEMBER') AS engine FROM pg_roles WHERE rolname IN ($1:csv)`,
			[[names.retool, names.dashboard], names.engine],
		);
		for (const name of [names.retool, names.dashboard]) {
			const role = found.find((r) => r.name === name);
			if (!role) throw new SyncFailure('configuration', `role ${name} does not exist: create it first (pricebook-sync roles prints the SQL)`);
			if (role.super || role.engine) {
				throw new SyncFailure(
					'configuration',
					`role ${name} is ${role.super ? 'a superuser' : `a member of the engine role ${names.engine}`}: its sessions could pass for the engine, so it cannot be Retool's or a dashboard's role`,
				);
			}
		}
		const statements = roleGrantSql(names, here.schema);
		for (const statement of statements) {
			await t.none(statement).catch((error: unknown) => {
				if ((error as { code?: unknown }).code !== '42501') throw error;
				throw new SyncFailure(
					'configuration',
					`granting needs the engine's role (the owner of the pricebook tables, ${here.owner}); connected as ${here.me}: ${(error as Error).message}`,
				);
			});
		}
		return { schema: here.schema, engine: here.owner, statements };
	});
}
