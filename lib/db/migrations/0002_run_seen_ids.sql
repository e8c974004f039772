-- Ids a full run has read from ServiceTitan, page by page. The soft-delete sweep runs only after the last page
-- and deletes only rows not listed here for the run; kept in PostgreSQL (not memory) so a run split across n8n
-- nodes or workers sees the same set. Rows are removed when the run finishes.
CREATE TABLE sync_run_seen (
  run_id BIGINT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
  entity_id BIGINT NOT NULL,
  PRIMARY KEY (run_id, entity_id)
);
