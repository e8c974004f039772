-- Incremental runs that miss nothing (lib/sync/run-lifecycle.ts):
-- - a run notes ServiceTitan's clock (the Date header of its answer) before it lists: the cursor it saves never
--   passes that moment (plus a small tolerance), so a record stamped in ServiceTitan's future cannot pin it, and
--   anything changed while the run was reading is read again by the next run;
-- - incremental runs of stamped types read ServiceTitan's export feed, which continues from a token instead of a
--   page number (an item moving while the run reads cannot make another slide past it) and carries deleted
--   records; a staged run keeps each page's continuation token for the next page;
-- - an inactive record in the feed (deactivated, or deleted) is looked up by id before anything is decided, like
--   the full run's sweep: sync_run_seen marks it for that.
ALTER TABLE sync_runs ADD COLUMN st_clock_at_start TEXT;
ALTER TABLE sync_page_stage ADD COLUMN continue_from TEXT;
ALTER TABLE sync_run_seen ADD COLUMN recheck BOOLEAN NOT NULL DEFAULT FALSE;
