import { inRunLane } from './lanes';
import type { Db } from '../db/connection';
import type { EntityType } from '../entities/types';
import type { StApi, SyncLog } from './ports';
import { DEFAULT_SETTINGS, runSync, type RunProgressEvent, type RunRequest, type RunResult, type SyncKind, type SyncSettings } from './runs';

/** Categories first (services and SKUs refer to them), then the rest in parallel. */
export const SYNC_ORDER: readonly EntityType[] = ['categories', 'services', 'materials', 'equipment'];

export interface SyncEngineOptions {
	db: Db;
	st: StApi;
	/** Injected so tests and the model-based suite control time. */
	now?: () => Date;
	log?: SyncLog;
	settings?: Partial<SyncSettings>;
	onProgress?: (event: RunProgressEvent) => void;
}

export class SyncEngine {
	private readonly deps;

	constructor(options: SyncEngineOptions) {
		this.deps = {
			db: options.db,
			st: options.st,
			now: options.now ?? (() => new Date()),
			log: options.log ?? (() => undefined),
			settings: { ...DEFAULT_SETTINGS, ...options.settings },
			onProgress: options.onProgress,
		};
	}

	run(request: RunRequest): Promise<RunResult> {
		// Every ServiceTitan request of the run waits in its lane of the shared budget (lib/budget).
		return inRunLane(request.kind, () => runSync(this.deps, request));
	}

	/** Runs one kind of sync over several entity types; categories go first when included. */
	async runMany(
		kind: Exclude<SyncKind, 'entity'>,
		entityTypes: readonly EntityType[],
		options: Omit<RunRequest, 'entityType' | 'kind'> = {},
	): Promise<RunResult[]> {
		const ordered = SYNC_ORDER.filter((t) => entityTypes.includes(t));
		const results: RunResult[] = [];
		if (ordered[0] === 'categories') results.push(await this.run({ ...options, kind, entityType: 'categories' }));
		const rest = ordered.filter((t) => t !== 'categories');
		results.push(...(await Promise.all(rest.map((entityType) => this.run({ ...options, kind, entityType })))));
		return results;
	}
}
