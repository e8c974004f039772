import { startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/**
 * The "done when" figure: 50,000 materials listed through the client from the simulator. The time is printed,
 * not asserted (machines differ); what is asserted is that the listing is complete and used one token.
 */
describe('listing 50,000 materials through the client', () => {
	let s: CheckedSimulator;

	beforeAll(async () => {
		s = await startCheckedSimulator({ seed: 11, counts: { materials: 50_000, services: 10, equipment: 10, categories: 20 } });
	}, 60_000);

	afterAll(async () => {
		await s.stop();
	});

	it('reads every page with pageSize 5000', async () => {
		const client = s.client();
		const started = process.hrtime.bigint();
		const ids = new Set<number>();
		let pages = 0;
		for await (const page of client.iteratePages('materials', { pageSize: 5000 })) {
			pages += 1;
			for (const record of page.data) ids.add(record.id);
		}
		const ms = Number(process.hrtime.bigint() - started) / 1e6;
		console.log(`st-client: listed ${ids.size} materials in ${pages} pages in ${ms.toFixed(0)} ms (${Math.round(ids.size / (ms / 1000))} items/s)`);
		expect(ids.size).toBe(50_000);
		expect(pages).toBe(10);
		expect(client.stats()).toEqual({ requests: 10, tokenRequests: 1, retries: 0 });
	}, 120_000);

	it('sent answers that follow the OpenAPI document', () => {
		expect(s.contract.violations()).toEqual([]);
		expect(s.contract.responsesChecked()).toBe(10);
	}, 60_000);
});
