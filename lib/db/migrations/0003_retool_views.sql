-- Views for Retool (and anyone with SQL) to read the sync's state directly. Documented in the README under
-- "Views for Retool"; their columns are a contract like the tables'.

-- One row per entity type: counts and the last runs.
CREATE VIEW pricebook_sync_status_v AS
WITH counts AS (
  SELECT 'services' AS entity_type, count(*) FILTER (WHERE deleted_at IS NULL) AS total,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced') AS synced,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')) AS pending,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict') AS conflicts,
    count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
    count(*) FILTER (WHERE push_error IS NOT NULL) AS push_errors
  FROM pricebook_services
  UNION ALL
  SELECT 'materials', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL)
  FROM pricebook_materials
  UNION ALL
  SELECT 'equipment', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL)
  FROM pricebook_equipment
  UNION ALL
  SELECT 'categories', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL)
  FROM pricebook_categories
)
SELECT c.entity_type, c.total::int, c.synced::int, c.pending::int, c.conflicts::int, c.deleted::int, c.push_errors::int,
  s.last_full_sync_at, s.last_incremental_sync_at, s.last_success_at, s.consecutive_failures, s.cursor_raw AS incremental_cursor,
  last_run.status AS last_run_status, last_run.kind AS last_run_kind, last_run.finished_at AS last_run_finished_at,
  last_run.error AS last_run_error
FROM counts c
JOIN sync_state s USING (entity_type)
LEFT JOIN LATERAL (
  SELECT status, kind, finished_at, error FROM sync_runs r
  WHERE r.entity_type = c.entity_type AND r.kind IN ('full', 'incremental') AND r.status IN ('succeeded', 'failed') AND NOT r.dry_run
  ORDER BY r.started_at DESC, r.id DESC LIMIT 1
) last_run ON TRUE;

-- Open conflicts, one row each, with a side-by-side diff: one array element per differing field.
CREATE VIEW pricebook_open_conflicts_v AS
SELECT c.id AS conflict_id, c.entity_type, c.entity_id, c.kind, c.detected_at, c.updated_at,
  c.conflict_data -> 'localVersion' -> 'data' ->> CASE WHEN c.entity_type = 'categories' THEN 'name' ELSE 'code' END AS item_label,
  (c.conflict_data -> 'stVersion' ->> 'deleted')::boolean AS deleted_in_st,
  c.conflict_data -> 'stVersion' ->> 'modifiedOn' AS st_modified_on,
  c.conflict_data -> 'localVersion' ->> 'modifiedAt' AS local_modified_at,
  COALESCE((
    SELECT jsonb_agg(jsonb_build_object(
      'field', f.field,
      'base', c.conflict_data -> 'diff' -> 'baseValues' -> f.field,
      'st', c.conflict_data -> 'diff' -> 'stValues' -> f.field,
      'local', c.conflict_data -> 'diff' -> 'localValues' -> f.field) ORDER BY f.ord)
    FROM jsonb_array_elements_text(c.conflict_data -> 'diff' -> 'fields') WITH ORDINALITY AS f(field, ord)
  ), '[]'::jsonb) AS diff,
  c.suggested_merge
FROM sync_conflicts c
WHERE c.status = 'open';

-- The last 200 runs, newest first.
CREATE VIEW pricebook_recent_runs_v AS
SELECT id AS run_id, kind, entity_type, trigger, dry_run, status, started_at, finished_at,
  EXTRACT(EPOCH FROM (finished_at - started_at))::numeric(12, 3) AS duration_s,
  counts, items_synced, items_pushed, conflicts_detected, errors_count, error, window_from, window_to
FROM sync_runs
ORDER BY started_at DESC, id DESC
LIMIT 200;
