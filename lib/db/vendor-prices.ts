import type { Task } from './pricebook-store';

/**
 * The vendor_prices table and its price history. Each function is one statement for a whole batch (the batch
 * travels as one JSON parameter), so a feed costs a constant number of statements per chunk whatever its size.
 */

/** A vendor price row to write, in vendor_prices' column names (the JSON keys of the recordset). */
export interface VendorPriceWrite {
	vendor_sku: string;
	material_id: number;
	/** Decimal text: money is never turned into a float on the way in. */
	price: string;
	description: string | null;
	unit: string | null;
	pack_size: string | null;
	effective_date: string | null;
}

export interface VendorPriceWriteCounts {
	inserted: number;
	updated: number;
	price_changes: number;
}

/**
 * Upserts one chunk of a vendor's prices. The old price of every row whose price changes goes to history (valid
 * from when it became current until now, with the price that replaced it, which an undo checks), then the rows are upserted. All sub-statements see the same snapshot,
 * so `old` holds the prices from before the upsert. Optional fields the feed leaves empty keep their stored
 * value; a row whose values are all unchanged is not written (the import stays idempotent).
 */
export async function writeVendorPrices(
	t: Task,
	vendor: string,
	rows: readonly VendorPriceWrite[],
	runId: number | null,
	now: Date,
): Promise<VendorPriceWriteCounts> {
	return t.one<VendorPriceWriteCounts>(
		`WITH input AS (
		   SELECT x.vendor_sku, x.material_id, round(x.price, 4) AS price, x.description, x.unit, x.pack_size, x.effective_date
		   FROM jsonb_to_recordset($1::jsonb) AS x(vendor_sku text, material_id bigint, price numeric, description text, unit text, pack_size numeric, effective_date date)
		 ),
		 old AS (
		   SELECT vp.id, vp.vendor_sku, vp.price, vp.price_valid_from FROM vendor_prices vp JOIN input i ON vp.vendor = $2::text AND vp.vendor_sku = i.vendor_sku
		 ),
		 history AS (
		   INSERT INTO vendor_price_history (vendor_price_id, price, valid_from, valid_to, run_id, new_price)
		   SELECT o.id, o.price, o.price_valid_from, GREATEST($3::timestamptz, o.price_valid_from), $4::bigint, i.price
		   FROM old o JOIN input i ON i.vendor_sku = o.vendor_sku
		   WHERE o.price IS DISTINCT FROM i.price
		   RETURNING vendor_price_id
		 ),
		 written AS (
		   INSERT INTO vendor_prices AS vp (material_id, vendor, vendor_sku, price, description, unit, pack_size, effective_date, price_valid_from, created_at, updated_at)
		   SELECT i.material_id, $2::text, i.vendor_sku, i.price, i.description, i.unit, i.pack_size, i.effective_date, $3::timestamptz, $3::timestamptz, $3::timestamptz
		   FROM input i
		   ON CONFLICT (vendor, vendor_sku) DO UPDATE SET
		     material_id = EXCLUDED.material_id,
		     price = EXCLUDED.price,
		     description = COALESCE(EXCLUDED.description, vp.description),
		     unit = COALESCE(EXCLUDED.unit, vp.unit),
		     pack_size = COALESCE(EXCLUDED.pack_size, vp.pack_size),
		     effective_date = COALESCE(EXCLUDED.effective_date, vp.effective_date),
		     price_valid_from = CASE WHEN vp.price IS DISTINCT FROM EXCLUDED.price THEN EXCLUDED.price_valid_from ELSE vp.price_valid_from END,
		     updated_at = EXCLUDED.updated_at
		   WHERE (vp.material_id, vp.price, vp.description, vp.unit, vp.pack_size, vp.effective_date) IS DISTINCT FROM
		     (EXCLUDED.material_id, EXCLUDED.price, COALESCE(EXCLUDED.description, vp.description), COALESCE(EXCLUDED.unit, vp.unit),
		      COALESCE(EXCLUDED.pack_size, vp.pack_size), COALESCE(EXCLUDED.effective_date, vp.effective_date))
		   RETURNING (xmax = 0) AS inserted
		 )
		 SELECT (SELECT count(*)::int FROM written WHERE inserted) AS inserted,
		        (SELECT count(*)::int FROM written WHERE NOT inserted) AS updated,
		        (SELECT count(*)::int FROM history) AS price_changes`,
		[JSON.stringify(rows), vendor, now, runId],
	);
}

/** Where each SKU of a feed could belong: its existing vendor_prices link, and the materials naming it in ST's vendor data. */
export interface SkuCandidates {
	sku: string;
	/** The material an existing vendor_prices row of this vendor and SKU links to. */
	existing_id: number | null;
	/** Materials whose ServiceTitan vendor data names this vendor and part (null when none). */
	st_ids: string[] | null;
}

/**
 * Gathers, once per import, the (material, vendor part) pairs of every material whose ServiceTitan vendor data
 * (primaryVendor / otherVendors) names one of `stVendorNames` (lower-cased, trimmed), into a temporary table indexed
 * by part that lives until the transaction ends. Reading the materials' vendor data once, rather than per chunk of
 * the feed, keeps a large feed's matching linear. Soft-deleted materials count. Must run inside a transaction.
 */
export async function loadVendorLinks(t: Task, stVendorNames: readonly string[]): Promise<void> {
	await t.none(
		`DROP TABLE IF EXISTS pg_temp.vendor_links;
		 CREATE TEMP TABLE vendor_links ON COMMIT DROP AS
		   SELECT m.id AS material_id, btrim(v->>'vendorPart') AS part
		   FROM pricebook_materials m
		   CROSS JOIN LATERAL jsonb_array_elements(
		     CASE WHEN jsonb_typeof(m.st_data->'primaryVendor') = 'object' THEN jsonb_build_array(m.st_data->'primaryVendor') ELSE '[]'::jsonb END
		     || CASE WHEN jsonb_typeof(m.st_data->'otherVendors') = 'array' THEN m.st_data->'otherVendors' ELSE '[]'::jsonb END
		   ) AS v
		   WHERE jsonb_typeof(v) = 'object' AND lower(btrim(v->>'vendorName')) = ANY($1::text[]);
		 CREATE INDEX ON vendor_links (part);
		 ANALYZE vendor_links`,
		[[...stVendorNames]],
	);
}

/**
 * The candidate materials of every distinct SKU of a chunk, in one statement: the material an existing
 * vendor_prices row of this vendor links to, and the materials whose ServiceTitan vendor data names this vendor and
 * part (from loadVendorLinks, called earlier in the same transaction). Choosing between the candidates is the
 * caller's job (lib/vendor/match.ts).
 */
export async function findSkuCandidates(t: Task, vendor: string, skus: readonly string[]): Promise<SkuCandidates[]> {
	if (skus.length === 0) return [];
	return t.any<SkuCandidates>(
		`WITH input AS (SELECT DISTINCT x.sku FROM jsonb_to_recordset($1::jsonb) AS x(sku text)),
		 st AS (
		   SELECT i.sku, array_agg(DISTINCT l.material_id) AS ids FROM input i JOIN vendor_links l ON l.part = i.sku GROUP BY i.sku
		 )
		 SELECT i.sku, vp.material_id AS existing_id, st.ids AS st_ids
		 FROM input i
		 LEFT JOIN vendor_prices vp ON vp.vendor = $2 AND vp.vendor_sku = i.sku AND vp.material_id IS NOT NULL
		 LEFT JOIN st ON st.sku = i.sku`,
		[JSON.stringify(skus.map((sku) => ({ sku }))), vendor],
	);
}

/** A price one run changed, with what became of it since (lib/vendor/undo.ts). Prices are decimal text. */
export interface RunPriceChange {
	vendor_price_id: string;
	vendor: string;
	vendor_sku: string;
	material_id: number | null;
	/** The price before the run: what an undo restores. */
	before_price: string | null;
	/** The price the run set; null in history recorded before migration 0018. */
	set_price: string | null;
	current_price: string | null;
	/** A later run (import or undo) changed this price again; null when none did. */
	later_run_id: number | null;
	later_change: boolean;
}

/**
 * The prices `runId` changed, locked (FOR UPDATE) so that nothing edits them between the check and the restore.
 * A later history row of the same price means a later run changed it; a current price other than the one the run
 * set means a person edited it (a Retool edit adds no history).
 */
export async function readRunPriceChanges(t: Task, runId: number): Promise<RunPriceChange[]> {
	return t.any<RunPriceChange>(
		`SELECT vp.id AS vendor_price_id, vp.vendor, vp.vendor_sku, vp.material_id, h.price::text AS before_price,
		        h.new_price::text AS set_price, vp.price::text AS current_price, later.run_id AS later_run_id,
		        later.id IS NOT NULL AS later_change
		 FROM vendor_price_history h
		 JOIN vendor_prices vp ON vp.id = h.vendor_price_id
		 LEFT JOIN LATERAL (
		   SELECT h2.id, h2.run_id FROM vendor_price_history h2
		   WHERE h2.vendor_price_id = h.vendor_price_id AND h2.id > h.id ORDER BY h2.id LIMIT 1
		 ) later ON true
		 WHERE h.run_id = $1
		 ORDER BY vp.vendor, vp.vendor_sku
		 FOR UPDATE OF vp`,
		[runId],
	);
}

/**
 * Sets prices back (an undo run): like an import's price change, the replaced price goes to history with the run
 * and the price that replaced it, so the undo shows in the price history and can itself be undone.
 */
export async function restoreVendorPrices(t: Task, runId: number, rows: readonly { id: string; price: string | null }[], now: Date): Promise<number> {
	if (rows.length === 0) return 0;
	const { n } = await t.one<{ n: number }>(
		`WITH input AS (SELECT x.id, round(x.price, 4) AS price FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, price numeric)),
		 history AS (
		   INSERT INTO vendor_price_history (vendor_price_id, price, valid_from, valid_to, run_id, new_price)
		   SELECT vp.id, vp.price, vp.price_valid_from, GREATEST($2::timestamptz, vp.price_valid_from), $3::bigint, i.price
		   FROM vendor_prices vp JOIN input i ON i.id = vp.id
		   RETURNING 1
		 ),
		 written AS (
		   UPDATE vendor_prices vp SET price = i.price, price_valid_from = $2::timestamptz, updated_at = $2::timestamptz
		   FROM input i WHERE vp.id = i.id
		   RETURNING 1
		 )
		 SELECT (SELECT count(*)::int FROM written) AS n`,
		[JSON.stringify(rows), now, runId],
	);
	return n;
}

/** The finished undo of `runId`, if one was carried out. */
export async function findVendorImportUndo(t: Task, runId: number): Promise<number | null> {
	const row = await t.oneOrNone<{ id: number }>(
		`SELECT id FROM sync_runs WHERE kind = 'vendor_import_undo' AND status = 'succeeded' AND (details ->> 'undoes')::bigint = $1 ORDER BY id LIMIT 1`,
		[runId],
	);
	return row ? Number(row.id) : null;
}
