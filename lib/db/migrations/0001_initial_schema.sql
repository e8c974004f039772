-- Initial schema: the four pricebook tables with the seed spec's sync columns, the local-edit capture trigger,
-- vendor prices, conflicts, the run ledger, the change and error logs and the per-entity sync state.
-- Column names of the pricebook tables and vendor_prices are the contract with Retool: do not rename them.

-- Sync columns shared by every pricebook table. Kept as a function so the four tables cannot drift apart.
-- (Called once below per table, then dropped: it is schema-building code, not runtime code.)
CREATE FUNCTION pg_temp.add_sync_columns(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format($sql$
    ALTER TABLE %s
      ADD COLUMN sync_status TEXT NOT NULL DEFAULT 'synced'
        CHECK (sync_status IN ('synced', 'pending_push', 'pending_pull', 'conflict')),
      ADD COLUMN sync_direction TEXT CHECK (sync_direction IN ('from_st', 'to_st', 'bidirectional')),
      ADD COLUMN last_synced_at TIMESTAMPTZ,
      ADD COLUMN st_modified_on TIMESTAMPTZ,
      ADD COLUMN st_modified_on_raw TEXT,
      ADD COLUMN local_modified_at TIMESTAMPTZ,
      ADD COLUMN has_conflict BOOLEAN NOT NULL DEFAULT FALSE,
      ADD COLUMN conflict_data JSONB,
      ADD COLUMN conflict_resolved_at TIMESTAMPTZ,
      ADD COLUMN conflict_resolution TEXT CHECK (conflict_resolution IN ('use_st', 'use_local', 'merged')),
      ADD COLUMN resolved_by TEXT,
      ADD COLUMN deleted_at TIMESTAMPTZ,
      ADD COLUMN deleted_in_st BOOLEAN NOT NULL DEFAULT FALSE,
      ADD COLUMN sync_base JSONB,
      ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1,
      ADD COLUMN push_error TEXT,
      ADD COLUMN st_data JSONB NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  $sql$, tbl);
  EXECUTE format('CREATE INDEX ON %s (sync_status) WHERE sync_status <> %L', tbl, 'synced');
  EXECUTE format('CREATE INDEX ON %s (deleted_at) WHERE deleted_at IS NULL', tbl);
END
$fn$;

CREATE TABLE pricebook_categories (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  parent_id BIGINT,
  position INTEGER,
  category_type TEXT CHECK (category_type IN ('Services', 'Materials')),
  category_uuid UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE
);
SELECT pg_temp.add_sync_columns('pricebook_categories');
CREATE INDEX ON pricebook_categories (parent_id);

CREATE TABLE pricebook_materials (
  id BIGINT PRIMARY KEY,
  code TEXT NOT NULL,
  display_name TEXT,
  description TEXT,
  cost NUMERIC,
  price NUMERIC,
  member_price NUMERIC,
  add_on_price NUMERIC,
  add_on_member_price NUMERIC,
  hours NUMERIC,
  taxable BOOLEAN,
  account TEXT,
  unit_of_measure TEXT,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  categories JSONB NOT NULL DEFAULT '[]'::jsonb
);
SELECT pg_temp.add_sync_columns('pricebook_materials');

CREATE TABLE pricebook_equipment (
  id BIGINT PRIMARY KEY,
  code TEXT NOT NULL,
  display_name TEXT,
  description TEXT,
  cost NUMERIC,
  price NUMERIC,
  member_price NUMERIC,
  add_on_price NUMERIC,
  add_on_member_price NUMERIC,
  hours NUMERIC,
  taxable BOOLEAN,
  account TEXT,
  unit_of_measure TEXT,
  manufacturer TEXT,
  model TEXT,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  categories JSONB NOT NULL DEFAULT '[]'::jsonb
);
SELECT pg_temp.add_sync_columns('pricebook_equipment');

CREATE TABLE pricebook_services (
  id BIGINT PRIMARY KEY,
  code TEXT NOT NULL,
  display_name TEXT,
  description TEXT,
  price NUMERIC,
  member_price NUMERIC,
  add_on_price NUMERIC,
  add_on_member_price NUMERIC,
  hours NUMERIC,
  taxable BOOLEAN,
  account TEXT,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  categories JSONB NOT NULL DEFAULT '[]'::jsonb,
  materials_included JSONB NOT NULL DEFAULT '[]'::jsonb
);
SELECT pg_temp.add_sync_columns('pricebook_services');

-- Local-edit capture. The engine marks its own writes with the transaction-local setting
-- pricebook_sync.origin = 'engine'; every other UPDATE that changes a synced column (passed as trigger
-- arguments) is a person's edit and must be pushed. A row in conflict stays in conflict: resolution reads the
-- local side as it is when a person decides.
CREATE FUNCTION pricebook_before_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  col TEXT;
  new_row JSONB;
  old_row JSONB;
BEGIN
  NEW.row_version := OLD.row_version + 1;
  NEW.updated_at := clock_timestamp();
  IF coalesce(current_setting('pricebook_sync.origin', true), '') = 'engine' THEN
    RETURN NEW;
  END IF;
  new_row := to_jsonb(NEW);
  old_row := to_jsonb(OLD);
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF new_row -> col IS DISTINCT FROM old_row -> col THEN
      NEW.local_modified_at := clock_timestamp();
      NEW.sync_direction := 'to_st';
      IF OLD.sync_status <> 'conflict' THEN
        NEW.sync_status := 'pending_push';
      END IF;
      RETURN NEW;
    END IF;
  END LOOP;
  RETURN NEW;
END
$fn$;

-- Deletes are soft (deleted_at). A hard DELETE would lose history and the vendor prices hanging off a material,
-- so the database refuses it unless an operator explicitly opts in for the transaction.
CREATE FUNCTION pricebook_refuse_hard_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF coalesce(current_setting('pricebook_sync.allow_hard_delete', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'hard DELETE on % is not allowed (id %)', TG_TABLE_NAME, OLD.id
    USING HINT = 'Pricebook rows are soft-deleted: UPDATE ... SET deleted_at = now(). '
              || 'An operator may SET LOCAL pricebook_sync.allow_hard_delete = ''on'' to override.',
          ERRCODE = 'restrict_violation';
END
$fn$;

CREATE TRIGGER pricebook_categories_before_update BEFORE UPDATE ON pricebook_categories FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_update('name', 'description', 'active', 'parent_id', 'position', 'category_type');
CREATE TRIGGER pricebook_materials_before_update BEFORE UPDATE ON pricebook_materials FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_update('code', 'display_name', 'description', 'cost', 'price', 'member_price',
    'add_on_price', 'add_on_member_price', 'hours', 'taxable', 'account', 'unit_of_measure', 'active', 'categories');
CREATE TRIGGER pricebook_equipment_before_update BEFORE UPDATE ON pricebook_equipment FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_update('code', 'display_name', 'description', 'cost', 'price', 'member_price',
    'add_on_price', 'add_on_member_price', 'hours', 'taxable', 'account', 'unit_of_measure', 'manufacturer', 'model',
    'active', 'categories');
CREATE TRIGGER pricebook_services_before_update BEFORE UPDATE ON pricebook_services FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_update('code', 'display_name', 'description', 'price', 'member_price',
    'add_on_price', 'add_on_member_price', 'hours', 'taxable', 'account', 'active', 'categories', 'materials_included');

CREATE TRIGGER pricebook_categories_refuse_delete BEFORE DELETE ON pricebook_categories FOR EACH ROW
  EXECUTE FUNCTION pricebook_refuse_hard_delete();
CREATE TRIGGER pricebook_materials_refuse_delete BEFORE DELETE ON pricebook_materials FOR EACH ROW
  EXECUTE FUNCTION pricebook_refuse_hard_delete();
CREATE TRIGGER pricebook_equipment_refuse_delete BEFORE DELETE ON pricebook_equipment FOR EACH ROW
  EXECUTE FUNCTION pricebook_refuse_hard_delete();
CREATE TRIGGER pricebook_services_refuse_delete BEFORE DELETE ON pricebook_services FOR EACH ROW
  EXECUTE FUNCTION pricebook_refuse_hard_delete();

-- Local-only vendor prices (never sent to ServiceTitan). ON DELETE RESTRICT: no delete of a material may ever
-- take its vendor prices with it.
CREATE TABLE vendor_prices (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  material_id BIGINT REFERENCES pricebook_materials (id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  vendor TEXT NOT NULL,
  vendor_sku TEXT NOT NULL,
  price NUMERIC(12, 4) CHECK (price >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (vendor, vendor_sku)
);
CREATE INDEX ON vendor_prices (material_id);

-- One row per conflict. The id is what Retool's resolve button sends. At most one open conflict per item.
CREATE TABLE sync_conflicts (
  id BIGSERIAL PRIMARY KEY,
  entity_type TEXT NOT NULL CHECK (entity_type IN ('services', 'materials', 'equipment', 'categories')),
  entity_id BIGINT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'modified' CHECK (kind IN ('modified', 'deleted_in_st', 'unknown_base')),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  detected_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  conflict_data JSONB NOT NULL,
  base_version JSONB,
  st_modified_on_raw TEXT,
  suggested_merge JSONB,
  run_id BIGINT,
  resolution TEXT CHECK (resolution IN ('use_st', 'use_local', 'merged')),
  resolved_by TEXT,
  resolved_at TIMESTAMPTZ,
  resolution_before JSONB,
  resolution_after JSONB
);
CREATE UNIQUE INDEX sync_conflicts_one_open_per_item ON sync_conflicts (entity_type, entity_id) WHERE status = 'open';
CREATE INDEX ON sync_conflicts (status, detected_at DESC);

-- Run ledger: one row per run, written at start (status running) and finished at the end.
CREATE TABLE sync_runs (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  entity_type TEXT,
  trigger TEXT NOT NULL DEFAULT 'cli',
  dry_run BOOLEAN NOT NULL DEFAULT FALSE,
  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'busy')),
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ,
  window_from TEXT,
  window_to TEXT,
  pages_read INTEGER NOT NULL DEFAULT 0,
  items_seen INTEGER NOT NULL DEFAULT 0,
  counts JSONB NOT NULL DEFAULT '{}'::jsonb,
  items_synced INTEGER NOT NULL DEFAULT 0,
  items_pushed INTEGER NOT NULL DEFAULT 0,
  conflicts_detected INTEGER NOT NULL DEFAULT 0,
  errors_count INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  details JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ON sync_runs (entity_type, started_at DESC);
CREATE INDEX ON sync_runs (status, started_at DESC);

-- Change log: one row per item changed by the sync or a resolution, with before and after.
CREATE TABLE sync_change_log (
  id BIGSERIAL PRIMARY KEY,
  run_id BIGINT REFERENCES sync_runs (id) ON DELETE SET NULL,
  entity_type TEXT NOT NULL,
  entity_id BIGINT NOT NULL,
  action TEXT NOT NULL,
  before JSONB,
  after JSONB,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ON sync_change_log (entity_type, entity_id, changed_at DESC);
CREATE INDEX ON sync_change_log (run_id);

-- Error log: items skipped (invalid ST record, push rejected by ST) and run failures, with the reason.
CREATE TABLE sync_error_log (
  id BIGSERIAL PRIMARY KEY,
  run_id BIGINT REFERENCES sync_runs (id) ON DELETE SET NULL,
  entity_type TEXT,
  entity_id BIGINT,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  details JSONB,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ON sync_error_log (occurred_at DESC);

-- Per-entity sync state: the incremental cursor (ServiceTitan's clock, full precision) and last successes.
CREATE TABLE sync_state (
  entity_type TEXT PRIMARY KEY CHECK (entity_type IN ('services', 'materials', 'equipment', 'categories')),
  cursor_raw TEXT,
  last_full_sync_at TIMESTAMPTZ,
  last_incremental_sync_at TIMESTAMPTZ,
  last_success_at TIMESTAMPTZ,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO sync_state (entity_type) VALUES ('categories'), ('materials'), ('equipment'), ('services');
DROP FUNCTION pg_temp.add_sync_columns(regclass);
