/**
 * The sync library's public surface: the nodes and the CLI import the library only from here (eslint.config.mjs
 * enforces it), so modules behind it can move without touching them. n8n is not imported anywhere under lib/.
 */
export { connectDb, closeDb, describeDbTarget, type Db, type DbConfig } from './db/connection';
export { embeddedDatabaseUrl, passwordFileOf, startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded';
export { migrate } from './db/migrate';
export { bindTenant, hasSyncHistory, readTenantBinding, type TenantBinding } from './db/tenant-binding';
export { applyRoleGrants, roleGrantSql, roleSetupSql, DEFAULT_ROLE_NAMES, type AppliedGrants, type RoleNames } from './db/roles';
export {
	ServiceTitanClient,
	StApiError,
	isStApiError,
	ConfigError,
	stConfigFromEnv,
	validateStConfig,
	connectionTestAdvice,
	ENTITY_TYPES,
	isEntityType,
	inLane,
	ST_REQUESTS_PER_SECOND_LIMIT,
} from './servicetitan';
export type { EntityType, Lane, SettingLabels, StConfig, StSetting } from './servicetitan';
export { budgetedStClient, DEFAULT_REQUESTS_PER_SECOND, SharedRequestBudget } from './budget';

// The failure vocabulary, and each surface's input checks and HTTP answers.
export {
	FAILURE_KINDS,
	SyncFailure,
	failureKindOf,
	failureKindOfRuns,
	failureOfRun,
	errorMessage,
	isFailureKind,
	needsAttention,
	type FailureKind,
} from './failures';
export { SyncNotFoundError, SyncStateError, SyncValidationError } from './sync/errors';
export {
	entityIdOf,
	entityTypeOf,
	entityTypesOf,
	positiveIdOf,
	wholeNumberOf,
	choiceOf,
	resolutionOf,
	resolvedByOf,
	isIsoTime,
	isoTimeOf,
	jsonOf,
} from './api/validators';
export { MAX_BODY_BYTES, parseSyncRequest, parseEntityRequest, parseResolveRequest, parseUndoRequest } from './api/requests';
export { answerForRuns, answerForResolution, answerForUndo, answerForError, failureOfAnswer, type HttpAnswer } from './api/responses';
export { httpStatusFor } from './api/http-status';
export { checkWebhookKey, type WebhookKey, type WebhookKeyCheck } from './api/webhook-key';

// Sync runs: in one process (SyncEngine), or split into steps that n8n runs as separate nodes.
export { SyncEngine, SYNC_ORDER } from './sync/engine';
export type { RunDeps, RunProgressEvent, RunRequest, RunResult, SyncSettings } from './sync/run-types';
export type { StApi, SyncLog } from './sync/ports';
export { DEFAULT_SETTINGS } from './sync/run-types';
export { startStagedRuns, fetchStagedPage, categorizeStagedPage, applyStagedPage, finishStagedRun, type StagedRunRef } from './sync/staged-run';
export { runTriggerOf, type ExecutionOrigin } from './sync/run-trigger';
export {
	startedReport,
	fetchedReport,
	categorizedReport,
	appliedReport,
	storedConflictsReport,
	nextPageStep,
	finishedReport,
	type StepReport,
	type StoredConflictEntry,
} from './sync/step-reports';
export { describeFailedRuns, failStagedRuns, type FailedRun, type StepFailure } from './sync/staged-failure';
export { resolveConflict, RESOLUTIONS, type Resolution, type ResolveResult } from './sync/resolve';
export { undoRun, DEFAULT_UNDO_RETENTION_DAYS, type UndoRequest, type UndoResult } from './sync/undo';
export { restoreItem, type RestoreRequest, type RestoreResult } from './sync/restore';
export { retryHeldPushes, type RetryPushRequest, type RetryPushResult } from './sync/retry-push';

export { getSyncStatus, type SyncStatus } from './reporting/status';
export { describeBudgetUse, type BudgetUse } from './reporting/budget-use';
export { listConflicts } from './reporting/conflicts';
export { listHeldPushes, type HeldPush } from './reporting/held-pushes';
export { listRuns, listChanges, toCsv } from './reporting/logs';
export { renderStatusPage } from './reporting/status-page';
export { itemHistory, type ItemHistory, type ItemHistoryEntry } from './reporting/item-history';
export {
	pruneChangeLog,
	retentionDaysOf,
	DEFAULT_RETENTION_DAYS,
	RETENTION_SETTING,
	beyondRetentionMessage,
	isBeyondRetention,
	type PruneResult,
} from './retention';
export { loadVendorConfig, vendorConfigFor, VendorConfigError } from './vendor/config';
export { downloadFeed, FeedFetchError, type DownloadedFeed, type FetchFeedOptions } from './vendor/fetch';
export { importVendorPrices, type VendorImportResult } from './vendor/import';
export { undoVendorImport, type VendorUndoLine, type VendorUndoOptions, type VendorUndoResult } from './vendor/undo';
