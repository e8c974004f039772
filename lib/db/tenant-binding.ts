import type { Queryable } from './connection';

/** The ServiceTitan tenant a database is synced with (migration 0015). */
export interface TenantBinding {
	kind: 'servicetitan' | 'sandbox';
	/** `<environment>:<tenant id>` for a real tenant; the sandbox tenant's random id. */
	key: string;
	description: string;
}

interface BindingRow {
	kind: TenantBinding['kind'];
	tenant_key: string;
	description: string;
}

const fromRow = (row: BindingRow): TenantBinding => ({ kind: row.kind, key: row.tenant_key, description: row.description });

export async function readTenantBinding(db: Queryable): Promise<TenantBinding | undefined> {
	const row = await db.oneOrNone<BindingRow>('SELECT kind, tenant_key, description FROM sync_tenant');
	return row ? fromRow(row) : undefined;
}

/**
 * Records `binding` unless the database already has one, and answers the one it holds now. Two first syncs at once
 * cannot both bind: the single row's key lets one insert and the other read the winner.
 */
export async function bindTenant(db: Queryable, binding: TenantBinding): Promise<TenantBinding> {
	await db.none('INSERT INTO sync_tenant (kind, tenant_key, description) VALUES ($1, $2, $3) ON CONFLICT (singleton) DO NOTHING', [
		binding.kind,
		binding.key,
		binding.description,
	]);
	return fromRow(await db.one<BindingRow>('SELECT kind, tenant_key, description FROM sync_tenant'));
}

/** Whether any sync ever ran here: such a database holds some tenant's items even when it records none. */
export async function hasSyncHistory(db: Queryable): Promise<boolean> {
	return (await db.one<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM sync_runs) AS any')).any;
}
