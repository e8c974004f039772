import { markEngineWrites } from '../../lib/db/engine-session';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { IWorkflowBase } from 'n8n-workflow';
import { closeDatabase } from '../../nodes/shared/database';
import { loadWorkflow, runWorkflow, shutdownN8n } from '../support/n8n-harness';
import { createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(60_000);

const FEEDS: Record<string, string> = {
	'/ced.csv': '\uFEFFCatalog Number,Description,Net Price\nCED-1,"Wire, 12 AWG",10.5\nCED-404,Unknown,1\n',
	'/pool360.csv': 'Item Number;Your Price\nP360-1;"89,99"\n',
	'/homedepot.json': JSON.stringify([{ 'Internet #': 'HD-1', 'Unit Price': 3.1 }]),
};

let t: TestDatabase;
let server: Server;
let base: string;
const seenAuth: string[] = [];
const workflow = loadWorkflow(path.resolve(__dirname, '../../workflows/pricebook-vendor-prices.json'));
const credentials = () => ({ pricebookDatabase: { connectionString: t.url, ssl: 'disable' }, vendorFeedApi: { headerName: 'X-Api-Key', headerValue: 'k3y' } });

/** The shipped workflow with its feed URLs filled in, as an operator would after importing it. */
function filledIn(urls: Record<string, string>, withFeedCredential = false): IWorkflowBase {
	const feedCredential = { vendorFeedApi: { id: 'VendorFeed000001', name: 'Vendor Feed' } };
	return {
		...workflow,
		nodes: workflow.nodes.map((n) =>
			n.type.endsWith('.vendorPriceImport')
				? {
						...n,
						parameters: {
							...n.parameters,
							feedUrl: urls[n.parameters.vendor as string],
							...(withFeedCredential ? { authentication: 'headerAuth' } : {}),
						},
						credentials: { ...n.credentials, ...(withFeedCredential ? feedCredential : {}) },
					}
				: n,
		),
	};
}

beforeAll(async () => {
	t = await createTestDatabase();
	// As a sync brought them in from ServiceTitan (the engine's write: a person's INSERT would be a new item).
	await t.db.tx(async (tx) => {
		await markEngineWrites(tx);
		await tx.none(
			`INSERT INTO pricebook_materials (id, code, st_data) VALUES
		 (1, 'M-1', '{"primaryVendor": {"vendorName": "CED", "vendorPart": "CED-1"}}'),
		 (2, 'M-2', '{"otherVendors": [{"vendorName": "Pool360", "vendorPart": "P360-1"}]}'),
		 (3, 'M-3', '{"primaryVendor": {"vendorName": "Home Depot", "vendorPart": "HD-1"}}')`,
		);
	});
	server = createServer((req, res) => {
		seenAuth.push(String(req.headers['x-api-key'] ?? ''));
		const body = FEEDS[req.url ?? ''];
		if (body === undefined) res.writeHead(404).end();
		else res.writeHead(200).end(body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
	shutdownN8n();
	await closeDatabase(credentials().pricebookDatabase);
	await new Promise((resolve) => server.close(resolve));
	await t.drop();
});

describe("the 03:00 vendor price workflow in n8n's engine", () => {
	it('ships with a 03:00 schedule, one import per vendor, and no URL or secret filled in', () => {
		const schedule = workflow.nodes.find((n) => n.name === 'Schedule');
		expect(schedule?.parameters).toMatchObject({ rule: { interval: [{ field: 'days', triggerAtHour: 3, triggerAtMinute: 0 }] } });
		const imports = workflow.nodes.filter((n) => n.type.endsWith('.vendorPriceImport'));
		expect(imports.map((n) => n.parameters.vendor)).toEqual(['ced', 'pool360', 'homedepot']);
		for (const n of imports) expect(n.parameters.feedUrl).toBe('');
		expect(JSON.stringify(workflow)).not.toMatch(/https?:\/\/|headerValue|vendorFeedApi/);
	});

	it('with the database unreachable, every import fails on its error output and the execution ends failed (not green)', async () => {
		const urls = { ced: `${base}/ced.csv`, pool360: `${base}/pool360.csv`, homedepot: `${base}/homedepot.json` };
		// Nothing listens on port 1: the connection is refused at once.
		const down = { ...credentials(), pricebookDatabase: { connectionString: 'postgres://pricebook@127.0.0.1:1/pricebook', ssl: 'disable' } };
		try {
			const result = await runWorkflow(filledIn(urls), { credentials: down, trigger: { node: 'Schedule', items: [{}] } });
			for (const node of ['Import CED Prices', 'Import Pool360 Prices', 'Import Home Depot Prices']) {
				expect({ node, imported: result.last(node, 0) }).toEqual({ node, imported: [] });
				expect({ node, failure: result.last(node, 1)[0]?.error }).toMatchObject({ node, failure: { failureKind: 'database' } });
			}
			expect(result.run.status).toBe('error');
			expect(result.run.data.resultData.lastNodeExecuted).toBe('Fail If An Import Failed');
			expect((result.error as { description?: string }).description).toMatch(/The failure could not be recorded \(.*\)/);
		} finally {
			await closeDatabase(down.pricebookDatabase);
		}
	});

	it("imports every vendor's feed; one failing feed does not stop the others, and the execution then ends failed", async () => {
		const urls = { ced: `${base}/ced.csv`, pool360: `${base}/missing.csv`, homedepot: `${base}/homedepot.json` };
		const first = await runWorkflow(filledIn(urls), {
			credentials: credentials(),
			trigger: { node: 'Schedule', items: [{ timestamp: '2026-11-25T03:00:00.000Z' }] },
		});
		expect(first.last('Import CED Prices')[0]).toMatchObject({ vendor: 'ced', status: 'succeeded', inserted: 1, unmatched: [{ line: 3, sku: 'CED-404' }] });
		expect(first.last('Import Pool360 Prices', 1)[0].error).toMatchObject({ message: expect.stringMatching(/HTTP 404/) });
		expect(first.last('Import Home Depot Prices')[0]).toMatchObject({ vendor: 'homedepot', inserted: 1 });
		// After every vendor had its turn, n8n shows the execution failed, naming the broken feed.
		expect(first.run.status).toBe('error');
		expect(first.run.data.resultData.lastNodeExecuted).toBe('Fail If An Import Failed');
		expect(first.error?.message).toMatch(/^Import Pool360 Prices: .*HTTP 404/);

		urls.pool360 = `${base}/pool360.csv`;
		const second = await runWorkflow(filledIn(urls, true), { credentials: credentials(), trigger: { node: 'Schedule', items: [{}] } });
		expect(second.error).toBeUndefined();
		// "89,99" is not a price we read (no decimal commas): a bad row with its line, never a guess.
		expect(second.last('Import Pool360 Prices')[0]).toMatchObject({ inserted: 0, badRows: [{ line: 2, sku: 'P360-1' }] });
		expect(second.last('Import CED Prices')[0]).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
		expect(seenAuth.slice(-3)).toEqual(['k3y', 'k3y', 'k3y']);
		const rows = await t.db.any('SELECT vendor, vendor_sku, material_id, price FROM vendor_prices ORDER BY vendor');
		expect(rows).toEqual([
			{ vendor: 'ced', vendor_sku: 'CED-1', material_id: 1, price: '10.5000' },
			{ vendor: 'homedepot', vendor_sku: 'HD-1', material_id: 3, price: '3.1000' },
		]);
		const runs = await t.db.any("SELECT trigger, status FROM sync_runs WHERE kind = 'vendor_import'");
		expect(runs).toHaveLength(5);
		expect(runs.every((r) => r.trigger === 'schedule' && r.status === 'succeeded')).toBe(true);
	});
});
