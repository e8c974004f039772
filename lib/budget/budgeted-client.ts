import type { Db } from '../db/connection';
import { ServiceTitanClient } from '../servicetitan/client';
import type { StClientOptions, StConfig } from '../servicetitan/types';
import { SharedRequestBudget } from './shared-budget';

/**
 * A ServiceTitan client whose requests draw on the budget this database shares with every other process syncing
 * the same app and tenant (the CLI, each n8n worker), at config.requestsPerSecond.
 */
export function budgetedStClient(db: Db, config: StConfig, options: Omit<StClientOptions, 'throttle' | 'requestsPerSecond'> = {}): ServiceTitanClient {
	const throttle = new SharedRequestBudget(db, { appKey: config.appKey, tenantId: config.tenantId, requestsPerSecond: config.requestsPerSecond });
	return new ServiceTitanClient(config, { ...options, throttle });
}
