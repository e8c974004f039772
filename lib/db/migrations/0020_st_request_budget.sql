-- One ServiceTitan request budget per app and tenant, shared by every process that talks to that tenant (the CLI,
-- each n8n worker): ServiceTitan counts its 60 requests per second per app and tenant, not per process. Each request
-- reserves the next free slot in this row (lib/db/st-budget.ts), spaced 1/rate apart on the database's clock, so
-- processes on different hosts agree on time. A 429 anywhere moves next_slot past the wait ServiceTitan named and
-- lowers the rate for everyone for a while.
CREATE TABLE st_request_budget (
  -- sha256 of the app key and tenant id: the app key itself is a credential and is not stored.
  budget_key TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  -- The earliest time the next request may start.
  next_slot TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  -- The rate the last request asked for (each process's configured rate), for status.
  rate_per_second NUMERIC(8, 3) NOT NULL,
  -- After a 429: the rate is multiplied by lowered_factor until lowered_until.
  lowered_until TIMESTAMPTZ,
  lowered_factor NUMERIC(6, 4) NOT NULL DEFAULT 1 CHECK (lowered_factor > 0 AND lowered_factor <= 1),
  rate_limited_count BIGINT NOT NULL DEFAULT 0,
  last_rate_limited_at TIMESTAMPTZ,
  -- Until when full runs and backfills hold back: a person's request or the incremental run was served just before,
  -- so more of them are probably coming (see LANE_HORIZON_S in lib/budget/shared-budget.ts).
  priority_until TIMESTAMPTZ,
  -- Requests per lane in the current minute and the one before, for status ({"bulk": 2400, "interactive": 3}).
  minute_start TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  this_minute JSONB NOT NULL DEFAULT '{}',
  last_minute JSONB NOT NULL DEFAULT '{}',
  updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
