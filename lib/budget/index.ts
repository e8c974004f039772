export { budgetedStClient } from './budgeted-client';
export { DEFAULT_REQUESTS_PER_SECOND, LANE_HORIZON_S, LOWERED_FOR_S, PRIORITY_HOLD_S, SharedRequestBudget, budgetKeyOf } from './shared-budget';
export type { SharedBudgetOptions } from './shared-budget';
