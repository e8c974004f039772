import type { Task } from '../db/pricebook-store';
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

/**
 * Finds the material of each SKU, in one statement for the whole feed: first an existing vendor_prices row of
 * this vendor and SKU (a link someone may have set by hand in Retool wins), else the material whose ServiceTitan
 * vendor data (primaryVendor / otherVendors) names this vendor and part. Soft-deleted materials count: their
 * vendor prices are kept and still updated. A SKU found on several materials is reported, never guessed.
 */
export async function matchSkus(t: Task, config: VendorConfig, rows: readonly FeedRow[]): Promise<{ matched: Map<string, Match>; unmatched: Unmatched[] }> {
	const matched = new Map<string, Match>();
	const unmatched: Unmatched[] = [];
	if (rows.length === 0) return { matched, unmatched };
	const found = await t.any<{ sku: string; existing_id: number | null; st_ids: string[] | null }>(
		`WITH input AS (SELECT DISTINCT x.sku FROM jsonb_to_recordset($1::jsonb) AS x(sku text)),
		 links AS (
		   SELECT m.id AS material_id, btrim(v->>'vendorPart') AS part
		   FROM pricebook_materials m
		   CROSS JOIN LATERAL jsonb_array_elements(
		     CASE WHEN jsonb_typeof(m.st_data->'primaryVendor') = 'object' THEN jsonb_build_array(m.st_data->'primaryVendor') ELSE '[]'::jsonb END
		     || CASE WHEN jsonb_typeof(m.st_data->'otherVendors') = 'array' THEN m.st_data->'otherVendors' ELSE '[]'::jsonb END
		   ) AS v
		   WHERE jsonb_typeof(v) = 'object' AND lower(btrim(v->>'vendorName')) = ANY($3::text[])
		 ),
		 st AS (
		   SELECT i.sku, array_agg(DISTINCT l.material_id) AS ids FROM input i JOIN links l ON l.part = i.sku GROUP BY i.sku
		 )
		 SELECT i.sku, vp.material_id AS existing_id, st.ids AS st_ids
		 FROM input i
		 LEFT JOIN vendor_prices vp ON vp.vendor = $2 AND vp.vendor_sku = i.sku AND vp.material_id IS NOT NULL
		 LEFT JOIN st ON st.sku = i.sku`,
		[JSON.stringify(rows.map((r) => ({ sku: r.sku }))), config.vendor, config.stVendorNames.map((n) => n.trim().toLowerCase())],
	);
	const bySku = new Map(found.map((f) => [f.sku, f]));
	for (const r of rows) {
		const f = bySku.get(r.sku);
		const stIds = (f?.st_ids ?? []).map(Number).sort((a, b) => a - b);
		if (f?.existing_id != null) matched.set(r.sku, { materialId: f.existing_id, route: 'existing' });
		else if (stIds.length === 1) matched.set(r.sku, { materialId: stIds[0], route: 'stVendorData' });
		else if (stIds.length > 1) unmatched.push({ line: r.line, sku: r.sku, reason: `is the vendor part of several materials (${stIds.join(', ')}); link it in vendor_prices by hand` });
		else unmatched.push({ line: r.line, sku: r.sku, reason: `matches no material (no vendor_prices row and no material with this ${config.stVendorNames[0]} vendor part)` });
	}
	return { matched, unmatched };
}
