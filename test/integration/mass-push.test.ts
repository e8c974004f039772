import { SyncEngine } from '../../lib/sync/engine';
import type { RunProgressEvent } from '../../lib/sync/run-types';
import { startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(120_000);

/**
 * A mass price change in Retool (one UPDATE over every material, as after a vendor cost update) is pushed and
 * verified in one incremental run: in pages (memory stays flat), with progress, and read back from ServiceTitan
 * 50 ids per request rather than one request per item.
 */
let h: SyncHarness;
beforeAll(async () => {
	h = await startHarness({ sim: { counts: { categories: 12, materials: 1200, equipment: 5, services: 5 } } });
	expect((await h.engine.run({ kind: 'full', entityType: 'materials' })).success).toBe(true);
});
afterAll(async () => h?.close());

it('pushes and verifies a 1,200-item Retool backlog in one run, reporting progress page by page', async () => {
	await h.t.db.none('UPDATE pricebook_materials SET price = round(coalesce(price, 0) * 1.1 + 1, 2)');
	const wanted = new Map(
		(await h.t.db.any<{ id: string; price: string }>('SELECT id, price FROM pricebook_materials')).map((r) => [Number(r.id), Number(r.price)]),
	);
	expect(wanted.size).toBe(1200);
	h.sim.control.resetStats();
	const events: RunProgressEvent[] = [];
	const engine = new SyncEngine({ db: h.t.db, st: h.client, onProgress: (e) => events.push(e) });

	const result = await engine.run({ kind: 'incremental', entityType: 'materials' });

	expect(result.success).toBe(true);
	expect(result.itemsPushed).toBe(1200);
	// Pages of 500, each reported as it is done, of the backlog counted up front (an edited item the listing itself
	// brought, if any, is pushed with its page instead).
	const pushes = events.filter((e) => e.editsPushed !== undefined);
	const total = pushes[0].editsToPush!;
	expect(total).toBeGreaterThan(1190);
	expect(pushes.map((e) => [e.editsPushed, e.editsToPush])).toEqual([
		[500, total],
		[1000, total],
		[total, total],
	]);
	// Every edit is in ServiceTitan as sent, and every row is settled.
	for (const [id, price] of wanted) expect(Number(h.sim.control.getItem('materials', id)!.price)).toBe(price);
	expect(await h.t.db.one("SELECT count(*)::int AS n FROM pricebook_materials WHERE sync_status <> 'synced'")).toEqual({ n: 0 });
	const routes = h.sim.control.requestCounts().byRoute;
	expect(routes['PATCH /materials/{id}']).toBe(1200);
	// Read by id before deciding and after pushing, 50 ids per request: 2 x 24 requests, not 1,200.
	expect(routes['GET /materials/{id}'] ?? 0).toBe(0);
	expect(routes['GET /materials']).toBeLessThanOrEqual(2 * 24 + 2);
});
