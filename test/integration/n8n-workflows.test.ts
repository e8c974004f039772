import * as path from 'node:path';
import type { IDataObject, IWorkflowBase } from 'n8n-workflow';
import { closeDatabase } from '../../nodes/shared/database';
import { closeServiceTitanClients } from '../../nodes/shared/servicetitan';
import { startStagedRuns } from '../../lib/sync/staged-run';
import { DEFAULT_SETTINGS } from '../../lib/sync/run-types';
import { getSyncStatus } from '../../lib/reporting/status';
import { credentialsFor, WEBHOOK_KEY, WEBHOOK_KEY_HEADER } from '../support/n8n-credentials';
import { callWebhook, loadWorkflow, n8nLog, runWorkflow, shutdownN8n, type WebhookRequest, type WorkflowRun } from '../support/n8n-harness';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(120_000);

const WORKFLOWS = path.resolve(__dirname, '../../workflows');
const wf = (name: string) => loadWorkflow(path.join(WORKFLOWS, name));

/** The scheduled flows with a small page size, so the page loop turns several times on the test data. */
function withPageSize(definition: IWorkflowBase, pageSize: number): IWorkflowBase {
	return { ...definition, nodes: definition.nodes.map((n) => (n.type.endsWith('.startSyncRun') ? { ...n, parameters: { ...n.parameters, pageSize } } : n)) };
}

const TABLES = ['pricebook_categories', 'pricebook_services', 'pricebook_materials', 'pricebook_equipment'];
const SNAPSHOT = (table: string) =>
	`SELECT id, to_jsonb(t) - 'created_at' - 'updated_at' - 'last_synced_at' - 'deleted_at' - 'category_uuid' - 'row_version' - 'conflict_data' AS row
	 FROM ${table} t ORDER BY id`;

async function snapshot(h: SyncHarness) {
	const out: Record<string, unknown[]> = {};
	for (const table of TABLES) out[table] = await h.t.db.any(SNAPSHOT(table));
	return out;
}

let h: SyncHarness;
let other: SyncHarness | undefined;
afterAll(shutdownN8n);
afterEach(async () => {
	for (const x of [h, other]) {
		if (!x) continue;
		await closeDatabase(credentialsFor(x).pricebookDatabase);
		await x.close();
	}
	other = undefined;
	closeServiceTitanClients();
});

const run = (name: string | IWorkflowBase, trigger: { node: string; items: IDataObject[] }) =>
	runWorkflow(typeof name === 'string' ? wf(name) : name, { credentials: credentialsFor(h), trigger });
const schedule = { node: 'Schedule', items: [{ timestamp: '2026-11-25T02:00:00.000Z' }] };

function finished(result: WorkflowRun): IDataObject[] {
	return [...result.outputs('Finish Sync Run (categories)'), ...result.outputs('Finish Sync Run (services, materials, equipment)')].flatMap((o) =>
		o[0].map((i) => i.json),
	);
}

describe("scheduled workflows in n8n's engine", () => {
	it('incremental: categories first, then the other three types page by page, and the same end state as the library', async () => {
		// Both simulators on one fixed clock, so they serve identical data.
		const sim = { now: () => Date.parse('2026-11-25T08:00:00Z') };
		h = await startHarness({ sim });
		const result = await run(withPageSize(wf('pricebook-incremental-sync.json'), 7), schedule);
		expect(result.error).toBeUndefined();
		const results = finished(result);
		expect(results.map((r) => r.entityType).sort()).toEqual(['categories', 'equipment', 'materials', 'services']);
		// Categories have no cursor (a live tenant sends them without timestamps): their first run is promoted as a first sync too.
		for (const r of results) expect(r).toMatchObject({ success: true, kind: 'full', ranAsFullBecause: expect.stringMatching(/first sync/) });
		// The loop turned: ST Fetch Page ran once per page of every type.
		const pages = await h.t.db.one<{ n: number }>('SELECT sum(pages_read)::int AS n FROM sync_runs');
		expect(result.outputs('ST Fetch Page (services, materials, equipment)').length).toBeGreaterThan(3);
		expect(pages.n).toBeGreaterThan(8);
		// Categories finished before any other type started.
		const order = await h.t.db.one(
			`SELECT max(finished_at) FILTER (WHERE entity_type = 'categories') AS cats_done, min(started_at) FILTER (WHERE entity_type <> 'categories') AS others_start FROM sync_runs`,
		);
		expect(order.cats_done.getTime()).toBeLessThanOrEqual(order.others_start.getTime());
		// No pricebook row travelled through n8n: every node output is a run reference or a summary.
		for (const [name, tasks] of Object.entries(result.run.data.resultData.runData)) {
			for (const task of tasks) for (const items of task.data?.main ?? []) expect({ name, n: (items ?? []).length <= 3 }).toEqual({ name, n: true });
		}
		// One line per node saying what its step did, and only its own figures: no step repeats another's.
		const outputs = (node: string) => result.outputs(node).flatMap((o) => o.flatMap((items) => items.map((i) => i.json)));
		for (const [node, own, others] of [
			['ST Fetch Page', 'itemsRead', ['itemsCompared', 'counts', 'conflicts']],
			['Categorize Changes', 'itemsCompared', ['itemsRead', 'itemsSynced', 'conflicts']],
			['Apply Changes', 'itemsSynced', ['itemsRead', 'itemsCompared', 'conflicts']],
			['Store Conflicts', 'conflictsStored', ['itemsRead', 'itemsCompared', 'counts', 'itemsSynced']],
		] as const) {
			const items = [...outputs(`${node} (categories)`), ...outputs(`${node} (services, materials, equipment)`)];
			expect(items.length).toBeGreaterThan(4);
			for (const item of items) {
				expect({ node, message: typeof item.message, own: own in item, hasMore: typeof item.hasMore }).toEqual({
					node,
					message: 'string',
					own: true,
					hasMore: 'boolean',
				});
				for (const key of others) expect({ node, key, present: key in item }).toEqual({ node, key, present: false });
			}
		}
		// Categories: ServiceTitan pages and counts the roots, with their subcategories nested; the line says so.
		const categoryPages = outputs('ST Fetch Page (categories)');
		const read = categoryPages.reduce((n, p) => n + Number(p.itemsRead), 0);
		expect(read).toBe(await h.t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM pricebook_categories').then((r) => r.n));
		expect(categoryPages[0].message).toMatch(
			/^categories run \d+, page 1: \d+ categories read: 7 top-level with their \d+ subcategories; ServiceTitan lists \d+ top-level categories in all; more pages follow$/,
		);

		other = await startHarness({ sim });
		await other.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
		expect(await snapshot(h)).toEqual(await snapshot(other));

		// A second scheduled run is a real incremental run and changes nothing.
		const again = finished(await run(withPageSize(wf('pricebook-incremental-sync.json'), 7), schedule));
		for (const r of again) expect(r).toMatchObject({ kind: 'incremental', success: true, itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0 });
	});

	it('incremental: an ST edit comes in, a Retool edit goes out, a both-sides edit becomes a conflict', async () => {
		h = await startHarness();
		await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
		const [a, b, c] = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', a, { price: 101 });
		h.sim.control.updateItem('materials', c, { price: 303 });
		// ServiceTitan keeps money to the cent: the push is verified as normalized, and the local row takes its form.
		h.sim.control.setQuirks({ patch: { roundMoney: {} } });
		await retoolUpdate(h.t, 'pricebook_materials', b, { price: '202.3456' });
		await retoolUpdate(h.t, 'pricebook_materials', c, { price: 333 });
		const result = await run('pricebook-incremental-sync.json', schedule);
		const results = finished(result);
		const materials = results.find((r) => r.entityType === 'materials')!;
		expect(materials).toMatchObject({
			kind: 'incremental',
			itemsSynced: 1,
			itemsPushed: 1,
			pushes: { verified: 0, normalized: 1, ignored: 0 },
			conflictsDetected: 1,
		});
		expect((await h.t.db.one('SELECT price FROM pricebook_materials WHERE id = $1', [a])).price).toBe('101');
		expect(h.sim.control.getItem('materials', b)!.price).toBe(202.35);
		expect((await h.t.db.one('SELECT price, sync_status FROM pricebook_materials WHERE id = $1', [b])).price).toBe('202.35');
		expect((await h.t.db.one('SELECT sync_status FROM pricebook_materials WHERE id = $1', [c])).sync_status).toBe('conflict');
		// Store Conflicts lists the conflict it stored, so an admin sees it in n8n: item, label, fields, conflict id.
		const conflict = await h.t.db.one<{ id: number }>("SELECT id FROM sync_conflicts WHERE entity_type = 'materials' AND entity_id = $1", [c]);
		const stored = result.last('Store Conflicts (services, materials, equipment)').find((i) => i.entityType === 'materials')!;
		expect(stored).toMatchObject({
			conflictsStored: 1,
			conflicts: [
				{
					conflictId: conflict.id,
					entityType: 'materials',
					itemId: c,
					label: expect.stringMatching(/^M-\d+ \(.+\)$/),
					kind: 'modified',
					fields: ['price'],
				},
			],
			message: expect.stringMatching(
				new RegExp(`: 1 conflict stored for a person to resolve: material ${c} ".+": price differs, conflict ${conflict.id}$`),
			),
		});
	});

	it('full: soft-deletes what ServiceTitan deleted, like the library run', async () => {
		h = await startHarness();
		await run('pricebook-full-sync.json', schedule);
		const gone = h.sim.control.listIds('equipment')[0];
		h.sim.control.deleteItem('equipment', gone);
		const results = finished(await run(withPageSize(wf('pricebook-full-sync.json'), 5), schedule));
		expect(results.find((r) => r.entityType === 'equipment')).toMatchObject({ kind: 'full', success: true, summary: { deletedInST: 1 } });
		expect((await h.t.db.one('SELECT deleted_in_st FROM pricebook_equipment WHERE id = $1', [gone])).deleted_in_st).toBe(true);
	});

	it('ServiceTitan answering 503 mid-run: the run fails at once with that cause, its lease is free, the next run is not busy, status is red', async () => {
		h = await startHarness();
		// Materials page 3 answers 503 to every attempt, the client's own retries included: pages 1 and 2 are applied.
		h.sim.control.setFaults({ failListingPage: { entity: 'materials', page: 3, action: { kind: 'status', status: 503 } } });
		const result = await run(withPageSize(wf('pricebook-full-sync.json'), 7), schedule);
		// n8n shows the execution as failed, at the Fail Sync Run node, naming the step and ServiceTitan's answer.
		expect(result.run.status).toBe('error');
		expect(result.run.data.resultData.lastNodeExecuted).toBe('Fail Sync Run (services, materials, equipment)');
		expect(result.error?.message).toMatch(/^ST Fetch Page \(services, materials, equipment\): .*answered 503/);
		expect((result.error as { description?: string }).description).toMatch(
			/failed: materials run \d+; stopped with it.*: services run \d+, equipment run \d+/,
		);
		const runs = await h.t.db.any(
			`SELECT entity_type, status, error, details ->> 'failureKind' AS failure_kind, pages_read, items_seen FROM sync_runs ORDER BY id`,
		);
		expect(runs.find((r) => r.entity_type === 'materials')).toEqual({
			entity_type: 'materials',
			status: 'failed',
			error: expect.stringMatching(/503/),
			failure_kind: 'st_unavailable',
			// What the run read and applied before the failure stays counted.
			pages_read: 2,
			items_seen: 14,
		});
		// The other runs the execution held stop with it, saying why; categories had finished before.
		expect(runs.find((r) => r.entity_type === 'categories')).toMatchObject({ status: 'succeeded' });
		for (const type of ['services', 'equipment'])
			expect(runs.find((r) => r.entity_type === type)).toMatchObject({
				status: 'failed',
				failure_kind: 'st_unavailable',
				error: expect.stringMatching(
					/^stopped with its n8n execution: ST Fetch Page \(services, materials, equipment\) failed on materials run \d+: .*503/,
				),
			});
		// No run of the execution is left running, and no lease is held.
		expect(runs.filter((r) => r.status === 'running')).toEqual([]);
		expect(await h.t.db.any('SELECT entity_type FROM sync_state WHERE lease_run_id IS NOT NULL')).toEqual([]);
		const status = await getSyncStatus(h.t.db);
		expect(status.health).toBe('red');
		expect(status.materials).toMatchObject({ lastRunStatus: 'failed', lastRunError: expect.stringMatching(/503/) });
		expect(status.healthReasons).toContainEqual(expect.stringMatching(/^materials last run failed: .*503/));

		// The next run, at once, is not busy.
		h.sim.control.clearFaults();
		const again = finished(await run('pricebook-full-sync.json', schedule));
		expect(again.map((r) => [r.entityType, r.status]).sort()).toEqual([
			['categories', 'succeeded'],
			['equipment', 'succeeded'],
			['materials', 'succeeded'],
			['services', 'succeeded'],
		]);
	});

	it('a type whose run is busy is skipped; the next types still run', async () => {
		h = await startHarness();
		const deps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: DEFAULT_SETTINGS };
		const [held] = await startStagedRuns(deps, { kind: 'full', entityTypes: ['categories'] });
		expect(held.status).toBe('started');
		const result = await run('pricebook-incremental-sync.json', schedule);
		expect(result.last('Start Sync Run (categories)', 1)).toEqual([expect.objectContaining({ entityType: 'categories', status: 'busy' })]);
		expect(
			finished(result)
				.map((r) => r.entityType)
				.sort(),
		).toEqual(['equipment', 'materials', 'services']);
	});
});

const WEBHOOK_FILES = [
	'pricebook-webhook-full.json',
	'pricebook-webhook-incremental.json',
	'pricebook-webhook-entity.json',
	'pricebook-webhook-resolve-conflict.json',
	'pricebook-webhook-undo.json',
	'pricebook-webhook-status.json',
];
const methodOf = (file: string) => String(wf(file).nodes.find((n) => n.name === 'Webhook')!.parameters.httpMethod);
const withKey = { [WEBHOOK_KEY_HEADER]: WEBHOOK_KEY };

/** A request to the workflow's Pricebook Webhook node, which checks the key and starts the execution (or not). */
const hook = (file: string, request: Omit<WebhookRequest, 'method'>, credentials = credentialsFor(h)) =>
	callWebhook(wf(file), { credentials, node: 'Webhook', request: { method: methodOf(file), ...request } });

/** What Retool gets back: the Respond to Webhook node's status code and body. */
async function call(file: string, request: { params?: IDataObject; body?: unknown; query?: IDataObject }) {
	const { answered, execution } = await hook(file, { headers: withKey, params: request.params ?? {}, query: request.query ?? {}, body: request.body ?? {} });
	expect(answered).toBeUndefined();
	expect(execution!.error).toBeUndefined();
	// The trigger passes on what the request carried, never its headers; the key is nowhere in the execution.
	expect(Object.keys(execution!.last('Webhook')[0]).sort()).toEqual(['body', 'params', 'query']);
	expect(JSON.stringify(execution!.run)).not.toContain(WEBHOOK_KEY);
	return execution!.response!;
}

describe("the webhooks' key, checked by the Pricebook Webhook trigger in n8n's engine", () => {
	beforeEach(async () => {
		h = await startHarness();
	});

	const runs = async () => (await h.t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM sync_runs')).n;

	it.each(WEBHOOK_FILES)('%s: without the key, with a wrong one or with it in another header → 403, no execution, nothing run', async (file) => {
		const params = file.includes('entity')
			? { type: 'materials', id: '1' }
			: file.includes('resolve')
				? { id: '1' }
				: file.includes('undo')
					? { runId: '1' }
					: {};
		const request = { params, body: {} };
		for (const [headers, words] of [
			[{}, /the X-Pricebook-Key header is missing/],
			// The key with its last character changed (to one it is not: the key is random hex).
			[{ [WEBHOOK_KEY_HEADER]: `${WEBHOOK_KEY.slice(0, -1)}${WEBHOOK_KEY.endsWith('0') ? '1' : '0'}` }, /does not match/],
			[{ [WEBHOOK_KEY_HEADER]: WEBHOOK_KEY.slice(0, -1) }, /does not match/],
			[{ Authorization: WEBHOOK_KEY }, /missing/],
		] as const) {
			const { answered, execution } = await hook(file, { ...request, headers });
			expect(execution).toBeUndefined();
			expect(answered).toMatchObject({ statusCode: 403, headers: { 'Content-Type': expect.stringMatching(/^application\/json/) } });
			expect(JSON.parse(answered!.body)).toEqual({ error: expect.stringMatching(words) });
			expect(answered!.body).not.toContain(WEBHOOK_KEY.slice(0, 12));
		}
		expect(await runs()).toBe(0);
		expect(h.sim.control.listIds('materials').length).toBeGreaterThan(0);
	});

	it('a key credential without a value refuses every call with 500 saying what to set up, even with an empty header', async () => {
		const credentials = { ...credentialsFor(h), httpHeaderAuth: { name: WEBHOOK_KEY_HEADER, value: '' } };
		for (const headers of [{}, { [WEBHOOK_KEY_HEADER]: '' }, withKey]) {
			const { answered, execution } = await hook('pricebook-webhook-status.json', { headers }, credentials);
			expect(execution).toBeUndefined();
			expect(answered?.statusCode).toBe(500);
			expect(JSON.parse(answered!.body).error).toMatch(/Header Auth credential needs a header name and a value/);
		}
	});

	it('with the key: the trigger outputs params, query and body only; no header (key, cookie, authorization) reaches the execution', async () => {
		const headers = { ...withKey, Cookie: 'n8n-auth=cookie-secret-1', Authorization: 'Bearer bearer-secret-2', 'X-Forwarded-For': '10.1.2.3' };
		const { answered, execution } = await hook('pricebook-webhook-incremental.json', { headers, query: { q: '1' }, body: { entityType: 'materials' } });
		expect(answered).toBeUndefined();
		expect(execution!.error).toBeUndefined();
		expect(execution!.last('Webhook')).toEqual([{ params: {}, query: { q: '1' }, body: { entityType: 'materials' } }]);
		const saved = JSON.stringify(execution!.run);
		for (const secret of [WEBHOOK_KEY, 'cookie-secret-1', 'bearer-secret-2', '10.1.2.3'])
			expect({ secret, found: saved.includes(secret) }).toEqual({ secret, found: false });
		expect(execution!.response).toMatchObject({ statusCode: 200 });
		expect(await runs()).toBeGreaterThan(0);
	});
});

describe("webhook workflows in n8n's engine", () => {
	beforeEach(async () => {
		h = await startHarness();
	});

	it('POST full and incremental answer 200 with the run summary, 400 naming a bad field', async () => {
		const full = await call('pricebook-webhook-full.json', { body: { entityType: 'materials' } });
		expect(full.statusCode).toBe(200);
		expect((full.body.results as IDataObject[])[0]).toMatchObject({ entityType: 'materials', kind: 'full', success: true });
		const inc = await call('pricebook-webhook-incremental.json', { body: {} });
		expect(inc.statusCode).toBe(200);
		expect((inc.body.results as IDataObject[]).map((r) => r.entityType)).toEqual(['categories', 'services', 'materials', 'equipment']);
		for (const [body, field] of [
			[{ entityType: 'widgets' }, 'entityType'],
			[{ dryRun: 'yes' }, 'dryRun'],
			[{ since: 'last week' }, 'since'],
			[{ entityType: 'materials', extra: 1 }, 'extra'],
			['{not json', 'body'],
			[[1, 2], 'body'],
		] as const) {
			const bad = await call('pricebook-webhook-incremental.json', { body });
			expect({ body, statusCode: bad.statusCode, field: bad.body.field }).toEqual({ body, statusCode: 400, field });
		}
	});

	it('POST full answers 409 while a run of the same type holds the lease, and writes nothing', async () => {
		const deps = { db: h.t.db, st: h.client, now: () => new Date(), log: () => undefined, settings: DEFAULT_SETTINGS };
		await startStagedRuns(deps, { kind: 'full', entityTypes: ['materials'] });
		const busy = await call('pricebook-webhook-full.json', { body: { entityType: 'materials' } });
		expect(busy.statusCode).toBe(409);
		expect(busy.body.reason).toBe('busy');
		expect(await h.t.db.one('SELECT count(*)::int AS n FROM pricebook_materials')).toEqual({ n: 0 });
	});

	it('POST entity/:type/:id syncs one item; bad type or id → 400, unknown item → 404', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const id = h.sim.control.listIds('materials')[4];
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', id, { displayName: 'Saved in Retool, checked now' });
		const ok = await call('pricebook-webhook-entity.json', { params: { type: 'materials', id: String(id) } });
		expect(ok.statusCode).toBe(200);
		expect((ok.body.results as IDataObject[])[0]).toMatchObject({ kind: 'entity', summary: { modifiedInSTOnly: 1 } });
		expect((await h.t.db.one('SELECT display_name FROM pricebook_materials WHERE id = $1', [id])).display_name).toBe('Saved in Retool, checked now');
		for (const [params, field] of [
			[{ type: 'gizmos', id: '1' }, 'type'],
			[{ type: 'materials', id: '0' }, 'id'],
			[{ type: 'materials', id: '-5.5' }, 'id'],
			[{ type: 'materials', id: '1; DROP TABLE pricebook_materials' }, 'id'],
		] as const) {
			const bad = await call('pricebook-webhook-entity.json', { params });
			expect({ params, statusCode: bad.statusCode, field: bad.body.field }).toEqual({ params, statusCode: 400, field });
		}
		n8nLog.clear();
		const missing = await call('pricebook-webhook-entity.json', { params: { type: 'materials', id: '424242' } });
		expect(missing.statusCode).toBe(404);
		// A negative id is a row inserted in Retool (its temporary id): none here, so 404 too.
		expect((await call('pricebook-webhook-entity.json', { params: { type: 'materials', id: '-5' } })).statusCode).toBe(404);
		// Each failed run is told to n8n's log, for the operator (the harness keeps those lines rather than print them).
		expect(n8nLog.messages('error')).toEqual([
			'materials entity sync failed: material 424242 exists neither in ServiceTitan nor locally',
			'materials entity sync failed: material -5 does not exist locally',
		]);
	});

	it('POST entity/:type/:id with a just-inserted row’s temporary id creates the item in ServiceTitan at once', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const { id: temp } = await h.t.db.one(`INSERT INTO pricebook_materials (code, description) VALUES ('N8N-NEW-1', 'Saved in Retool') RETURNING id`);
		expect(Number(temp)).toBeLessThan(0);
		const ok = await call('pricebook-webhook-entity.json', { params: { type: 'materials', id: String(temp) } });
		expect(ok.statusCode).toBe(200);
		const created = h.sim.control.listIds('materials').filter((id) => h.sim.control.getItem('materials', id)!.code === 'N8N-NEW-1');
		expect(created).toHaveLength(1);
		expect(await h.t.db.any(`SELECT id, sync_status FROM pricebook_materials WHERE code = 'N8N-NEW-1'`)).toEqual([
			{ id: created[0], sync_status: 'synced' },
		]);
	});

	it('POST resolve-conflict/:id resolves (200), then says already resolved; unknown id → 404; stale → 409; bad body → 400', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const [x, y] = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		for (const id of [x, y]) {
			h.sim.control.updateItem('materials', id, { price: 11 });
			await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
		}
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		const conflictOf = async (id: number) =>
			(await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id as number;
		const cx = await conflictOf(x);

		const bad = await call('pricebook-webhook-resolve-conflict.json', { params: { id: String(cx) }, body: { resolution: 'use_local' } });
		expect(bad).toMatchObject({ statusCode: 400, body: { field: 'resolvedBy' } });
		const invalidMerge = await call('pricebook-webhook-resolve-conflict.json', {
			params: { id: String(cx) },
			body: { resolution: 'merged', resolvedBy: 'ann', mergedData: '{"price": "lots"}' },
		});
		expect(invalidMerge).toMatchObject({ statusCode: 400, body: { field: 'mergedData.price' } });
		const twice = await call('pricebook-webhook-resolve-conflict.json', {
			params: { id: String(cx) },
			body: { resolution: 'merged', resolvedBy: 'ann', mergedData: '{"price": 12, "member_price": 9, "memberPrice": 9}' },
		});
		expect(twice).toMatchObject({ statusCode: 400, body: { field: 'mergedData.member_price' } });
		expect(twice.body.error).toMatch(/"member_price" and as "memberPrice"/);
		const ok = await call('pricebook-webhook-resolve-conflict.json', {
			params: { id: String(cx) },
			body: { resolution: 'use_local', resolvedBy: 'ann@perfectcatch' },
		});
		expect(ok).toMatchObject({ statusCode: 200, body: { result: { status: 'resolved', resolution: 'use_local', resolvedBy: 'ann@perfectcatch' } } });
		expect(h.sim.control.getItem('materials', x)!.price).toBe(12.5);
		const again = await call('pricebook-webhook-resolve-conflict.json', { params: { id: String(cx) }, body: { resolution: 'use_st', resolvedBy: 'bob' } });
		expect(again).toMatchObject({ statusCode: 200, body: { result: { status: 'already_resolved' } } });
		expect(
			await call('pricebook-webhook-resolve-conflict.json', { params: { id: '999999' }, body: { resolution: 'use_st', resolvedBy: 'ann' } }),
		).toMatchObject({ statusCode: 404 });

		const cy = await conflictOf(y);
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', y, { price: 14 });
		const stale = await call('pricebook-webhook-resolve-conflict.json', {
			params: { id: String(cy) },
			body: { resolution: 'use_local', resolvedBy: 'ann' },
		});
		expect(stale).toMatchObject({ statusCode: 409, body: { reason: 'stale' } });
		expect(h.sim.control.getItem('materials', y)!.price).toBe(14);
	});

	it('POST undo/:runId: a dry run lists the fields (200), the undo restores both sides (200), again → 409 naming the undo, unknown run → 404, no name → 400', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const [x] = h.sim.control.listIds('materials');
		const old = h.sim.control.getItem('materials', x)!.displayName;
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', x, { displayName: 'Renamed in ST' });
		const run = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		const params = { runId: String(run.runId) };

		const dry = await call('pricebook-webhook-undo.json', { params, body: { by: 'ann', dryRun: true } });
		expect(dry).toMatchObject({ statusCode: 200, body: { result: { status: 'planned', runId: null, fieldsRestored: 1 } } });
		expect((dry.body.result as IDataObject).items).toEqual([
			{ entityId: x, restore: [{ field: 'display_name', now: 'Renamed in ST', afterUndo: old }], skipped: [] },
		]);
		expect(h.sim.control.getItem('materials', x)!.displayName).toBe('Renamed in ST');

		const ok = await call('pricebook-webhook-undo.json', { params, body: { by: 'ann' } });
		expect(ok).toMatchObject({ statusCode: 200, body: { result: { status: 'succeeded', undoes: run.runId, fieldsRestored: 1 } } });
		expect(h.sim.control.getItem('materials', x)!.displayName).toBe(old);
		const undoRun = (ok.body.result as IDataObject).runId;
		expect(await h.t.db.one('SELECT kind, trigger, details FROM sync_runs WHERE id = $1', [undoRun])).toMatchObject({
			kind: 'undo',
			trigger: 'webhook',
			details: expect.objectContaining({ undoes: run.runId, by: 'ann' }),
		});

		const again = await call('pricebook-webhook-undo.json', { params, body: { by: 'ann' } });
		expect(again).toMatchObject({ statusCode: 409, body: { reason: 'stale', error: expect.stringContaining(`already undone by run ${undoRun}`) } });
		expect(await call('pricebook-webhook-undo.json', { params: { runId: '999999' }, body: { by: 'ann' } })).toMatchObject({ statusCode: 404 });
		expect(await call('pricebook-webhook-undo.json', { params, body: {} })).toMatchObject({ statusCode: 400, body: { field: 'by' } });
		expect(await call('pricebook-webhook-undo.json', { params, body: { by: 'ann', force: true } })).toMatchObject({
			statusCode: 400,
			body: { field: 'force' },
		});
	});

	it('ServiceTitan failing: the webhooks answer 502 with the cause, the runs are recorded failed, and each execution ends failed after answering', async () => {
		await h.engine.run({ kind: 'full', entityType: 'materials' });
		const [x] = h.sim.control.listIds('materials');
		h.sim.control.advanceClock(60_000);
		h.sim.control.updateItem('materials', x, { price: 11 });
		await retoolUpdate(h.t, 'pricebook_materials', x, { price: 12.5 });
		await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		const { id: conflict } = await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [x]);
		// 403 is not retried, so each failure comes back at once.
		h.sim.control.setFaults({ errorRate: 1, errorStatus: 403 });
		for (const [file, request] of [
			['pricebook-webhook-full.json', { body: { entityType: 'materials' } }],
			['pricebook-webhook-incremental.json', { body: { entityType: 'materials' } }],
			['pricebook-webhook-entity.json', { params: { type: 'materials', id: String(x) } }],
			['pricebook-webhook-resolve-conflict.json', { params: { id: String(conflict) }, body: { resolution: 'use_local', resolvedBy: 'ann' } }],
		] as [string, { params?: IDataObject; body?: IDataObject }][]) {
			const { execution } = await hook(file, { headers: withKey, query: {}, params: request.params ?? {}, body: request.body ?? {} });
			// Retool has its answer first; then n8n shows the execution failed, with ServiceTitan's answer.
			expect({ file, answer: execution!.response }).toMatchObject({ file, answer: { statusCode: 502, body: { failureKind: 'st_unavailable' } } });
			expect({ file, status: execution!.run.status, at: execution!.run.data.resultData.lastNodeExecuted }).toEqual({
				file,
				status: 'error',
				at: 'Fail If Answer Failed',
			});
			expect(execution!.error?.message).toMatch(/403/);
		}
		const runs = await h.t.db.any("SELECT kind, status, error FROM sync_runs WHERE entity_type = 'materials' ORDER BY id OFFSET 2");
		expect(runs).toEqual(['full', 'incremental', 'entity'].map((kind) => ({ kind, status: 'failed', error: expect.stringMatching(/403/) })));
		expect(await h.t.db.one("SELECT lease_run_id FROM sync_state WHERE entity_type = 'materials'")).toEqual({ lease_run_id: null });
		expect((await getSyncStatus(h.t.db)).materials).toMatchObject({ lastRunStatus: 'failed', lastRunError: expect.stringMatching(/403/) });
		expect(await h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [conflict])).toEqual({ status: 'open' });
	});

	it('GET status answers 200 with the SyncStatus and the open conflicts', async () => {
		await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
		const status = await call('pricebook-webhook-status.json', {});
		expect(status.statusCode).toBe(200);
		expect(status.body).toMatchObject({ health: 'green', materials: { total: expect.any(Number) }, conflicts: [] });
	});
});

describe('the run ledger records what started each run, as n8n tells the nodes', () => {
	beforeEach(async () => {
		h = await startHarness();
	});

	const triggersSince = async (id: number) =>
		(await h.t.db.any<{ trigger: string }>('SELECT DISTINCT trigger FROM sync_runs WHERE id > $1 ORDER BY trigger', [id])).map((r) => r.trigger);
	const lastRunId = async () => (await h.t.db.one<{ id: number }>('SELECT coalesce(max(id), 0)::int AS id FROM sync_runs')).id;

	it('the schedule (an active workflow), a person in the editor (manual), Retool (a webhook)', async () => {
		let before = await lastRunId();
		// An active workflow's Schedule Trigger: n8n runs it in 'trigger' mode.
		expect((await run('pricebook-incremental-sync.json', schedule)).error).toBeUndefined();
		expect(await triggersSince(before)).toEqual(['schedule']);

		// The same workflow started with "Execute workflow" in the editor: 'manual', not the schedule's label.
		before = await lastRunId();
		const manual = await runWorkflow(wf('pricebook-full-sync.json'), { credentials: credentialsFor(h), trigger: schedule, mode: 'manual' });
		expect(manual.error).toBeUndefined();
		expect(await triggersSince(before)).toEqual(['manual']);

		before = await lastRunId();
		expect((await call('pricebook-webhook-incremental.json', { body: { entityType: 'materials' } })).statusCode).toBe(200);
		expect(await triggersSince(before)).toEqual(['webhook']);
	});
});
