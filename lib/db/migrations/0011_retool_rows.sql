-- Everything Retool can do to a row (docs/design.md, "What a person can do to a row").
--
-- INSERT: a row a person adds is a new item for ServiceTitan. It takes a temporary id from a descending sequence
-- (-1, -2, ...), so Retool's insert needs no id at all; the sync creates the item in ServiceTitan (POST) and
-- writes ServiceTitan's id back (vendor prices follow: ON UPDATE CASCADE below). A positive id is ServiceTitan's
-- to give: an INSERT naming one is refused, since a row under a made-up id would later be taken for a deleted item,
-- or overwritten by the item ServiceTitan gives that id to.
--
-- UPDATE: besides the synced columns, a person may set or clear deleted_at (deactivate / reactivate the item in
-- ServiceTitan: the trigger sets `active` to match, which is what is pushed) and clear push_refused (retry a held
-- edit). Everything else the sync keeps (st_data, the base, the bookkeeping columns, the id) is refused with a
-- message that says what to edit instead, so an edit can never be silently overwritten by the next sync.
--
-- The engine marks its own writes (pricebook_sync.origin = 'engine'): none of this applies to them.

CREATE SEQUENCE pricebook_local_id_seq INCREMENT BY -1 MAXVALUE -1 START WITH -1;
ALTER TABLE pricebook_categories ALTER COLUMN id SET DEFAULT nextval('pricebook_local_id_seq');
ALTER TABLE pricebook_materials ALTER COLUMN id SET DEFAULT nextval('pricebook_local_id_seq');
ALTER TABLE pricebook_equipment ALTER COLUMN id SET DEFAULT nextval('pricebook_local_id_seq');
ALTER TABLE pricebook_services ALTER COLUMN id SET DEFAULT nextval('pricebook_local_id_seq');

-- A created material's vendor prices move with it to ServiceTitan's id. Deletes stay restricted.
ALTER TABLE vendor_prices DROP CONSTRAINT vendor_prices_material_id_fkey;
ALTER TABLE vendor_prices ADD CONSTRAINT vendor_prices_material_id_fkey
  FOREIGN KEY (material_id) REFERENCES pricebook_materials (id) ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE FUNCTION pricebook_is_engine() RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(current_setting('pricebook_sync.origin', true), '') = 'engine'
$fn$;

-- A person's INSERT: a temporary id, and bookkeeping that says "new, to be created in ServiceTitan" whatever the
-- form sent for those columns (a Retool form may send every column with its defaults).
CREATE FUNCTION pricebook_before_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF pricebook_is_engine() THEN
    RETURN NEW;
  END IF;
  IF NEW.id IS NULL THEN
    NEW.id := nextval('pricebook_local_id_seq');
  ELSIF NEW.id > 0 THEN
    RAISE EXCEPTION 'new rows of % get their id from ServiceTitan, not from the INSERT (id % given)', TG_TABLE_NAME, NEW.id
      USING HINT = 'Leave id out (or NULL): the row gets a temporary negative id, the sync creates the item in '
                || 'ServiceTitan and writes its id back. To bring in an item ServiceTitan already has, run a sync.',
            ERRCODE = 'check_violation';
  END IF;
  NEW.sync_status := 'pending_push';
  NEW.sync_direction := 'to_st';
  NEW.local_modified_at := clock_timestamp();
  NEW.last_synced_at := NULL;
  NEW.st_modified_on := NULL;
  NEW.st_modified_on_raw := NULL;
  NEW.has_conflict := FALSE;
  NEW.conflict_data := NULL;
  NEW.conflict_resolved_at := NULL;
  NEW.conflict_resolution := NULL;
  NEW.resolved_by := NULL;
  NEW.deleted_in_st := FALSE;
  NEW.sync_base := NULL;
  NEW.row_version := 1;
  NEW.push_error := NULL;
  NEW.push_in_flight := NULL;
  NEW.push_refused := NULL;
  NEW.st_data := '{}'::jsonb;
  IF NEW.deleted_at IS NOT NULL THEN
    NEW.active := FALSE;
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER pricebook_categories_before_insert BEFORE INSERT ON pricebook_categories FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_insert();
CREATE TRIGGER pricebook_materials_before_insert BEFORE INSERT ON pricebook_materials FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_insert();
CREATE TRIGGER pricebook_equipment_before_insert BEFORE INSERT ON pricebook_equipment FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_insert();
CREATE TRIGGER pricebook_services_before_insert BEFORE INSERT ON pricebook_services FOR EACH ROW
  EXECUTE FUNCTION pricebook_before_insert();

-- A person's UPDATE. The synced columns come as trigger arguments (as before); the columns below are the sync's.
CREATE OR REPLACE FUNCTION pricebook_before_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  col TEXT;
  new_row JSONB;
  old_row JSONB;
  kept_by_sync CONSTANT TEXT[] := ARRAY['st_data', 'sync_base', 'sync_status', 'sync_direction', 'last_synced_at',
    'st_modified_on', 'st_modified_on_raw', 'local_modified_at', 'has_conflict', 'conflict_data', 'conflict_resolved_at',
    'conflict_resolution', 'resolved_by', 'deleted_in_st', 'push_error', 'push_in_flight', 'created_at'];
BEGIN
  IF pricebook_is_engine() THEN
    NEW.row_version := OLD.row_version + 1;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'the id of a % row is ServiceTitan''s and cannot be changed (% to %)', TG_TABLE_NAME, OLD.id, NEW.id
      USING HINT = 'Edit the other columns of the row; a new item is a new row (INSERT without an id).',
            ERRCODE = 'check_violation';
  END IF;
  -- Timestamps read back by a client and written again unchanged may have lost their microseconds: that is no
  -- edit, the stored value stays.
  IF date_trunc('milliseconds', NEW.last_synced_at) IS NOT DISTINCT FROM date_trunc('milliseconds', OLD.last_synced_at) THEN
    NEW.last_synced_at := OLD.last_synced_at;
  END IF;
  IF date_trunc('milliseconds', NEW.st_modified_on) IS NOT DISTINCT FROM date_trunc('milliseconds', OLD.st_modified_on) THEN
    NEW.st_modified_on := OLD.st_modified_on;
  END IF;
  IF date_trunc('milliseconds', NEW.local_modified_at) IS NOT DISTINCT FROM date_trunc('milliseconds', OLD.local_modified_at) THEN
    NEW.local_modified_at := OLD.local_modified_at;
  END IF;
  IF date_trunc('milliseconds', NEW.conflict_resolved_at) IS NOT DISTINCT FROM date_trunc('milliseconds', OLD.conflict_resolved_at) THEN
    NEW.conflict_resolved_at := OLD.conflict_resolved_at;
  END IF;
  IF date_trunc('milliseconds', NEW.created_at) IS NOT DISTINCT FROM date_trunc('milliseconds', OLD.created_at) THEN
    NEW.created_at := OLD.created_at;
  END IF;
  new_row := to_jsonb(NEW);
  old_row := to_jsonb(OLD);
  FOREACH col IN ARRAY kept_by_sync LOOP
    IF new_row -> col IS DISTINCT FROM old_row -> col THEN
      RAISE EXCEPTION 'column % of % is kept by the sync and cannot be edited (id %)', col, TG_TABLE_NAME, OLD.id
        USING HINT = CASE
          WHEN col = 'st_data' THEN 'st_data holds ServiceTitan''s fields the sync does not edit: change them in ServiceTitan '
            || '(the next sync brings them here), or edit the synced columns: ' || array_to_string(TG_ARGV, ', ')
          WHEN col IN ('has_conflict', 'conflict_data', 'conflict_resolved_at', 'conflict_resolution', 'resolved_by')
            THEN 'Settle a conflict with the resolve-conflict webhook, or type the values you want into the synced columns.'
          ELSE 'Edit the synced columns (' || array_to_string(TG_ARGV, ', ') || '); set deleted_at to deactivate the '
            || 'item, clear it to reactivate, clear push_refused to retry a held edit.'
        END,
        ERRCODE = 'check_violation';
    END IF;
  END LOOP;
  IF NEW.push_refused IS NOT NULL AND NEW.push_refused IS DISTINCT FROM OLD.push_refused THEN
    RAISE EXCEPTION 'push_refused of % can only be cleared (set to NULL) to retry a held edit (id %)', TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  -- The row version is the sync's compare-and-set; a person's UPDATE always moves it, whatever it says.
  NEW.row_version := OLD.row_version + 1;
  NEW.updated_at := clock_timestamp();
  -- A soft delete is a deactivation in ServiceTitan; undoing it reactivates. `active` is what gets pushed.
  IF NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
    IF OLD.deleted_in_st AND NEW.deleted_at IS NULL THEN
      RAISE EXCEPTION '% row % was deleted in ServiceTitan and cannot be restored from here', TG_TABLE_NAME, OLD.id
        USING HINT = 'Create the item again: INSERT a new row without an id (or restore it in ServiceTitan; the next sync brings it back).',
              ERRCODE = 'check_violation';
    END IF;
    IF NOT OLD.deleted_in_st THEN
      NEW.active := NEW.deleted_at IS NULL;
    END IF;
  END IF;
  IF NEW.push_refused IS NULL AND OLD.push_refused IS NOT NULL THEN
    NEW.push_error := NULL;
  END IF;
  new_row := to_jsonb(NEW);
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
