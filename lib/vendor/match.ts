import type { Task } from '../db/pricebook-store';
import { findSkuCandidates, loadVendorLinks } from '../db/vendor-prices';
import type { VendorConfig } from './config';
import type { FeedRow } from './feed';

export interface Match {
	materialId: number;
	route: 'existing' | 'stVendorData';
}

export interface Unmatched {
	line: number;
	sku: string;
	reason: string;
}

/** Reads this vendor's part numbers from the materials' ST vendor data, once per import, before matchSkus; in the import's transaction. */
export async function prepareMatching(t: Task, config: VendorConfig): Promise<void> {
	await loadVendorLinks(
		t,
		config.stVendorNames.map((n) => n.trim().toLowerCase()),
	);
}

/**
 * Finds the material of each SKU of a chunk, from one read (findSkuCandidates): first an existing
 * vendor_prices row of this vendor and SKU (a link someone may have set by hand in Retool wins), else the
 * material whose ServiceTitan vendor data (primaryVendor / otherVendors) names this vendor and part. Soft-deleted
 * materials count: their vendor prices are kept and still updated. A SKU found on several materials is reported,
 * never guessed.
 */
export async function matchSkus(t: Task, config: VendorConfig, rows: readonly FeedRow[]): Promise<{ matched: Map<string, Match>; unmatched: Unmatched[] }> {
	const matched = new Map<string, Match>();
	const unmatched: Unmatched[] = [];
	if (rows.length === 0) return { matched, unmatched };
	const found = await findSkuCandidates(
		t,
		config.vendor,
		rows.map((r) => r.sku),
	);
	const bySku = new Map(found.map((f) => [f.sku, f]));
	for (const r of rows) {
		const f = bySku.get(r.sku);
		const stIds = (f?.st_ids ?? []).map(Number).sort((a, b) => a - b);
		if (f?.existing_id != null) matched.set(r.sku, { materialId: f.existing_id, route: 'existing' });
		else if (stIds.length === 1) matched.set(r.sku, { materialId: stIds[0], route: 'stVendorData' });
		else if (stIds.length > 1)
			unmatched.push({
				line: r.line,
				sku: r.sku,
				reason: `is the vendor part of several materials (${stIds.join(', ')}); link it in vendor_prices by hand`,
			});
		else
			unmatched.push({
				line: r.line,
				sku: r.sku,
				reason: `matches no material (no vendor_prices row and no material with this ${config.stVendorNames[0]} vendor part)`,
			});
	}
	return { matched, unmatched };
}
