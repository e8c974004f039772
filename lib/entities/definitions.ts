import type { EntityDefinition, EntityType, FieldDef } from './types';

// Fields shared by the three SKU types, in the order Retool shows them.
const skuHead: FieldDef[] = [
	{ st: 'code', column: 'code', kind: 'text', required: true },
	{ st: 'displayName', column: 'display_name', kind: 'text' },
	{ st: 'description', column: 'description', kind: 'text' },
];
const prices: FieldDef[] = [
	{ st: 'price', column: 'price', kind: 'decimal' },
	{ st: 'memberPrice', column: 'member_price', kind: 'decimal' },
	{ st: 'addOnPrice', column: 'add_on_price', kind: 'decimal' },
	{ st: 'addOnMemberPrice', column: 'add_on_member_price', kind: 'decimal' },
];
const cost: FieldDef = { st: 'cost', column: 'cost', kind: 'decimal' };
const hours: FieldDef = { st: 'hours', column: 'hours', kind: 'decimal' };
const taxable: FieldDef = { st: 'taxable', column: 'taxable', kind: 'boolean' };
const account: FieldDef = { st: 'account', column: 'account', kind: 'text' };
const unitOfMeasure: FieldDef = { st: 'unitOfMeasure', column: 'unit_of_measure', kind: 'text' };
const active: FieldDef = { st: 'active', column: 'active', kind: 'boolean', required: true };
const categories: FieldDef = { st: 'categories', column: 'categories', kind: 'idList' };

// Services have no writable `cost` in ServiceTitan (ServiceUpdateRequest lacks it): it stays in st_data.
export const services: EntityDefinition = {
	type: 'services',
	singular: 'service',
	table: 'pricebook_services',
	fields: [
		...skuHead,
		...prices,
		hours,
		taxable,
		account,
		active,
		categories,
		{ st: 'serviceMaterials', column: 'materials_included', kind: 'materialList' },
	],
	stamped: true,
};

export const materials: EntityDefinition = {
	type: 'materials',
	singular: 'material',
	table: 'pricebook_materials',
	fields: [...skuHead, cost, ...prices, hours, taxable, account, unitOfMeasure, active, categories],
	stamped: true,
};

export const equipment: EntityDefinition = {
	type: 'equipment',
	singular: 'equipment',
	table: 'pricebook_equipment',
	fields: [
		...skuHead,
		cost,
		...prices,
		hours,
		taxable,
		account,
		unitOfMeasure,
		{ st: 'manufacturer', column: 'manufacturer', kind: 'text' },
		{ st: 'model', column: 'model', kind: 'text' },
		active,
		categories,
	],
	stamped: true,
};

export const categoriesDef: EntityDefinition = {
	type: 'categories',
	singular: 'category',
	table: 'pricebook_categories',
	fields: [
		{ st: 'name', column: 'name', kind: 'text', required: true },
		{ st: 'description', column: 'description', kind: 'text' },
		active,
		{ st: 'parentId', column: 'parent_id', kind: 'idRef', nullableInSt: true },
		{ st: 'position', column: 'position', kind: 'integer' },
		{ st: 'categoryType', column: 'category_type', kind: 'enum', enumValues: ['Services', 'Materials'] },
	],
	dropFromStData: ['subcategories'],
	// Live tenants send categories without createdOn/modifiedOn (roots and nested children alike).
	stamped: false,
};

const definitions: Record<EntityType, EntityDefinition> = {
	services,
	materials,
	equipment,
	categories: categoriesDef,
};

export function entityDefinition(type: EntityType): EntityDefinition {
	const def = definitions[type];
	if (!def) throw new Error(`unknown entity type ${JSON.stringify(type)}: use services, materials, equipment or categories`);
	return def;
}
