import { rowValuesFromCanonical, stExtraData } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import type { ConflictClosing, ConflictRecord } from '../db/conflict-store';
import type { ChangeLogEntry, RunProgress, RunStart } from '../db/ledger';
import type { StoredRow, StWrite } from '../db/pricebook-store';
import { recordStamp, stampForPg } from '../servicetitan/timestamps';
import type { ResolveRequest, ResolveResult, Sides, StVersion } from './resolve-decision';

/**
 * Everything a carried-out resolution writes, worked out before the transaction that writes it: the row
 * (ServiceTitan's version, or its delete), the closed conflict, the change log entry and a run-ledger row.
 * Pure, like the decision; lib/sync/resolve.ts writes it.
 */
export interface ResolutionWrites {
	/** When it is all written: the resolution's time. */
	at: Date;
	run: RunStart;
	/** ServiceTitan's version for the row (compare-and-set on the row version read); null: accept the delete. */
	row: StWrite | null;
	/** Which way the values went: from ServiceTitan (use_st) or to it (use_local, merged). */
	syncDirection: 'from_st' | 'to_st';
	decided: { resolution: ResolveRequest['resolution']; resolvedBy: string };
	closing: ConflictClosing;
	change: ChangeLogEntry;
	finishDetails: Record<string, unknown>;
	progress: RunProgress;
	/** The answer once all of it is written. */
	result: ResolveResult;
}

export function resolutionWrites(
	def: EntityDefinition,
	conflict: ConflictRecord,
	request: ResolveRequest,
	row: StoredRow,
	before: Sides,
	st: StVersion | null,
	at: Date,
): ResolutionWrites {
	const resolvedBy = request.resolvedBy.trim();
	const after: CanonicalRecord | null = st ? st.canonical : null;
	const pulled = request.resolution === 'use_st';
	return {
		at,
		run: {
			kind: 'resolution',
			entityType: def.type,
			trigger: request.trigger ?? 'cli',
			dryRun: false,
			details: { conflictId: conflict.id, resolution: request.resolution, resolvedBy },
		},
		row: st
			? {
					id: conflict.entity_id,
					values: rowValuesFromCanonical(def, st.canonical),
					base: st.canonical,
					stData: stExtraData(def, st.record),
					stModifiedOnRaw: recordStamp(st.record),
					stModifiedOnPg: stampForPg(recordStamp(st.record)),
					rowVersion: Number(row.row_version),
				}
			: null,
		syncDirection: pulled ? 'from_st' : 'to_st',
		decided: { resolution: request.resolution, resolvedBy },
		closing: { resolution: request.resolution, resolvedBy, before, after: after ?? { deleted: true } },
		change: { entityId: conflict.entity_id, action: `resolved_${request.resolution}`, before, after: after ?? { deleted: true } },
		finishDetails: { conflictId: conflict.id },
		progress: { pagesRead: 0, itemsSeen: 1, counts: {}, itemsSynced: pulled ? 1 : 0, itemsPushed: pulled ? 0 : 1, conflictsDetected: 0, errors: 0 },
		result: {
			conflictId: conflict.id,
			entityType: def.type,
			entityId: conflict.entity_id,
			status: 'resolved',
			resolution: request.resolution,
			resolvedBy,
			resolvedAt: at.toISOString(),
			message: st ? `resolved with ${request.resolution}` : `resolved with ${request.resolution}: the item stays deleted (soft-deleted locally)`,
			before,
			after,
		},
	};
}
