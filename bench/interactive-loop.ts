import { budgetedStClient } from '../lib/budget';
import { closeDb, connectDb } from '../lib/db/connection';
import type { EntityType } from '../lib/entities/types';
import type { StConfig } from '../lib/servicetitan';
import { SyncEngine } from '../lib/sync/engine';

/** One single-entity sync: when it began (Date.now()) and how long it took, ms. */
export interface InteractiveSample {
	startedAtMs: number;
	ms: number;
}

/**
 * Single-entity syncs (a person's save in Retool: the interactive lane) started every `everyMs` in this process,
 * drawing on the request budget shared through `dbUrl`, until stopped; each one's wall time is recorded. The
 * items are taken in turn from `ids`. A run that does not succeed stops the loop and fails `stop()`.
 */
export function startInteractiveLoop(
	dbUrl: string,
	st: StConfig,
	entityType: EntityType,
	ids: readonly number[],
	everyMs: number,
): { stop(): Promise<InteractiveSample[]> } {
	if (ids.length === 0) throw new Error(`no ${entityType} to sync one by one`);
	const db = connectDb({ connectionString: dbUrl, max: 2, applicationName: 'pricebook-bench-interactive' });
	const client = budgetedStClient(db, st, { userAgent: 'n8n-nodes-perfectcatch-pricebook' });
	const engine = new SyncEngine({ db, st: client });
	const samples: InteractiveSample[] = [];
	let stopping = false;
	let wake: (() => void) | null = null;
	let failed: { error: unknown } | null = null;
	const loop = (async () => {
		for (let i = 0; !stopping; i++) {
			const startedAtMs = Date.now();
			const start = process.hrtime.bigint();
			const r = await engine.run({ kind: 'entity', entityType, entityId: ids[i % ids.length], trigger: 'benchmark' });
			samples.push({ startedAtMs, ms: Number(process.hrtime.bigint() - start) / 1e6 });
			if (r.status !== 'succeeded') throw new Error(`a single-entity sync of ${entityType} ended ${r.status}: ${r.message ?? ''}`);
			const pause = everyMs - (Date.now() - startedAtMs);
			if (pause > 0 && !stopping)
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, pause);
					wake = () => {
						clearTimeout(timer);
						resolve();
					};
				});
		}
	})().catch((error: unknown) => {
		// Kept for stop(), which the case calls once the pushes are done: failing now would leave them running.
		failed = { error };
	});
	return {
		async stop() {
			stopping = true;
			(wake as (() => void) | null)?.();
			try {
				await loop;
			} finally {
				client.close();
				await closeDb(db);
			}
			if (failed) throw (failed as { error: unknown }).error;
			return samples;
		},
	};
}
