-- Retention: `pricebook-sync prune` deletes change-log entries older than the window by their time.
CREATE INDEX sync_change_log_changed_at ON sync_change_log (changed_at);

-- Undo of a vendor price import (lib/vendor/undo.ts): each history row now also keeps the price the run set, so an
-- undo can tell a price still as that run left it from one changed since, by a later import (which moves
-- price_valid_from) or by a Retool edit (which does not). Rows from before this migration have none: an undo skips
-- them and says so.
ALTER TABLE vendor_price_history ADD COLUMN new_price NUMERIC(12, 4);
CREATE INDEX ON vendor_price_history (run_id);
