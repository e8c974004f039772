-- Which ServiceTitan tenant this database is synced with. Its items, bases and conflicts only make sense against
-- that tenant: a run, a push or a conflict resolution against another tenant (another environment, the bundled
-- simulator's sandbox tenant, a fresh simulated tenant made from the same seed) would take that tenant's values
-- for this one's and push decisions to items they were never about. The command line records the tenant the
-- first time it syncs and refuses to talk to any other (cli/tenant-binding.ts). One row at most.
CREATE TABLE sync_tenant (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  -- 'servicetitan': a real tenant, tenant_key "<environment>:<tenant id>"; 'sandbox': the simulated tenant that
  -- `pricebook-sync start` keeps in its data folder, tenant_key its random id.
  kind TEXT NOT NULL CHECK (kind IN ('servicetitan', 'sandbox')),
  tenant_key TEXT NOT NULL,
  -- How messages name it, e.g. "ServiceTitan tenant 1234567 (production)".
  description TEXT NOT NULL,
  bound_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
