import { pick } from '../entities/canonical';
import type { CanonicalRecord, EntityDefinition } from '../entities/types';
import type { ConflictKind } from './categorize';

/** The seed spec's ConflictData, plus the base and the kind of conflict the design adds. */
export interface ConflictData {
	conflictId?: number;
	kind: ConflictKind;
	detectedAt: string;
	entityType: string;
	entityId: number;
	stVersion: { modifiedOn: string | null; deleted: boolean; data: Record<string, unknown> | null };
	localVersion: { modifiedAt: string | null; data: CanonicalRecord };
	baseVersion: { data: CanonicalRecord | null };
	diff: { fields: string[]; stValues: CanonicalRecord; localValues: CanonicalRecord; baseValues: CanonicalRecord | null };
}

export function buildConflictData(
	def: EntityDefinition,
	input: {
		kind: ConflictKind;
		entityId: number;
		detectedAt: Date;
		st: { record: Record<string, unknown>; canonical: CanonicalRecord; modifiedOn: string | null } | null;
		local: { current: CanonicalRecord; localModifiedAt: Date | null };
		base: CanonicalRecord | null;
		fields: string[];
	},
): ConflictData {
	const fields = input.st ? input.fields : def.fields.map((f) => f.column);
	return {
		kind: input.kind,
		detectedAt: input.detectedAt.toISOString(),
		entityType: def.singular,
		entityId: input.entityId,
		stVersion: input.st
			? {
					modifiedOn: typeof input.st.record.modifiedOn === 'string' ? input.st.record.modifiedOn : input.st.modifiedOn,
					deleted: false,
					data: input.st.record,
				}
			: { modifiedOn: null, deleted: true, data: null },
		localVersion: { modifiedAt: input.local.localModifiedAt?.toISOString() ?? null, data: input.local.current },
		baseVersion: { data: input.base },
		diff: {
			fields,
			stValues: input.st ? pick(input.st.canonical, fields) : {},
			localValues: pick(input.local.current, fields),
			baseValues: input.base ? pick(input.base, fields) : null,
		},
	};
}
