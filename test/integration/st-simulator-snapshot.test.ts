import { stTimestampToTicks } from '../../lib/servicetitan/timestamps';
import { checkSnapshot } from '../../sim';
import { startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';
import { collect } from '../support/st-client-helpers';

/**
 * A saved simulated tenant served again (what keeps `npm start`'s sandbox tenant between commands): over HTTP, the
 * restored simulator must be the same tenant, not one like it.
 */
describe('ServiceTitan simulator snapshots', () => {
	const running: CheckedSimulator[] = [];
	afterAll(async () => {
		for (const s of running) {
			await s.stop();
			expect(s.contract.violations()).toEqual([]);
		}
	});

	it('serves the same tenant again: records, deletes, ids, clock, credentials; and later stamps stay after the saved ones', async () => {
		const first = await startCheckedSimulator({ seed: 11, counts: { categories: 12, materials: 40, equipment: 8, services: 10 } });
		running.push(first);
		const [edited, deleted] = first.sim.control.listIds('materials');
		first.sim.control.advanceClock(3_600_000);
		const client = first.client();
		await client.patch('materials', edited, { price: 123.45 });
		first.sim.control.deleteItem('materials', deleted);
		const created = first.sim.control.createItem('materials', { code: 'SNAP-1', displayName: 'Snapshot test' });
		const before = await collect(client.iteratePages('materials', { pageSize: 500, active: 'Any' }));
		const exportedBefore = await client.exportPage('materials', { includeRecentChanges: true });
		const ticks = (record: { modifiedOn?: unknown }) => stTimestampToTicks(String(record.modifiedOn));
		const lastStamp = before.map(ticks).reduce((a, b) => (a > b ? a : b));

		// Through JSON, as the CLI stores it.
		const saved = checkSnapshot(JSON.parse(JSON.stringify(first.sim.snapshot())));
		const second = await startCheckedSimulator({ restore: saved });
		running.push(second);
		expect(second.sim.stConfig()).toMatchObject({
			clientId: first.sim.clientId,
			clientSecret: first.sim.clientSecret,
			appKey: first.sim.appKey,
			tenantId: first.sim.tenantId,
		});
		expect(Math.abs(second.sim.control.now() - first.sim.control.now())).toBeLessThan(5_000);
		const again = second.client();
		expect(await collect(again.iteratePages('materials', { pageSize: 500, active: 'Any' }))).toEqual(before);
		expect((await again.get('materials', edited))?.price).toBe(123.45);
		expect(await again.get('materials', deleted)).toBeNull();
		// The deleted item still shows in the export feed, inactive, as it did before the save.
		const exported = await again.exportPage('materials', { includeRecentChanges: true });
		expect(exported.data.find((r) => r.id === deleted)).toEqual(exportedBefore.data.find((r) => r.id === deleted));
		expect(exported.data.find((r) => r.id === deleted)?.active).toBe(false);

		// New ids continue after the saved ones, and new stamps come after every saved stamp.
		const next = await again.create('materials', { code: 'SNAP-2', description: 'After restore', cost: 1, price: 2 });
		expect(next.id).toBeGreaterThan(created.id);
		const patched = await again.patch('materials', edited, { price: 1 });
		expect(ticks(patched) > lastStamp).toBe(true);
		// The first tenant did not change: the restored one is a copy, not a view.
		expect(first.sim.control.getItem('materials', edited)?.price).toBe(123.45);
	});

	it('refuses a damaged snapshot rather than serving part of a tenant', () => {
		expect(() => checkSnapshot({ format: 'something else' })).toThrow(/format/);
		expect(() => checkSnapshot(null)).toThrow(/not a simulated tenant snapshot/);
	});

	it('a damaged record list is named', async () => {
		const s = await startCheckedSimulator({ seed: 3, counts: { categories: 5, materials: 3, equipment: 1, services: 1 } });
		running.push(s);
		const snapshot = JSON.parse(JSON.stringify(s.sim.snapshot())) as { records: { materials: unknown[] } };
		snapshot.records.materials[1] = { name: 'no id' };
		expect(() => checkSnapshot(snapshot)).toThrow(/records\.materials\[1\] is not a record/);
	});
});
