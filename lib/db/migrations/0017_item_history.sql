-- Per-item history (`pricebook-sync history` and Retool): every change-log entry of an item with its run, who made
-- it where that is recorded, and only the fields that changed, each with its value before and after.
--
-- The change log stores each action's own shape (lib/sync/write.ts, push.ts, resolve-writes.ts, create-local.ts,
-- retry-push.ts); `before_values` and `after_values` below turn them into two comparable objects:
-- - a resolution or a conflict settled by hand stores both sides before; the row held the local side;
-- - a delete (soft_deleted, or a resolution that kept ServiceTitan's delete) is the change deleted: false -> true,
--   not every field emptied;
-- - an item created in ServiceTitan from a Retool insert changed its id from the temporary id to ServiceTitan's.
CREATE VIEW pricebook_item_history AS
SELECT
  l.id AS change_id,
  l.entity_type,
  l.entity_id,
  l.changed_at,
  l.action,
  l.run_id,
  r.kind AS run_kind,
  r.trigger AS run_trigger,
  -- A resolver (resolve), a person asking for a retry (retry-push) or for an undo; none for a scheduled run.
  COALESCE(r.details ->> 'resolvedBy', l.after ->> 'requestedBy', r.details ->> 'by') AS changed_by,
  CASE WHEN l.action = 'created_in_st' THEN (l.before ->> 'temporaryId')::bigint END AS temporary_id,
  d.fields
FROM sync_change_log l
LEFT JOIN sync_runs r ON r.id = l.run_id
CROSS JOIN LATERAL (
  SELECT
    CASE
      WHEN l.action = 'created_in_st' THEN jsonb_build_object('id', l.before -> 'temporaryId')
      WHEN (l.action LIKE 'resolved\_%' OR l.action = 'conflict_settled') AND jsonb_typeof(l.before -> 'local') = 'object' THEN l.before -> 'local'
      WHEN jsonb_typeof(l.before) = 'object' THEN l.before
      ELSE '{}'::jsonb
    END AS b,
    CASE
      WHEN l.action = 'created_in_st' AND jsonb_typeof(l.after) = 'object' THEN l.after || jsonb_build_object('id', l.entity_id)
      WHEN l.action = 'created_in_st' THEN jsonb_build_object('id', l.entity_id)
      WHEN jsonb_typeof(l.after) = 'object' THEN l.after
      ELSE '{}'::jsonb
    END AS a,
    l.action = 'soft_deleted' OR l.after = '{"deleted": true}'::jsonb AS deleted
) raw
CROSS JOIN LATERAL (
  SELECT
    CASE WHEN raw.deleted THEN jsonb_build_object('deleted', false) ELSE raw.b END AS b,
    CASE WHEN raw.deleted THEN jsonb_build_object('deleted', true) ELSE raw.a END AS a
) v
CROSS JOIN LATERAL (
  SELECT COALESCE(jsonb_object_agg(k, jsonb_build_object('before', v.b -> k, 'after', v.a -> k)), '{}'::jsonb) AS fields
  FROM jsonb_object_keys(v.b || v.a) AS k
  WHERE v.b -> k IS DISTINCT FROM v.a -> k
) d;

-- Finding the item a temporary id became (history asked for by the id a Retool insert first had).
CREATE INDEX sync_change_log_temporary_id ON sync_change_log (entity_type, ((before ->> 'temporaryId')::bigint))
  WHERE action = 'created_in_st';
