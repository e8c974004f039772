-- Vendor price import (CED, Pool360, Home Depot feeds). vendor_prices keeps the current price where Retool reads
-- it; the columns below are what the feeds add. price_valid_from is when the current price became current, so a
-- price change can move the old price into vendor_price_history with the exact span it was valid.
ALTER TABLE vendor_prices
  ADD COLUMN description TEXT,
  ADD COLUMN unit TEXT,
  ADD COLUMN pack_size NUMERIC CHECK (pack_size > 0),
  ADD COLUMN effective_date DATE,
  ADD COLUMN price_valid_from TIMESTAMPTZ;
-- Rows from before this migration: the best known start of their price is their last update.
UPDATE vendor_prices SET price_valid_from = updated_at;
ALTER TABLE vendor_prices
  ALTER COLUMN price_valid_from SET DEFAULT now(),
  ALTER COLUMN price_valid_from SET NOT NULL;

-- Old prices, one row per price that was replaced. ON DELETE RESTRICT like vendor_prices itself: history is
-- kept even when the material is (soft-)deleted.
CREATE TABLE vendor_price_history (
  id BIGSERIAL PRIMARY KEY,
  vendor_price_id UUID NOT NULL REFERENCES vendor_prices (id) ON DELETE RESTRICT,
  price NUMERIC(12, 4),
  valid_from TIMESTAMPTZ NOT NULL,
  valid_to TIMESTAMPTZ NOT NULL,
  run_id BIGINT REFERENCES sync_runs (id) ON DELETE SET NULL,
  CHECK (valid_to >= valid_from)
);
CREATE INDEX ON vendor_price_history (vendor_price_id, valid_to DESC);

