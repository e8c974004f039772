import type { EntityType } from '../servicetitan/types';

export type { EntityType };

/**
 * How a synced field is compared and carried:
 * - text, enum: string (or null);
 * - decimal: canonical decimal string (see decimal.ts), NUMERIC in PostgreSQL, a JSON number towards ST;
 * - boolean; integer; idRef (an id or null);
 * - idList: sorted unique ids (ST sends category objects on services, ids elsewhere);
 * - materialList: services' `serviceMaterials` ⇄ `materials_included`, sorted by material id.
 */
export type FieldKind = 'text' | 'enum' | 'decimal' | 'boolean' | 'integer' | 'idRef' | 'idList' | 'materialList';

export interface FieldDef {
	/** Field name in ServiceTitan records and PATCH bodies. */
	st: string;
	/** Column in the local table; canonical records are keyed by it (what Retool shows). */
	column: string;
	kind: FieldKind;
	/** Must be present (and not null) in every ServiceTitan record. */
	required?: boolean;
	enumValues?: readonly string[];
	/** ServiceTitan's update request accepts null for it (only a category's parentId: a root has none). */
	nullableInSt?: boolean;
}

export interface MaterialLine {
	materialId: number;
	quantity: string;
}

export type CanonicalValue = string | number | boolean | null | number[] | MaterialLine[];

/** The synced fields of one item in canonical form, keyed by column name. */
export type CanonicalRecord = Record<string, CanonicalValue>;

export interface EntityDefinition {
	type: EntityType;
	/** Singular, as the seed spec's ConflictData names entity types ('material'). */
	singular: string;
	table: string;
	fields: readonly FieldDef[];
	/** ST fields never kept in `st_data` (rebuilt elsewhere, e.g. the nested category tree). */
	dropFromStData?: readonly string[];
	/**
	 * Whether ServiceTitan's records of this type carry `modifiedOn` (false for categories: a live tenant sends none).
	 * Unstamped types are compared by content only, take no cursor, and an incremental run reads their whole listing.
	 */
	stamped: boolean;
}
