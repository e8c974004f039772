import type { Db } from '../db/connection';
import { listConflictRecords, type StoredConflictData } from '../db/conflict-store';
import type { EntityType } from '../entities/types';

export interface FieldDiff {
	field: string;
	base: unknown;
	st: unknown;
	local: unknown;
}

export interface ConflictListItem {
	id: number;
	entityType: EntityType;
	entityId: number;
	kind: string;
	status: 'open' | 'resolved';
	label: string | null;
	detectedAt: string;
	deletedInSt: boolean;
	/** Side by side, one entry per differing field: the base (last synced), ServiceTitan and local values. */
	diff: FieldDiff[];
	suggestedMerge: unknown;
	resolution: string | null;
	resolvedBy: string | null;
	resolvedAt: string | null;
}

export interface ConflictFilter {
	entityType?: EntityType;
	/** Default `open`. */
	status?: 'open' | 'resolved' | 'all';
	limit?: number;
}

export function diffOf(data: StoredConflictData): FieldDiff[] {
	const diff = data.diff ?? {};
	return (diff.fields ?? []).map((field) => ({
		field,
		base: diff.baseValues?.[field] ?? null,
		st: diff.stValues?.[field] ?? null,
		local: diff.localValues?.[field] ?? null,
	}));
}

export async function listConflicts(db: Db, filter: ConflictFilter = {}): Promise<ConflictListItem[]> {
	const rows = await listConflictRecords(db, { entityType: filter.entityType ?? null, status: filter.status ?? 'open', limit: filter.limit ?? 500 });
	return rows.map((r) => {
		const local = r.conflict_data.localVersion?.data ?? {};
		return {
			id: r.id,
			entityType: r.entity_type,
			entityId: r.entity_id,
			kind: r.kind,
			status: r.status,
			label: (local.code ?? local.name ?? null) as string | null,
			detectedAt: r.detected_at.toISOString(),
			deletedInSt: Boolean(r.conflict_data.stVersion?.deleted),
			diff: diffOf(r.conflict_data),
			suggestedMerge: r.suggested_merge,
			resolution: r.resolution,
			resolvedBy: r.resolved_by,
			resolvedAt: r.resolved_at?.toISOString() ?? null,
		};
	});
}
