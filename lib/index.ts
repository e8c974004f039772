/** The sync library's public surface (what the nodes and the CLI use; n8n is not imported anywhere under lib/). */
export { connectDb, closeDb, type Db, type DbConfig } from './db/connection';
export { migrate } from './db/migrate';
export { ServiceTitanClient, StApiError, stConfigFromEnv } from './servicetitan';
export type { EntityType, StConfig } from './servicetitan';
export { SyncEngine, SYNC_ORDER } from './sync/engine';
export type { RunRequest, RunResult, SyncSettings } from './sync/run-types';
export { DEFAULT_SETTINGS } from './sync/run-types';
export { resolveConflict, RESOLUTIONS, type Resolution, type ResolveResult } from './sync/resolve';
export { SyncNotFoundError, SyncStateError, SyncValidationError } from './sync/errors';
export { getSyncStatus, type SyncStatus } from './reporting/status';
export { listConflicts } from './reporting/conflicts';
export { listRuns, listChanges, toCsv } from './reporting/logs';
export { renderStatusPage } from './reporting/status-page';
export { importVendorPrices } from './vendor/import';
