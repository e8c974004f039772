-- Conflicts settled by hand: a person makes both sides agree outside the resolve webhook (typing ServiceTitan's
-- values in Retool, or the local values in ServiceTitan; or soft-deleting a row ServiceTitan deleted), and the
-- next run that sees the item closes its conflict instead of keeping an empty diff open forever. The conflict row
-- records that with its own resolution value, so the audit trail never claims a person chose use_st, use_local or
-- merged. The pricebook tables' conflict_resolution keeps its three values (the contract with Retool): a settled
-- row has it NULL, with conflict_resolved_at and resolved_by saying when and that the sync closed it.
ALTER TABLE sync_conflicts DROP CONSTRAINT sync_conflicts_resolution_check;
ALTER TABLE sync_conflicts ADD CONSTRAINT sync_conflicts_resolution_check
  CHECK (resolution IN ('use_st', 'use_local', 'merged', 'settled_by_hand'));
