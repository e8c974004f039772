-- Verified pushes, made visible. Every push is read back from ServiceTitan and judged per field (lib/sync/verify-push.ts):
-- - a run counts its pushes as verified (stored exactly as sent), normalized (stored in ServiceTitan's own equivalent
--   form, which the local row adopted) or ignored (ServiceTitan answered but kept its own value for a field: the edit
--   is held locally);
-- - the change log row of a push carries a receipt: per pushed field, what was sent, what ServiceTitan stored and
--   the outcome (landed, normalized, ignored).
ALTER TABLE sync_runs
  ADD COLUMN pushes_verified INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN pushes_normalized INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN pushes_ignored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_change_log ADD COLUMN receipt JSONB;

-- The held-pushes view finds when each row's edit was held by its newest error-log entry.
CREATE INDEX ON sync_error_log (entity_type, entity_id, occurred_at DESC);

-- Views: new columns go last (CREATE OR REPLACE VIEW may only append), so Retool queries naming columns keep working.
CREATE OR REPLACE VIEW pricebook_recent_runs_v AS
SELECT id AS run_id, kind, entity_type, trigger, dry_run, status, started_at, finished_at,
  EXTRACT(EPOCH FROM (finished_at - started_at))::numeric(12, 3) AS duration_s,
  counts, items_synced, items_pushed, conflicts_detected, errors_count, error, window_from, window_to,
  pushes_verified, pushes_normalized, pushes_ignored
FROM sync_runs
ORDER BY started_at DESC, id DESC
LIMIT 200;

CREATE OR REPLACE VIEW pricebook_sync_status_v AS
WITH counts AS (
  SELECT 'services' AS entity_type, count(*) FILTER (WHERE deleted_at IS NULL) AS total,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced') AS synced,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')) AS pending,
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict') AS conflicts,
    count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
    count(*) FILTER (WHERE push_error IS NOT NULL) AS push_errors,
    count(*) FILTER (WHERE deleted_at IS NULL AND push_refused IS NOT NULL) AS pushes_held
  FROM pricebook_services
  UNION ALL
  SELECT 'materials', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND push_refused IS NOT NULL)
  FROM pricebook_materials
  UNION ALL
  SELECT 'equipment', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND push_refused IS NOT NULL)
  FROM pricebook_equipment
  UNION ALL
  SELECT 'categories', count(*) FILTER (WHERE deleted_at IS NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'synced'),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status IN ('pending_push', 'pending_pull')),
    count(*) FILTER (WHERE deleted_at IS NULL AND sync_status = 'conflict'),
    count(*) FILTER (WHERE deleted_at IS NOT NULL),
    count(*) FILTER (WHERE push_error IS NOT NULL),
    count(*) FILTER (WHERE deleted_at IS NULL AND push_refused IS NOT NULL)
  FROM pricebook_categories
)
SELECT c.entity_type, c.total::int, c.synced::int, c.pending::int, c.conflicts::int, c.deleted::int, c.push_errors::int,
  s.last_full_sync_at, s.last_incremental_sync_at, s.last_success_at, s.consecutive_failures, s.cursor_raw AS incremental_cursor,
  last_run.status AS last_run_status, last_run.kind AS last_run_kind, last_run.finished_at AS last_run_finished_at,
  last_run.error AS last_run_error, c.pushes_held::int
FROM counts c
JOIN sync_state s USING (entity_type)
LEFT JOIN LATERAL (
  SELECT status, kind, finished_at, error FROM sync_runs r
  WHERE r.entity_type = c.entity_type AND r.kind IN ('full', 'incremental') AND r.status IN ('succeeded', 'failed') AND NOT r.dry_run
  ORDER BY r.started_at DESC, r.id DESC LIMIT 1
) last_run ON TRUE;

-- Local edits ServiceTitan did not take (it kept its own value, or refused the values with a 400): one row each,
-- with the held values, ServiceTitan's values of the same fields and the reason. They are not sent again until the
-- row is edited or a person retries (`pricebook-sync retry-push`).
CREATE VIEW pricebook_held_pushes_v AS
WITH held AS (
  SELECT 'services' AS entity_type, id, code AS item_label, push_refused, sync_base, push_error FROM pricebook_services
  WHERE push_refused IS NOT NULL AND deleted_at IS NULL
  UNION ALL
  SELECT 'materials', id, code, push_refused, sync_base, push_error FROM pricebook_materials WHERE push_refused IS NOT NULL AND deleted_at IS NULL
  UNION ALL
  SELECT 'equipment', id, code, push_refused, sync_base, push_error FROM pricebook_equipment WHERE push_refused IS NOT NULL AND deleted_at IS NULL
  UNION ALL
  SELECT 'categories', id, name, push_refused, sync_base, push_error FROM pricebook_categories WHERE push_refused IS NOT NULL AND deleted_at IS NULL
)
SELECT h.entity_type, h.id AS entity_id, h.item_label,
  ARRAY(SELECT jsonb_object_keys(h.push_refused) ORDER BY 1) AS fields,
  h.push_refused AS held_values,
  (SELECT COALESCE(jsonb_object_agg(k, h.sync_base -> k), '{}'::jsonb) FROM jsonb_object_keys(h.push_refused) AS k) AS st_values,
  h.push_error AS reason,
  since.occurred_at AS held_since
FROM held h
LEFT JOIN LATERAL (
  SELECT occurred_at FROM sync_error_log e
  WHERE e.entity_type = h.entity_type AND e.entity_id = h.id AND e.kind IN ('push_not_applied', 'push_rejected', 'resolution_not_applied')
  ORDER BY occurred_at DESC LIMIT 1
) since ON TRUE;
