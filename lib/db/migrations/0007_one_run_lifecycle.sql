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
  ADD COLUMN items JSON NOT NULL,
  -- The Categorize step's decisions: [{id, category, action, reason, fields?, conflictKind?, rowVersion}].
  ADD COLUMN plan JSON;
ALTER TABLE sync_runs ADD COLUMN max_modified_on TEXT;
