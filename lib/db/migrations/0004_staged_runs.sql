-- Runs split across n8n nodes (start, fetch page, categorize, apply, store conflicts, finish) keep their state
-- here, never in n8n's memory: a lease per entity type (so two executions or queue-mode workers cannot run the
-- same type at once, and a dead execution's lease simply expires) and the pages fetched from ServiceTitan.
ALTER TABLE sync_state
  ADD COLUMN lease_run_id BIGINT,
  ADD COLUMN lease_expires_at TIMESTAMPTZ,
  -- 'library': a run in one process holding the advisory lock (dead if the lock is free);
  -- 'staged': a run across n8n nodes (dead once the lease expired).
  ADD COLUMN lease_mode TEXT CHECK (lease_mode IN ('library', 'staged'));

CREATE TABLE sync_page_stage (
  run_id BIGINT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
  page INTEGER NOT NULL CHECK (page >= 1),
  -- Valid records only; invalid ones were logged when the page was fetched. JSON (text), not JSONB: written
  -- once and read back whole, so PostgreSQL's binary form would only cost a parse each way.
  records JSON NOT NULL,
  item_count INTEGER NOT NULL,
  has_more BOOLEAN NOT NULL,
  max_modified_on TEXT,
  fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Per phase: when it ran and what it counted, so n8n re-running a node does not apply or count twice.
  applied_at TIMESTAMPTZ,
  applied JSONB,
  conflicts_stored_at TIMESTAMPTZ,
  conflicts_stored JSONB,
  -- Ids the changes phase left to the conflicts phase (null until it ran).
  conflict_ids BIGINT[],
  PRIMARY KEY (run_id, page)
);
