import { SyncFailure } from '../failures';

/**
 * Per-vendor feed mappings. None of the vendors has an API we can rely on, and each sends its own CSV or JSON
 * layout, so which column holds what lives in configuration: these defaults, overridable from a JSON file
 * (loadVendorConfig) without a release when a vendor renames a column.
 */
export interface ColumnMapping {
	/** Each field lists the header names (or JSON keys) it may appear under, compared case-insensitively. */
	sku: string[];
	price: string[];
	description?: string[];
	unit?: string[];
	packSize?: string[];
	effectiveDate?: string[];
}

export interface VendorConfig {
	/** The key stored in vendor_prices.vendor and passed as --vendor. */
	vendor: string;
	/** The vendor's name(s) in ServiceTitan's primaryVendor / otherVendors, for matching a SKU to a material. */
	stVendorNames: string[];
	columns: ColumnMapping;
}

export const DEFAULT_VENDORS: Readonly<Record<string, VendorConfig>> = {
	ced: {
		vendor: 'ced',
		stVendorNames: ['CED'],
		columns: {
			sku: ['Catalog Number', 'CED Part', 'Part Number', 'SKU'],
			price: ['Net Price', 'Price', 'Unit Price'],
			description: ['Description'],
			unit: ['UOM', 'Unit'],
			packSize: ['Std Pack', 'Pack Qty', 'Pack Size'],
			effectiveDate: ['Effective Date'],
		},
	},
	pool360: {
		vendor: 'pool360',
		stVendorNames: ['Pool360', 'POOL360'],
		columns: {
			sku: ['Item Number', 'Item #', 'SKU'],
			price: ['Your Price', 'Net Price', 'Price'],
			description: ['Item Description', 'Description'],
			unit: ['UOM', 'Unit'],
			packSize: ['Case Qty', 'Pack Size'],
			effectiveDate: ['Price Effective Date', 'Effective Date'],
		},
	},
	homedepot: {
		vendor: 'homedepot',
		stVendorNames: ['Home Depot', 'The Home Depot'],
		columns: {
			sku: ['Internet #', 'Store SKU', 'SKU'],
			price: ['Unit Price', 'Price'],
			description: ['Product Name', 'Description'],
			unit: ['Unit of Measure', 'UOM'],
			packSize: ['Package Quantity', 'Pack Size'],
			effectiveDate: ['Effective Date'],
		},
	},
};

/** A vendor mapping that cannot be used (unknown vendor, malformed override): a setting to fix, not a failure to retry. */
export class VendorConfigError extends SyncFailure {
	constructor(message: string) {
		super('configuration', message);
		this.name = 'VendorConfigError';
	}
}

const FIELDS = ['sku', 'price', 'description', 'unit', 'packSize', 'effectiveDate'] as const;

function names(value: unknown, where: string): string[] {
	const list = typeof value === 'string' ? [value] : value;
	if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.trim() !== '')) {
		throw new VendorConfigError(`${where} must be a column name or a list of column names`);
	}
	return list as string[];
}

/**
 * The vendors known to this run: the defaults, with any vendor in `overrides` (parsed JSON, keyed by vendor)
 * replacing or adding to them. A field left out of an override keeps the default's names.
 */
export function loadVendorConfig(overrides?: unknown): Record<string, VendorConfig> {
	const vendors: Record<string, VendorConfig> = { ...DEFAULT_VENDORS };
	if (overrides === undefined || overrides === null) return vendors;
	if (typeof overrides !== 'object' || Array.isArray(overrides))
		throw new VendorConfigError('the vendor configuration must be a JSON object keyed by vendor');
	for (const [key, raw] of Object.entries(overrides as Record<string, unknown>)) {
		if (!/^[a-z0-9_-]+$/.test(key)) throw new VendorConfigError(`vendor key "${key}" must be lower-case letters, digits, _ or -`);
		const o = (raw ?? {}) as Record<string, unknown>;
		const base = Object.hasOwn(vendors, key) ? vendors[key] : undefined;
		const columnsIn = (o.columns ?? {}) as Record<string, unknown>;
		const columns: Partial<ColumnMapping> = { ...(base?.columns ?? {}) };
		for (const f of FIELDS) if (columnsIn[f] !== undefined) columns[f] = names(columnsIn[f], `${key}.columns.${f}`);
		if (!columns.sku || !columns.price) throw new VendorConfigError(`${key}.columns needs at least sku and price`);
		const stVendorNames = o.stVendorNames !== undefined ? names(o.stVendorNames, `${key}.stVendorNames`) : base?.stVendorNames;
		if (!stVendorNames) throw new VendorConfigError(`${key}.stVendorNames is required for a new vendor`);
		vendors[key] = { vendor: key, stVendorNames, columns: columns as ColumnMapping };
	}
	return vendors;
}

export function vendorConfigFor(vendor: string, vendors: Record<string, VendorConfig> = loadVendorConfig()): VendorConfig {
	// Own keys only: "constructor" or "__proto__" is an unknown vendor, not an object's built-in.
	const config = Object.hasOwn(vendors, vendor.toLowerCase()) ? vendors[vendor.toLowerCase()] : undefined;
	if (!config) throw new VendorConfigError(`unknown vendor "${vendor}": known vendors are ${Object.keys(vendors).join(', ')}`);
	return config;
}
