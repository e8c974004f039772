export { ServiceTitanClient, DEFAULT_MAX_RESPONSE_BYTES, MAX_IDS_PER_REQUEST, MAX_PAGE_SIZE } from './client';
export { DEFAULT_MAX_RECORD_DEPTH, TOO_DEEP_MARKER, nestsDeeperThan, tooDeepReason } from './depth';
export { ConfigError, ST_ENVIRONMENTS, ST_REQUESTS_PER_SECOND_LIMIT, resolveStUrls, stConfigFromEnv, validateStConfig } from './config';
export type { ResolvedStUrls } from './config';
export { StApiError, isStApiError } from './errors';
export type { StErrorKind, StSetting } from './errors';
export { connectionTestAdvice } from './connection-advice';
export type { SettingLabels } from './connection-advice';
export { flattenCategories } from './categories';
export { RateLimiter } from './rate-limiter';
export { LANES, currentLane, inLane } from './throttle';
export type { Lane, RequestThrottle } from './throttle';
export {
	StTimestampError,
	compareStTimestamps,
	isStTimestamp,
	normalizeStTimestamp,
	stTimestampToPg,
	stTimestampToTicks,
	subtractSeconds,
	ticksToStTimestamp,
} from './timestamps';
export { ENTITY_TYPES, isEntityType } from './types';
export type {
	EntityType,
	ExportParams,
	IterateParams,
	ListParams,
	StActiveFilter,
	StClientOptions,
	StClientStats,
	StConfig,
	StEnvironment,
	StExportPage,
	StLogFn,
	StLogLevel,
	StPage,
	StRecord,
} from './types';
