-- A person's soft delete of a row whose item is already inactive (active false, synced) is an edit the sync must
-- see (docs/design.md INV-22). The trigger sets `active` to match deleted_at, so such a delete changed no synced
-- column and the row stayed 'synced': a ServiceTitan user who reactivated the item before the next run then looked
-- like the only change, and the run wrote active = true and cleared deleted_at, undoing the person's delete
-- silently (model seed 20261125 path 785, seed 20261129 path 496). Now every soft delete (or reactivation) a person
-- makes marks the row pending_push, like any edit: pending with the same content as its base is how the sync tells a
-- delete made since the row's last sync (that run rebases it to 'synced') from one a run already saw. Meeting
-- ServiceTitan's reactivation, such a delete is a conflict for a person (lib/sync/categorize.ts); a delete a run
-- already saw still follows a later reactivation in ServiceTitan.
--
-- The function is 0011's with that one change.
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
      -- Also when `active` already matched (the item was inactive): the delete is still the person's word, newer
      -- than the last sync, and must reach the sync as an edit (see the header).
      NEW.local_modified_at := clock_timestamp();
      NEW.sync_direction := 'to_st';
      IF OLD.sync_status <> 'conflict' THEN
        NEW.sync_status := 'pending_push';
      END IF;
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
