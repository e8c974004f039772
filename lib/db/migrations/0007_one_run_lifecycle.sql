-- One run lifecycle for the CLI and the n8n steps (lib/sync/run-lifecycle.ts):
-- - a staged page holds the records already validated (with their canonical form), so no later step validates
--   them again, and the plan the Categorize step made, so Apply Changes and Store Conflicts carry it out instead
--   of deciding again (they decide again only for rows a person edited in between);
-- - a run's counts and its newest ServiceTitan stamp live in its ledger row, added to page by page by either
--   driver, so the finished result is read from one place.
-- Pages staged by a run that was under way during the upgrade have the old shape: they are dropped, and that run
-- fails at its next step saying so; the next run starts afresh.
DELETE FROM sync_page_stage;
ALTER TABLE sync_page_stage
  DROP COLUMN records,
  -- [{id, record, canonical, modifiedOn}]: valid records only, each id once per run (repeats across pages dropped).
  -- Text, not JSON: written by us and read back whole, so PostgreSQL's parse of several MB a page buys nothing.
  ADD COLUMN items TEXT NOT NULL,
  -- The Categorize step's decisions: [{id, category, action, reason, fields?, conflictKind?, rowVersion}].
  ADD COLUMN plan JSON,
  -- Told apart from any other staging of the same run id and page (another database, or a reset one), so the
  -- process that staged a page can trust its in-memory copy only when the tokens match.
  ADD COLUMN token UUID NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sync_runs
  ADD COLUMN max_modified_on TEXT,
  -- ServiceTitan's totalCount on the run's last listing page: a listing that changed while it was read can skip
  -- an item (it slides onto a page already read), and then the run has seen fewer distinct ids than this.
  ADD COLUMN listed_total INTEGER;

-- Staged pages live minutes and are rewritten by every scheduled run: no write-ahead log for them. After a
-- PostgreSQL crash the table comes back empty, and a run whose pages are gone fails at its next step and is
-- taken over by the next run, exactly as if its n8n execution had died.
ALTER TABLE sync_page_stage SET UNLOGGED;
-- Stored out of line but not compressed: a page is several MB, written once and read once or twice within
-- minutes, and compressing it cost more time than the whole write (measured: a 50,000-item full sync).
ALTER TABLE sync_page_stage ALTER COLUMN items SET STORAGE EXTERNAL, ALTER COLUMN plan SET STORAGE EXTERNAL;

-- Closing a run counts its logged errors; without this every close would scan the whole error log.
CREATE INDEX ON sync_error_log (run_id);
