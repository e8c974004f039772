import type { SimEntity, SimRecord } from './data';
import type { SimStore } from './store';

/**
 * A new record of `entity` with every field ST's response schema requires set to what ST gives a new item,
 * a fresh id and createdOn = modifiedOn = now. The id and the timestamp are taken from `store` even when the
 * caller then refuses the create, so a refused create moves the counters on (seeded runs depend on that order).
 */
export function blankRecord(entity: SimEntity, store: SimStore): SimRecord {
	const stamp = store.touch();
	const times = { createdOn: stamp.modifiedOn, modifiedOn: stamp.modifiedOn };
	if (entity === 'categories') {
		return {
			id: store.allocateCategoryId(),
			name: '',
			active: true,
			description: null,
			image: null,
			parentId: null,
			position: 0,
			categoryType: 'Materials',
			businessUnitIds: [],
			skuImages: [],
			skuVideos: [],
			source: null,
			externalId: null,
			hideInMobile: false,
			...times,
		};
	}
	const sku = {
		id: store.allocateSkuId(),
		code: '',
		displayName: null,
		description: '',
		active: true,
		price: 0,
		memberPrice: 0,
		addOnPrice: 0,
		addOnMemberPrice: 0,
		hours: 0,
		bonus: 0,
		commissionBonus: 0,
		paysCommission: false,
		taxable: true,
		account: null,
		cost: 0,
		categories: [],
		assets: [],
		source: null,
		externalId: null,
		externalData: null,
		defaultAssetUrl: null,
		budgetCostCode: null,
		budgetCostType: null,
		...times,
	};
	if (entity === 'materials') {
		return {
			...sku,
			deductAsJobCost: false,
			unitOfMeasure: null,
			isInventory: false,
			costOfSaleAccount: null,
			assetAccount: null,
			primaryVendor: null,
			otherVendors: [],
			isConfigurableMaterial: false,
			chargeableByDefault: true,
			variationsOrConfigurableMaterials: [],
			businessUnitId: null,
			createdById: 1001,
			displayInAmount: false,
			generalLedgerAccountId: null,
			isOtherDirectCost: false,
			costTypeId: null,
		};
	}
	if (entity === 'equipment') {
		return {
			...sku,
			manufacturer: null,
			model: null,
			manufacturerWarranty: { duration: 0, description: null },
			serviceProviderWarranty: { duration: 0, description: null },
			recommendations: [],
			upgrades: [],
			equipmentMaterials: [],
			primaryVendor: null,
			otherVendors: [],
			costOfSaleAccount: null,
			assetAccount: null,
			crossSaleGroup: null,
			unitOfMeasure: null,
			isInventory: false,
			isConfigurableEquipment: false,
			variationsOrConfigurableEquipment: [],
			typeId: null,
			displayInAmount: false,
			generalLedgerAccountId: null,
			dimensions: null,
		};
	}
	return {
		...sku,
		warranty: { duration: 0, description: null },
		isLabor: false,
		recommendations: [],
		upgrades: [],
		serviceMaterials: [],
		serviceEquipment: [],
		crossSaleGroup: null,
		businessUnitId: null,
		soldByCommission: 0,
	};
}
