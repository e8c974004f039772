import type { EntityType, ExportParams, IterateParams, ListParams, StExportPage, StPage, StRecord } from '../servicetitan/types';

/** What the engine needs from ServiceTitan; the real client satisfies it, and so can a test double. */
export interface StApi {
	listPage(entity: EntityType, params: ListParams): Promise<StPage>;
	iteratePages(entity: EntityType, params: IterateParams): AsyncIterable<StPage>;
	/** One page of the export feed (changes in ServiceTitan's order, deleted records included, resumable). */
	exportPage(entity: EntityType, params: ExportParams): Promise<StExportPage>;
	/** ServiceTitan's clock (its answers' `Date` header); null when it sends none. */
	serverNow(entity: EntityType): Promise<Date | null>;
	getByIds(entity: EntityType, ids: readonly number[]): Promise<StRecord[]>;
	get(entity: EntityType, id: number): Promise<StRecord | null>;
	patch(entity: EntityType, id: number, body: Record<string, unknown>): Promise<StRecord>;
	/** POST a new item; not repeated after a lost answer (look the item up before sending again). */
	create(entity: EntityType, body: Record<string, unknown>): Promise<StRecord>;
}

export type SyncLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
