import { markEngineWrites } from '../../lib/db/engine-session';
import { importVendorPrices } from '../../lib/vendor/import';
import { undoVendorImport } from '../../lib/vendor/undo';
import { runCliCaptured } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(60_000);

/**
 * Undo of a vendor price import on real PostgreSQL: the prices it changed go back, those changed since (a later
 * import, a Retool edit) stay with the reason, a dry run changes nothing, and the undo is a run whose own changes
 * are history that can be undone in turn.
 */
let t: TestDatabase;

const link = (vendorPart: string) => ({ id: 1, vendorId: 101, vendorName: 'CED', vendorPart, cost: 1, active: true, memo: null });
const feed = (prices: Record<string, string>) =>
	'Catalog Number,Description,Net Price,UOM,Std Pack,Effective Date\n' +
	Object.entries(prices)
		.map(([sku, p]) => `${sku},Part ${sku},${p},EA,1,`)
		.join('\n');
const importAt = async (prices: Record<string, string>, at: string) => {
	const r = await importVendorPrices(t.db, { vendor: 'ced', content: feed(prices), now: new Date(at) });
	expect(r.status).toBe('succeeded');
	return r.runId!;
};
const prices = async (): Promise<Record<string, string>> =>
	Object.fromEntries(
		(await t.db.any("SELECT vendor_sku, price::text AS price FROM vendor_prices WHERE vendor = 'ced' ORDER BY vendor_sku")).map((r) => [
			r.vendor_sku,
			r.price,
		]),
	);
const snapshot = async () => ({
	prices: await t.db.any('SELECT * FROM vendor_prices ORDER BY id'),
	history: await t.db.any('SELECT * FROM vendor_price_history ORDER BY id'),
	runs: await t.db.any('SELECT id FROM sync_runs ORDER BY id'),
});

beforeEach(async () => {
	t = await createTestDatabase();
	await t.db.tx(async (tx) => {
		await markEngineWrites(tx);
		for (const [id, part] of [
			[2001, 'CED-A'],
			[2002, 'CED-B'],
			[2003, 'CED-C'],
		] as const)
			await tx.none('INSERT INTO pricebook_materials (id, code, st_data) VALUES ($1, $2, $3)', [id, `M-${id}`, { primaryVendor: link(part) }]);
	});
	await importAt({ 'CED-A': '10.00', 'CED-B': '20.00', 'CED-C': '30.00' }, '2026-11-01T03:00:00Z');
});
afterEach(async () => t.drop());

const NOW = new Date('2026-11-20T12:00:00Z');

describe('undo of a vendor import', () => {
	it('restores every price the import changed when nothing changed since, as a run of its own', async () => {
		const run = await importAt({ 'CED-A': '11.00', 'CED-B': '21.00', 'CED-C': '30.00' }, '2026-11-10T03:00:00Z');
		const r = await undoVendorImport({ db: t.db }, run, { by: 'ann@perfectcatch', now: NOW });
		expect(r.skipped).toEqual([]);
		expect(r.restored).toEqual([
			{ vendor: 'ced', vendorSku: 'CED-A', materialId: 2001, now: '11.0000', after: '10.0000' },
			{ vendor: 'ced', vendorSku: 'CED-B', materialId: 2002, now: '21.0000', after: '20.0000' },
		]);
		expect(await prices()).toEqual({ 'CED-A': '10.0000', 'CED-B': '20.0000', 'CED-C': '30.0000' });
		expect(await t.db.one('SELECT kind, status, dry_run, details FROM sync_runs WHERE id = $1', [r.runId])).toEqual({
			kind: 'vendor_import_undo',
			status: 'succeeded',
			dry_run: false,
			details: { undoes: run, by: 'ann@perfectcatch', restored: 2, skipped: 0 },
		});
		// The undo's own changes are price history: undoing the undo brings the import's prices back.
		const again = await undoVendorImport({ db: t.db }, r.runId!, { by: 'ann@perfectcatch', now: new Date(NOW.getTime() + 60_000) });
		expect(again.restored).toHaveLength(2);
		expect(await prices()).toEqual({ 'CED-A': '11.0000', 'CED-B': '21.0000', 'CED-C': '30.0000' });
	});

	it('keeps prices changed since by a later import or a Retool edit, and says why', async () => {
		const run = await importAt({ 'CED-A': '11.00', 'CED-B': '21.00', 'CED-C': '31.00' }, '2026-11-10T03:00:00Z');
		const later = await importAt({ 'CED-A': '12.00', 'CED-B': '21.00', 'CED-C': '31.00' }, '2026-11-11T03:00:00Z');
		// A person's edit in Retool: a plain UPDATE, no history row.
		await t.db.none("UPDATE vendor_prices SET price = 25 WHERE vendor_sku = 'CED-B'");
		const r = await undoVendorImport({ db: t.db }, run, { by: 'ann@perfectcatch', now: NOW });
		expect(r.restored).toEqual([{ vendor: 'ced', vendorSku: 'CED-C', materialId: 2003, now: '31.0000', after: '30.0000' }]);
		expect(r.skipped).toEqual([
			expect.objectContaining({ vendorSku: 'CED-A', now: '12.0000', after: '10.0000', skipped: `changed since by run ${later}: undo that run first` }),
			expect.objectContaining({ vendorSku: 'CED-B', now: '25.0000', skipped: 'edited since (now 25.0000, the import set 21.0000): kept' }),
		]);
		expect(await prices()).toEqual({ 'CED-A': '12.0000', 'CED-B': '25.0000', 'CED-C': '30.0000' });
		await expect(undoVendorImport({ db: t.db }, run, { by: 'ann', now: NOW })).rejects.toThrow(/already undone by run \d+/);
	});

	it('dry run lists vendor, item, now -> after and changes nothing', async () => {
		const run = await importAt({ 'CED-A': '11.00', 'CED-B': '20.00', 'CED-C': '30.00' }, '2026-11-10T03:00:00Z');
		const before = await snapshot();
		const r = await undoVendorImport({ db: t.db }, run, { by: 'ann', dryRun: true, now: NOW });
		expect(r).toMatchObject({ runId: null, dryRun: true, restored: [{ vendorSku: 'CED-A', now: '11.0000', after: '10.0000' }] });
		expect(await snapshot()).toEqual(before);

		const env = { DATABASE_URL: t.url };
		const cli = await runCliCaptured(['undo-vendor-import', String(run), '--dry-run', '--by', 'ann'], env);
		expect(cli).toMatchObject({ code: 0, stderr: '' });
		expect(cli.stdout).toContain(`dry run: undoing run ${run} would restore 1 price(s), skipped 0`);
		expect(cli.stdout).toContain('  ced CED-A (material 2001): 11.0000 -> 10.0000');
		expect(await snapshot()).toEqual(before);

		const done = await runCliCaptured(['undo-vendor-import', String(run), '--by', 'ann', '--json'], env);
		expect(JSON.parse(done.stdout)).toMatchObject({ undoes: run, dryRun: false, restored: [{ vendorSku: 'CED-A' }] });
		expect(await prices()).toMatchObject({ 'CED-A': '10.0000' });
	});

	it('refuses what it cannot undo: another kind of run, an unknown run, one beyond the retention window, no --by', async () => {
		const run = await importAt({ 'CED-A': '11.00' }, '2026-11-10T03:00:00Z');
		const other = Number((await t.db.one("INSERT INTO sync_runs (kind, entity_type, status) VALUES ('full', 'materials', 'succeeded') RETURNING id")).id);
		await expect(undoVendorImport({ db: t.db }, other, { by: 'ann', now: NOW })).rejects.toThrow(/is a full run, not a vendor price import/);
		await expect(undoVendorImport({ db: t.db }, 987654, { by: 'ann', now: NOW })).rejects.toThrow(/run 987654 does not exist/);
		await expect(undoVendorImport({ db: t.db }, run, { by: 'ann', now: new Date('2027-03-01T00:00:00Z') })).rejects.toThrow(
			/beyond the 90-day retention window/,
		);
		const cli = await runCliCaptured(['undo-vendor-import', String(run)], { DATABASE_URL: t.url });
		expect(cli.code).toBe(2);
		expect(cli.stderr).toMatch(/--by is required/);
		expect(await prices()).toMatchObject({ 'CED-A': '11.0000' });
	});
});
