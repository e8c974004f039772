import type { SimEntity } from './data';

/**
 * The writable fields of each entity (the OpenAPI update/create request schemas) and how a request value
 * becomes the stored (response-shaped) value. Fields not listed here are unknown or read-only and are ignored,
 * as ServiceTitan is reported to do.
 */
export type FieldKind =
	| 'requiredString'
	| 'string'
	| 'decimal'
	| 'boolean'
	| 'int'
	| 'nullableInt'
	| 'idArray'
	| 'categoryIds'
	| 'stringArray'
	| 'materialLinks'
	| 'equipmentLinks'
	| 'warranty'
	| 'vendor'
	| 'vendors'
	| 'assets'
	| 'externalData'
	| 'equipmentRecommendations'
	| 'dimensions'
	| 'categoryType'
	| 'parentCategory'
	| 'writeOnly';

export interface FieldSpec {
	kind: FieldKind;
	/** The response field it is stored as, when it differs from the request name. */
	storeAs?: string;
}

const PRICES: Record<string, FieldSpec> = {
	price: { kind: 'decimal' },
	memberPrice: { kind: 'decimal' },
	addOnPrice: { kind: 'decimal' },
	addOnMemberPrice: { kind: 'decimal' },
	bonus: { kind: 'decimal' },
	commissionBonus: { kind: 'decimal' },
	hours: { kind: 'decimal' },
};

const SKU_COMMON: Record<string, FieldSpec> = {
	code: { kind: 'requiredString' },
	displayName: { kind: 'string' },
	description: { kind: 'requiredString' },
	...PRICES,
	active: { kind: 'boolean' },
	paysCommission: { kind: 'boolean' },
	taxable: { kind: 'boolean' },
	account: { kind: 'string' },
	intacctGlGroupAccount: { kind: 'writeOnly' },
	assets: { kind: 'assets' },
	externalData: { kind: 'externalData' },
	budgetCostCode: { kind: 'string' },
	budgetCostType: { kind: 'string' },
};

export const WRITABLE_FIELDS: Record<SimEntity, Record<string, FieldSpec>> = {
	materials: {
		...SKU_COMMON,
		cost: { kind: 'decimal' },
		deductAsJobCost: { kind: 'boolean' },
		unitOfMeasure: { kind: 'string' },
		isInventory: { kind: 'boolean' },
		costOfSaleAccount: { kind: 'string' },
		assetAccount: { kind: 'string' },
		primaryVendor: { kind: 'vendor' },
		otherVendors: { kind: 'vendors' },
		categories: { kind: 'categoryIds' },
		isConfigurableMaterial: { kind: 'boolean' },
		chargeableByDefault: { kind: 'boolean' },
		variationMaterials: { kind: 'idArray', storeAs: 'variationsOrConfigurableMaterials' },
		isOtherDirectCost: { kind: 'boolean' },
		costTypeId: { kind: 'nullableInt' },
	},
	services: {
		...SKU_COMMON,
		warranty: { kind: 'warranty' },
		categories: { kind: 'categoryIds' },
		isLabor: { kind: 'boolean' },
		recommendations: { kind: 'idArray' },
		upgrades: { kind: 'idArray' },
		serviceMaterials: { kind: 'materialLinks' },
		serviceEquipment: { kind: 'equipmentLinks' },
		crossSaleGroup: { kind: 'string' },
	},
	equipment: {
		...SKU_COMMON,
		manufacturer: { kind: 'string' },
		model: { kind: 'string' },
		manufacturerWarranty: { kind: 'warranty' },
		serviceProviderWarranty: { kind: 'warranty' },
		recommendations: { kind: 'equipmentRecommendations' },
		upgrades: { kind: 'idArray' },
		equipmentMaterials: { kind: 'materialLinks' },
		categories: { kind: 'categoryIds' },
		primaryVendor: { kind: 'vendor' },
		otherVendors: { kind: 'vendors' },
		costOfSaleAccount: { kind: 'string' },
		assetAccount: { kind: 'string' },
		crossSaleGroup: { kind: 'string' },
		cost: { kind: 'decimal' },
		unitOfMeasure: { kind: 'string' },
		isInventory: { kind: 'boolean' },
		isConfigurableEquipment: { kind: 'boolean' },
		variationEquipment: { kind: 'idArray', storeAs: 'variationsOrConfigurableEquipment' },
		dimensions: { kind: 'dimensions' },
	},
	categories: {
		name: { kind: 'requiredString' },
		active: { kind: 'boolean' },
		description: { kind: 'string' },
		parentId: { kind: 'parentCategory' },
		position: { kind: 'int' },
		image: { kind: 'string' },
		categoryType: { kind: 'categoryType' },
		businessUnitIds: { kind: 'idArray' },
		skuImages: { kind: 'stringArray' },
		skuVideos: { kind: 'stringArray' },
	},
};

/** Fields a create (POST) must carry. */
export const REQUIRED_ON_CREATE: Record<SimEntity, readonly string[]> = {
	materials: ['code', 'description'],
	services: ['code', 'description'],
	equipment: ['code', 'description'],
	categories: ['name', 'categoryType'],
};

/** What converting a request value needs to know about the rest of the pricebook. */
export interface FieldContext {
	vendorName(vendorId: number): string | undefined;
	exists(entity: SimEntity, id: number): boolean;
	nextVendorLinkId(): number;
	/** The stored value, for fields whose update merges (externalData Merge, vendor link ids). */
	current(field: string): unknown;
	/** Whether `parentId` would make the category its own ancestor. */
	wouldCycle(parentId: number): boolean;
}

export class FieldError extends Error {
	constructor(
		readonly field: string,
		message: string,
	) {
		super(message);
	}
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

function decimal(field: string, v: unknown): number {
	if (!isNum(v)) throw new FieldError(field, `The JSON value could not be converted to System.Decimal. Path: $.${field}`);
	return v;
}

function intOf(field: string, v: unknown): number {
	if (!isInt(v)) throw new FieldError(field, `The JSON value could not be converted to System.Int64. Path: $.${field}`);
	return v;
}

function arrayOf(field: string, v: unknown): unknown[] {
	if (!Array.isArray(v)) throw new FieldError(field, `The JSON value could not be converted to an array. Path: $.${field}`);
	return v;
}

function objectOf(field: string, v: unknown): Record<string, unknown> {
	if (!isObj(v)) throw new FieldError(field, `The JSON value could not be converted to an object. Path: $.${field}`);
	return v;
}

function optionalString(field: string, v: unknown): string | null {
	if (v === undefined || v === null) return null;
	if (typeof v !== 'string') throw new FieldError(field, `The JSON value could not be converted to System.String. Path: $.${field}`);
	return v;
}

function links(field: string, v: unknown, ctx: FieldContext, target: SimEntity): Array<{ skuId: number; quantity: number }> {
	return arrayOf(field, v).map((item, i) => {
		const link = objectOf(`${field}[${i}]`, item);
		const skuId = intOf(`${field}[${i}].skuId`, link.skuId);
		if (!ctx.exists(target, skuId)) throw new FieldError(field, `${target === 'materials' ? 'Material' : 'Equipment'} ${skuId} does not exist`);
		return { skuId, quantity: decimal(`${field}[${i}].quantity`, link.quantity) };
	});
}

function vendor(field: string, v: unknown, ctx: FieldContext, previous: unknown): Record<string, unknown> {
	const req = objectOf(field, v);
	const vendorId = intOf(`${field}.vendorId`, req.vendorId);
	const vendorName = ctx.vendorName(vendorId);
	if (vendorName === undefined) throw new FieldError(field, `Vendor ${vendorId} does not exist`);
	if (typeof req.active !== 'boolean') throw new FieldError(`${field}.active`, 'The Active field is required.');
	// The same vendor keeps its link id, as ST updates the existing vendor row.
	const keepId = isObj(previous) && previous.vendorId === vendorId && isInt(previous.id) ? previous.id : ctx.nextVendorLinkId();
	const subAccount = (name: string, s: unknown): Record<string, unknown> => {
		const o = objectOf(name, s);
		if (typeof o.accountName !== 'string') throw new FieldError(`${name}.accountName`, 'The AccountName field is required.');
		return { id: ctx.nextVendorLinkId(), cost: decimal(`${name}.cost`, o.cost), accountName: o.accountName };
	};
	return {
		id: keepId,
		vendorName,
		vendorId,
		memo: optionalString(`${field}.memo`, req.memo),
		vendorPart: optionalString(`${field}.vendorPart`, req.vendorPart),
		cost: decimal(`${field}.cost`, req.cost),
		active: req.active,
		primarySubAccount:
			req.primarySubAccount === undefined || req.primarySubAccount === null ? null : subAccount(`${field}.primarySubAccount`, req.primarySubAccount),
		otherSubAccounts:
			req.otherSubAccounts === undefined || req.otherSubAccounts === null
				? []
				: arrayOf(`${field}.otherSubAccounts`, req.otherSubAccounts).map((s, i) => subAccount(`${field}.otherSubAccounts[${i}]`, s)),
	};
}

const ASSET_TYPES = ['Other', 'Image', 'Video', 'Attachment', 'VideoFile'];

/** Converts one request field to its stored form, or throws FieldError (→ 400 with an `errors` entry). */
export function convertField(field: string, spec: FieldSpec, value: unknown, ctx: FieldContext): unknown {
	switch (spec.kind) {
		case 'requiredString':
			if (typeof value !== 'string' || value.trim() === '') throw new FieldError(field, `The ${field} field is required.`);
			return value;
		case 'string':
			return optionalString(field, value);
		case 'decimal':
			return decimal(field, value);
		case 'boolean':
			if (typeof value !== 'boolean') throw new FieldError(field, `The JSON value could not be converted to System.Boolean. Path: $.${field}`);
			return value;
		case 'int':
			return intOf(field, value);
		case 'nullableInt':
			return value === null ? null : intOf(field, value);
		case 'idArray':
			return arrayOf(field, value).map((v, i) => intOf(`${field}[${i}]`, v));
		case 'categoryIds':
			return arrayOf(field, value).map((v, i) => {
				const id = intOf(`${field}[${i}]`, v);
				if (!ctx.exists('categories', id)) throw new FieldError(field, `Category ${id} does not exist`);
				return id;
			});
		case 'stringArray':
			return arrayOf(field, value).map((v, i) => optionalString(`${field}[${i}]`, v) ?? '');
		case 'materialLinks':
			return links(field, value, ctx, 'materials');
		case 'equipmentLinks':
			return links(field, value, ctx, 'equipment');
		case 'warranty': {
			const w = objectOf(field, value);
			return { duration: intOf(`${field}.duration`, w.duration), description: optionalString(`${field}.description`, w.description) };
		}
		case 'vendor':
			return vendor(field, value, ctx, ctx.current(field));
		case 'vendors': {
			const previous = ctx.current(field);
			const before = Array.isArray(previous) ? previous : [];
			return arrayOf(field, value).map((v, i) => {
				const vendorId = isObj(v) ? v.vendorId : undefined;
				return vendor(
					`${field}[${i}]`,
					v,
					ctx,
					before.find((p) => isObj(p) && p.vendorId === vendorId),
				);
			});
		}
		case 'assets':
			return arrayOf(field, value).map((v, i) => {
				const a = objectOf(`${field}[${i}]`, v);
				if (typeof a.type !== 'string' || !ASSET_TYPES.includes(a.type)) throw new FieldError(`${field}[${i}].type`, 'Invalid asset type');
				if (typeof a.url !== 'string') throw new FieldError(`${field}[${i}].url`, 'The Url field is required.');
				return {
					alias: optionalString(`${field}[${i}].alias`, a.alias),
					fileName: null,
					isDefault: a.isDefault === true,
					type: a.type,
					url: a.url,
				};
			});
		case 'externalData': {
			if (value === null) return null;
			const req = objectOf(field, value);
			if (typeof req.applicationGuid !== 'string') throw new FieldError(`${field}.applicationGuid`, 'The ApplicationGuid field is required.');
			const incoming = arrayOf(`${field}.externalData`, req.externalData).map((v, i) => {
				const e = objectOf(`${field}.externalData[${i}]`, v);
				if (typeof e.key !== 'string') throw new FieldError(`${field}.externalData[${i}].key`, 'The Key field is required.');
				return { key: e.key, value: optionalString(`${field}.externalData[${i}].value`, e.value) ?? '' };
			});
			if (req.patchMode !== 'Merge') return incoming;
			const current = ctx.current(field);
			const merged = new Map<string, { key: string; value: string }>();
			for (const e of Array.isArray(current) ? (current as Array<{ key: string; value: string }>) : []) merged.set(e.key, e);
			for (const e of incoming) merged.set(e.key, e);
			return [...merged.values()];
		}
		case 'equipmentRecommendations':
			return arrayOf(field, value).map((v, i) => {
				const r = objectOf(`${field}[${i}]`, v);
				if (r.type !== 'Service' && r.type !== 'Material') throw new FieldError(`${field}[${i}].type`, 'Invalid recommendation type');
				return { skuId: intOf(`${field}[${i}].skuId`, r.skuId), type: r.type };
			});
		case 'dimensions': {
			const d = objectOf(field, value);
			const dim = (k: string): number | null => (d[k] === undefined || d[k] === null ? null : decimal(`${field}.${k}`, d[k]));
			return { height: dim('height'), width: dim('width'), depth: dim('depth') };
		}
		case 'categoryType':
			if (value !== 'Services' && value !== 'Materials') throw new FieldError(field, 'Values: [Services, Materials]');
			return value;
		case 'parentCategory': {
			if (value === null) return null;
			const id = intOf(field, value);
			if (!ctx.exists('categories', id)) throw new FieldError(field, `Category ${id} does not exist`);
			if (ctx.wouldCycle(id)) throw new FieldError(field, 'A category cannot be its own ancestor');
			return id;
		}
		case 'writeOnly':
			return undefined;
	}
}
