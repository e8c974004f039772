import { formatStTicks, randomPrecisionTicks } from './clock';
import { chance, money, pick, randInt, type Rng } from './random';

export type SimEntity = 'services' | 'materials' | 'equipment' | 'categories';

export const SIM_ENTITIES: readonly SimEntity[] = ['services', 'materials', 'equipment', 'categories'];

/**
 * A record as the simulator stores it: the response shape of the OpenAPI document, except that a service's
 * `categories` are ids (rendered as {id, name, active} objects on read) and categories are stored flat.
 */
export type SimRecord = Record<string, unknown> & { id: number; active: boolean; modifiedOn: string; createdOn: string };

export interface SimCounts {
	categories: number;
	materials: number;
	equipment: number;
	services: number;
}

export const DEFAULT_COUNTS: SimCounts = { categories: 40, materials: 500, equipment: 100, services: 200 };

export type TenantPresetName = 'small' | 'perfect-catch';

/** The size and shape of a generated tenant. */
export interface TenantPreset {
	counts: SimCounts;
	/** Categories without a parent (the first 8 come from templates, more get names of their own). */
	rootCategories: number;
	/** Levels of the category tree, roots included: a category at this depth gets no children. */
	maxCategoryDepth: number;
}

export const TENANT_PRESETS: Record<TenantPresetName, TenantPreset> = {
	small: { counts: DEFAULT_COUNTS, rootCategories: 8, maxCategoryDepth: 6 },
	/**
	 * The size of the live tenant whose answers were captured (December 2025): 12 root categories holding 1,148
	 * descendants nested up to 6 levels, 2,161 services (about 43% with materials), 205 equipment items and
	 * several thousand materials.
	 */
	'perfect-catch': { counts: { categories: 1_160, materials: 5_000, equipment: 205, services: 2_161 }, rootCategories: 12, maxCategoryDepth: 6 },
};

/** How generated values look (see the `timestampDigits` and `nullStrings` quirks). */
export interface SeedShape {
	rootCategories: number;
	maxCategoryDepth: number;
	/** The fewest fractional digits a timestamp has. */
	minDigits: number;
	/** Literal "Null" strings as values. */
	nullStrings: boolean;
}

export const DEFAULT_SEED_SHAPE: SeedShape = { rootCategories: 8, maxCategoryDepth: 6, minDigits: 3, nullStrings: true };

export interface Vendor {
	vendorId: number;
	vendorName: string;
	partPrefix: string;
}

export const VENDORS: readonly Vendor[] = [
	{ vendorId: 101, vendorName: 'CED', partPrefix: 'CED' },
	{ vendorId: 102, vendorName: 'Pool360', partPrefix: 'P360' },
	{ vendorId: 103, vendorName: 'Home Depot', partPrefix: 'HD' },
	{ vendorId: 104, vendorName: 'SCP Distributors', partPrefix: 'SCP' },
	{ vendorId: 105, vendorName: 'Ferguson', partPrefix: 'FERG' },
	{ vendorId: 106, vendorName: "Lowe's", partPrefix: 'LOW' },
];

interface Domain {
	root: string;
	children: Array<string | [string, string[]]>;
	brands: string[];
	products: string[];
	vendors: string[];
	units: string[];
}

const MATERIAL_DOMAINS: Domain[] = [
	{
		root: 'Pool & Spa Equipment',
		children: [['Pumps', ['Variable Speed', 'Single Speed']], 'Filters', 'Heaters & Heat Pumps', 'Automation', 'Sanitation'],
		brands: ['Pentair', 'Hayward', 'Jandy', 'Zodiac', 'Raypak'],
		products: [
			'Pump Motor 1.5 HP',
			'Filter Cartridge 420 sq ft',
			'Skimmer Basket',
			'Check Valve 2"',
			'Salt Cell T-15',
			'Pump Seal Kit',
			'Lid O-Ring',
			'Heater Igniter',
			'Pressure Gauge',
		],
		vendors: ['Pool360', 'SCP Distributors'],
		units: ['Each', 'Kit'],
	},
	{
		root: 'Pool Chemicals',
		children: ['Chlorine', 'Balancers', 'Specialty'],
		brands: ["Leslie's", 'HTH', 'Clorox Pool', 'BioGuard'],
		products: [
			'Liquid Chlorine 2.5 gal',
			'Cal-Hypo Shock 1 lb',
			'Sodium Bicarbonate 50 lb',
			'Muriatic Acid 1 gal',
			'Cyanuric Acid 4 lb',
			'Phosphate Remover 1 qt',
		],
		vendors: ['Pool360', 'SCP Distributors', 'Home Depot'],
		units: ['Each', 'Gallon', 'Pound'],
	},
	{
		root: 'Electrical',
		children: ['Breakers & Panels', 'Wire & Cable', 'Conduit & Fittings', 'Lighting'],
		brands: ['Square D', 'Eaton', 'Siemens', 'Southwire', 'Intermatic'],
		products: [
			'20A Single Pole Breaker',
			'12/2 NM-B Wire 250 ft',
			'1/2" EMT Conduit 10 ft',
			'GFCI Receptacle 20A',
			'LED Pool Light 120V',
			'Timer Mechanism',
			'Bonding Lug',
		],
		vendors: ['CED', 'Home Depot'],
		units: ['Each', 'Foot', 'Roll'],
	},
	{
		root: 'Plumbing',
		children: ['PVC Fittings', 'Valves', 'Pipe'],
		brands: ['Charlotte', 'NIBCO', 'Spears', 'Lasco'],
		products: ['2" PVC Coupling', '1.5" Ball Valve', '2" Sch40 Pipe 10 ft', '2" 90 Elbow', 'Union 1.5"', '3-Way Valve 2"'],
		vendors: ['Ferguson', 'Home Depot', "Lowe's"],
		units: ['Each', 'Foot'],
	},
	{
		root: 'Hardware',
		children: ['Fasteners', 'Adhesives & Sealants'],
		brands: ['Oatey', 'GE', 'Simpson'],
		products: ['PVC Cement 16 oz', 'Silicone Sealant', 'Stainless Screw #10 (100)', 'Teflon Tape', 'Anchor Kit'],
		vendors: ['Home Depot', "Lowe's"],
		units: ['Each', 'Box'],
	},
];

/** Root categories beyond the first 8, for tenants that have more (the `perfect-catch` preset has 12). */
const EXTRA_MATERIAL_DOMAINS: Domain[] = [
	{
		root: 'Spa & Hot Tub Parts',
		children: ['Jets', 'Covers', 'Spa Packs'],
		brands: ['Balboa', 'Gecko', 'Waterway'],
		products: ['Spa Jet 3"', 'Cover Lifter', 'Spa Pack Controller', 'Ozonator', 'Heater Element 5.5 kW'],
		vendors: ['Pool360', 'SCP Distributors'],
		units: ['Each', 'Kit'],
	},
	{
		root: 'Landscape Lighting',
		children: ['Fixtures', 'Transformers'],
		brands: ['FX Luminaire', 'Kichler', 'Intermatic'],
		products: ['LED Path Light', 'Low Voltage Transformer 300W', 'Well Light', 'Direct Burial Cable 12/2'],
		vendors: ['CED', 'Home Depot'],
		units: ['Each', 'Foot'],
	},
];

type ServiceDomain = { root: string; children: string[]; tasks: string[] };

const EXTRA_SERVICE_DOMAINS: ServiceDomain[] = [
	{ root: 'Spa Service', children: ['Spa Repairs', 'Spa Maintenance'], tasks: ['Spa Drain & Refill', 'Spa Pack Replacement', 'Spa Jet Repair'] },
	{ root: 'Fees & Agreements', children: ['Trip Charges', 'Service Agreements'], tasks: ['Trip Charge', 'Diagnostic Fee', 'Annual Service Agreement'] },
];

/** Names for categories beyond the templates (a live tenant's tree goes much deeper than ours). */
const SUBCATEGORY_NAMES = [
	'Parts',
	'Repair Kits',
	'Accessories',
	'Residential',
	'Commercial',
	'Legacy Models',
	'Seals & Gaskets',
	'Motors',
	'Controls',
	'Fittings',
	'Premium',
	'Value Line',
];

const SERVICE_DOMAINS: ServiceDomain[] = [
	{
		root: 'Pool Service',
		children: ['Weekly Maintenance', 'Repairs', 'Openings & Closings'],
		tasks: ['Weekly Pool Cleaning', 'Filter Clean', 'Green-to-Clean Recovery', 'Pool Opening', 'Pool Closing', 'Leak Detection', 'Pump Repair'],
	},
	{
		root: 'Electrical Service',
		children: ['Panel Upgrades', 'Lighting Installs', 'Troubleshooting'],
		tasks: ['Panel Upgrade 200A', 'Pool Light Replacement', 'GFCI Install', 'Bonding Inspection', 'Electrical Troubleshooting'],
	},
	{
		root: 'Equipment Installation',
		children: ['Pump Installs', 'Heater Installs'],
		tasks: ['Variable Speed Pump Install', 'Heat Pump Install', 'Automation System Install', 'Salt System Install'],
	},
];

const MANUFACTURERS = ['Pentair', 'Hayward', 'Jandy', 'Raypak', 'Square D', 'Intermatic'];
const EQUIPMENT_KINDS = [
	'Variable Speed Pump',
	'Heat Pump 140K BTU',
	'Gas Heater 400K BTU',
	'Sand Filter 24"',
	'Cartridge Filter 520',
	'Automation Panel',
	'Salt Chlorine Generator',
	'Robotic Cleaner',
	'Subpanel 100A',
];

export interface SeedData {
	categories: SimRecord[];
	materials: SimRecord[];
	equipment: SimRecord[];
	services: SimRecord[];
	/** Hard-deleted records the export feed still shows (none in a generated tenant; kept in a snapshot). */
	tombstones?: Record<SimEntity, SimRecord[]>;
	/** ids for vendor links (SkuVendorResponse.id), continued by later writes. */
	nextVendorLinkId: number;
	nextSkuId: number;
	nextCategoryId: number;
	/** Latest modifiedOn handed out, in ticks. */
	lastTicks: bigint;
}

const DAY_MS = 86_400_000;

/**
 * A realistic pricebook from a seed: a nested category tree, materials with primary and other vendors,
 * equipment, and services whose `serviceMaterials` point at real material ids. Every record fills all fields
 * the OpenAPI response schemas require.
 */
export function generateSeedData(rng: Rng, counts: SimCounts, nowMs: number, shape: SeedShape = DEFAULT_SEED_SHAPE): SeedData {
	let skuId = 18_400_000;
	let categoryId = 9_100;
	let vendorLinkId = 7_000_000;
	let lastTicks = 0n;
	const stamp = (): { createdOn: string; modifiedOn: string } => {
		const created = nowMs - randInt(rng, 60, 900) * DAY_MS + randInt(rng, 0, DAY_MS);
		const modified = Math.min(nowMs - 60_000, created + randInt(rng, 0, 50) * DAY_MS + randInt(rng, 0, DAY_MS));
		const createdTicks = randomPrecisionTicks(rng, created, shape.minDigits);
		const modifiedTicks = randomPrecisionTicks(rng, Math.max(created, modified), shape.minDigits);
		const modifiedFinal = modifiedTicks < createdTicks ? createdTicks : modifiedTicks;
		if (modifiedFinal > lastTicks) lastTicks = modifiedFinal;
		return { createdOn: formatStTicks(createdTicks), modifiedOn: formatStTicks(modifiedFinal) };
	};

	// ---- categories: the template roots (and extra roots, for larger tenants) breadth first, then more nodes ----
	const categories: SimRecord[] = [];
	const depthOf = new Map<number, number>();
	const childCount = new Map<number, number>();
	const materialCategoryIds: Array<{ id: number; domain: Domain }> = [];
	const serviceCategoryIds: number[] = [];
	const categoryDescription = (name: string): string | null => {
		// A live tenant holds the literal string "Null" in some descriptions, and HTML with entities in others.
		if (shape.nullStrings && chance(rng, 0.08)) return 'Null';
		if (!chance(rng, 0.5)) return null;
		return chance(rng, 0.3) ? `${escapeHtml(name)}&reg; items<br/>See the catalog` : `${name} items`;
	};
	const addCategory = (name: string, parentId: number | null, type: 'Materials' | 'Services'): SimRecord => {
		const position = (childCount.get(parentId ?? 0) ?? 0) + 1;
		childCount.set(parentId ?? 0, position);
		const record: SimRecord = {
			id: categoryId++,
			name,
			active: true,
			description: categoryDescription(name),
			image: null,
			parentId,
			position,
			categoryType: type,
			businessUnitIds: [],
			skuImages: [],
			skuVideos: [],
			source: null,
			externalId: null,
			hideInMobile: chance(rng, 0.1),
			...stamp(),
		};
		depthOf.set(record.id, parentId === null ? 1 : (depthOf.get(parentId) ?? 0) + 1);
		categories.push(record);
		return record;
	};
	const extraRoots = Math.max(0, shape.rootCategories - MATERIAL_DOMAINS.length - SERVICE_DOMAINS.length);
	const materialDomains = [...MATERIAL_DOMAINS, ...EXTRA_MATERIAL_DOMAINS.slice(0, Math.ceil(extraRoots / 2))];
	const serviceDomains = [...SERVICE_DOMAINS, ...EXTRA_SERVICE_DOMAINS.slice(0, Math.floor(extraRoots / 2))];
	type Pending = { name: string; parentId: number | null; type: 'Materials' | 'Services'; grand?: string[]; domain?: Domain };
	const queue: Pending[] = [];
	materialDomains.forEach((domain) => queue.push({ name: domain.root, parentId: null, type: 'Materials', domain }));
	serviceDomains.forEach((domain) => queue.push({ name: domain.root, parentId: null, type: 'Services' }));
	while (queue.length > 0 && categories.length < counts.categories) {
		const next = queue.shift() as Pending;
		if (next.parentId !== null && (depthOf.get(next.parentId) ?? 0) >= shape.maxCategoryDepth) continue;
		const record = addCategory(next.name, next.parentId, next.type);
		if (next.type === 'Materials' && next.domain) materialCategoryIds.push({ id: record.id, domain: next.domain });
		if (next.type === 'Services') serviceCategoryIds.push(record.id);
		const materialDomain = next.parentId === null ? materialDomains.find((d) => d.root === next.name) : undefined;
		const serviceDomain = next.parentId === null ? serviceDomains.find((d) => d.root === next.name) : undefined;
		if (materialDomain) {
			materialDomain.children.forEach((child) => {
				const [name, grand] = typeof child === 'string' ? [child, undefined] : child;
				queue.push({ name, parentId: record.id, type: 'Materials', grand, domain: materialDomain });
			});
		} else if (serviceDomain) {
			serviceDomain.children.forEach((name) => queue.push({ name, parentId: record.id, type: 'Services' }));
		} else if (next.grand) {
			next.grand.forEach((name) => queue.push({ name, parentId: record.id, type: next.type, domain: next.domain }));
		}
	}
	// More categories under any that may still have children: a random tree, as deep as the tenant allows.
	const canParent = categories.filter((c) => (depthOf.get(c.id) ?? 0) < shape.maxCategoryDepth);
	for (let n = 1; categories.length < counts.categories && canParent.length > 0; n++) {
		const parent = pick(rng, canParent);
		const type = parent.categoryType as 'Materials' | 'Services';
		const record = addCategory(`${pick(rng, SUBCATEGORY_NAMES)} ${n}`, parent.id, type);
		if ((depthOf.get(record.id) ?? 0) < shape.maxCategoryDepth) canParent.push(record);
		if (type === 'Materials') {
			const domain = materialCategoryIds.find((c) => c.id === parent.id)?.domain ?? MATERIAL_DOMAINS[0];
			materialCategoryIds.push({ id: record.id, domain });
		} else {
			serviceCategoryIds.push(record.id);
		}
	}
	if (materialCategoryIds.length === 0) materialCategoryIds.push(...MATERIAL_DOMAINS.map((domain) => ({ id: 0, domain })));

	const vendorByName = new Map(VENDORS.map((v) => [v.vendorName, v]));
	/** A vendor link; the primary vendor's cost is the item's own (a live tenant's `cost` equals `primaryVendor.cost`). */
	const vendorLink = (vendor: Vendor, cost: number, exact = false): Record<string, unknown> => ({
		id: vendorLinkId++,
		vendorName: vendor.vendorName,
		vendorId: vendor.vendorId,
		memo: chance(rng, 0.2) ? 'Call ahead for stock' : null,
		vendorPart: `${vendor.partPrefix}-${randInt(rng, 10000, 99999)}`,
		cost: exact ? cost : Math.max(0.01, Math.round(cost * (0.9 + rng() * 0.2) * 100) / 100),
		active: true,
		primarySubAccount: null,
		otherSubAccounts: [],
	});

	// ---- materials ----
	const materials: SimRecord[] = [];
	for (let i = 0; i < counts.materials; i++) {
		const { id: categoryIdOf, domain } = pick(rng, materialCategoryIds);
		const brand = pick(rng, domain.brands);
		const product = pick(rng, domain.products);
		const cost = money(rng, 0.5, 900);
		const price = Math.round(cost * (1.4 + rng() * 0.8) * 100) / 100;
		const primaryName = pick(rng, domain.vendors);
		// As on a live tenant: every material has a primary vendor, whose cost is the material's, and otherVendors
		// lists the primary vendor too.
		const primary = vendorLink(vendorByName.get(primaryName) as Vendor, cost, true);
		const others = VENDORS.filter((v) => v.vendorName !== primaryName && chance(rng, 0.15)).map((v) => vendorLink(v, cost));
		const id = skuId++;
		materials.push({
			id,
			code: `M-${String(i + 1).padStart(6, '0')}`,
			displayName: `${brand} ${product}`,
			description: pick(rng, [
				`<p>${escapeHtml(brand)} ${escapeHtml(product)}</p>`,
				`${escapeHtml(brand)}&reg; ${escapeHtml(product)}<br/>Genuine part`,
				`${brand} ${product}`,
				`${brand} ${product}`,
			]),
			cost: primary.cost,
			active: chance(rng, 0.95),
			price,
			memberPrice: Math.round(price * 0.9 * 100) / 100,
			addOnPrice: price,
			addOnMemberPrice: Math.round(price * 0.9 * 100) / 100,
			hours: pick(rng, [0, 0, 0.25, 0.5, 1]),
			bonus: 0,
			commissionBonus: 0,
			paysCommission: chance(rng, 0.3),
			deductAsJobCost: chance(rng, 0.2),
			// A live tenant holds the literal string "Null" as some units of measure.
			unitOfMeasure: shape.nullStrings && chance(rng, 0.05) ? 'Null' : pick(rng, domain.units),
			isInventory: chance(rng, 0.4),
			account: 'Materials Income',
			costOfSaleAccount: null,
			assetAccount: null,
			taxable: true,
			primaryVendor: primary,
			otherVendors: [{ ...primary }, ...others],
			categories: categoryIdOf > 0 ? [categoryIdOf] : [],
			assets: [],
			source: null,
			externalId: null,
			externalData: null,
			isConfigurableMaterial: false,
			chargeableByDefault: true,
			variationsOrConfigurableMaterials: [],
			businessUnitId: null,
			createdById: 1001,
			displayInAmount: chance(rng, 0.5),
			generalLedgerAccountId: null,
			isOtherDirectCost: false,
			costTypeId: null,
			defaultAssetUrl: null,
			budgetCostCode: null,
			budgetCostType: null,
			...stamp(),
		});
	}

	// ---- equipment ----
	const equipment: SimRecord[] = [];
	for (let i = 0; i < counts.equipment; i++) {
		const manufacturer = pick(rng, MANUFACTURERS);
		const kind = pick(rng, EQUIPMENT_KINDS);
		const cost = money(rng, 150, 6000);
		const price = Math.round(cost * (1.3 + rng() * 0.5) * 100) / 100;
		const linked = materials.length > 0 ? randInt(rng, 0, 3) : 0;
		const vendor = pick(rng, VENDORS);
		const primary = vendorLink(vendor, cost, true);
		const other = chance(rng, 0.2)
			? [
					vendorLink(
						pick(
							rng,
							VENDORS.filter((v) => v !== vendor),
						),
						cost,
					),
				]
			: [];
		equipment.push({
			id: skuId++,
			code: `EQ-${String(i + 1).padStart(5, '0')}`,
			displayName: `${manufacturer} ${kind}`,
			description: chance(rng, 0.3) ? `${manufacturer}&reg; ${kind}<br/>Installed` : `${manufacturer} ${kind}, installed`,
			active: chance(rng, 0.95),
			price,
			memberPrice: Math.round(price * 0.95 * 100) / 100,
			addOnPrice: price,
			addOnMemberPrice: Math.round(price * 0.95 * 100) / 100,
			manufacturer,
			model: `${manufacturer.slice(0, 3).toUpperCase()}-${randInt(rng, 1000, 9999)}`,
			manufacturerWarranty: { duration: pick(rng, [12, 24, 36, 60]), description: null },
			serviceProviderWarranty: { duration: pick(rng, [0, 3, 12]), description: null },
			categories: materialCategoryIds[0].id > 0 ? [pick(rng, materialCategoryIds).id] : [],
			assets: [],
			recommendations: [],
			upgrades: [],
			equipmentMaterials: Array.from(new Set(Array.from({ length: linked }, () => pick(rng, materials).id))).map((skuIdOf) => ({
				skuId: skuIdOf,
				quantity: randInt(rng, 1, 4),
			})),
			primaryVendor: primary,
			otherVendors: [{ ...primary }, ...other],
			account: 'Equipment Income',
			costOfSaleAccount: null,
			assetAccount: null,
			crossSaleGroup: null,
			paysCommission: chance(rng, 0.5),
			bonus: 0,
			commissionBonus: 0,
			hours: pick(rng, [1, 2, 3, 4]),
			taxable: true,
			cost: primary.cost,
			unitOfMeasure: 'Each',
			isInventory: chance(rng, 0.3),
			source: null,
			externalId: null,
			externalData: null,
			isConfigurableEquipment: false,
			variationsOrConfigurableEquipment: [],
			typeId: null,
			displayInAmount: false,
			generalLedgerAccountId: null,
			defaultAssetUrl: null,
			dimensions: null,
			budgetCostCode: null,
			budgetCostType: null,
			...stamp(),
		});
	}

	// ---- services ----
	const services: SimRecord[] = [];
	for (let i = 0; i < counts.services; i++) {
		const domain = pick(rng, serviceDomains);
		const task = pick(rng, domain.tasks);
		// A live tenant: 933 of 2,161 services (43%) have materials, 1,698 a price above 0, only 25 a cost above 0.
		const materialLinks = materials.length > 0 && chance(rng, 0.43) ? randInt(rng, 1, 5) : 0;
		const materialIds = Array.from(new Set(Array.from({ length: materialLinks }, () => pick(rng, materials).id)));
		const price = chance(rng, 0.79) ? money(rng, 75, 3500) : 0;
		const warrantyDays = pick(rng, [0, 0, 30, 90, 365]);
		services.push({
			id: skuId++,
			code: `SVC-${String(i + 1).padStart(5, '0')}`,
			displayName: task,
			description: chance(rng, 0.3) ? `<p>${task}</p><br/>Parts &amp; labor included` : `<p>${task}</p>`,
			warranty: { duration: warrantyDays, description: warrantyDays > 0 ? `${warrantyDays} days parts &amp; labor` : null },
			categories: serviceCategoryIds.length > 0 ? [pick(rng, serviceCategoryIds)] : [],
			price,
			memberPrice: Math.round(price * 0.85 * 100) / 100,
			addOnPrice: Math.round(price * 0.9 * 100) / 100,
			addOnMemberPrice: Math.round(price * 0.8 * 100) / 100,
			taxable: false,
			account: 'Service Income',
			hours: pick(rng, [0.5, 1, 1.5, 2, 4]),
			isLabor: chance(rng, 0.5),
			recommendations: [],
			upgrades: services.length > 0 && chance(rng, 0.2) ? [pick(rng, services).id] : [],
			assets: [],
			serviceMaterials: materialIds.map((skuIdOf) => ({ skuId: skuIdOf, quantity: pick(rng, [1, 1, 2, 0.5, 3]) })),
			serviceEquipment: equipment.length > 0 && chance(rng, 0.15) ? [{ skuId: pick(rng, equipment).id, quantity: 1 }] : [],
			active: chance(rng, 0.95),
			crossSaleGroup: null,
			paysCommission: chance(rng, 0.5),
			bonus: 0,
			commissionBonus: 0,
			source: null,
			externalId: null,
			externalData: null,
			businessUnitId: null,
			cost: chance(rng, 0.012) ? Math.round(Math.max(price, 100) * 0.3 * 100) / 100 : 0,
			soldByCommission: 0,
			defaultAssetUrl: null,
			budgetCostCode: null,
			budgetCostType: null,
			...stamp(),
		});
	}

	return {
		categories,
		materials,
		equipment,
		services,
		nextVendorLinkId: vendorLinkId,
		nextSkuId: skuId,
		nextCategoryId: categoryId,
		lastTicks,
	};
}

/** Text as HTML: the five characters HTML escapes (a live tenant's descriptions hold entities such as `&amp;`). */
function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
