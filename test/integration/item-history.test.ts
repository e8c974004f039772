import { itemHistory } from '../../lib/reporting/item-history';
import { resolveConflict } from '../../lib/sync/resolve';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

/**
 * One material's life: created by the full sync, a Retool edit pushed, a ServiceTitan change pulled, both sides
 * edited into a conflict, the conflict resolved by a person. Its history lists each change in that order with only
 * the changed fields, from the library, the CLI and the Retool view alike.
 */
let h: SyncHarness;
let id: number;
let original: { price: number; description: string };

beforeAll(async () => {
	h = await startHarness();
	for (const r of await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment'])) expect(r.success).toBe(true);
	id = h.sim.control.listIds('materials')[4];
	const st = h.sim.control.getItem('materials', id)!;
	original = { price: st.price as number, description: st.description as string };
	const run = async () => expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);

	await retoolUpdate(h.t, 'pricebook_materials', id, { price: 101.5 });
	await run();
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { description: 'Changed in ServiceTitan' });
	await run();
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { cost: 44 });
	await retoolUpdate(h.t, 'pricebook_materials', id, { cost: 45 });
	await run();
	const { id: conflictId } = await h.t.db.one("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id]);
	const resolved = await resolveConflict(
		{ db: h.t.db, st: h.client, lockWaitMs: 2000 },
		{ conflictId, resolution: 'use_st', resolvedBy: 'ann@perfectcatch' },
	);
	expect(resolved.status).toBe('resolved');
});
afterAll(async () => h?.close());

describe('history of one item', () => {
	it('lists each change in order, with run, who and only the changed fields before and after', async () => {
		const history = await itemHistory(h.t.db, 'materials', id);
		expect(history).toMatchObject({ entityType: 'materials', entityId: id, temporaryId: null });
		expect(history.entries.map((e) => e.action)).toEqual(['created', 'pushed', 'updated_from_st', 'conflict', 'resolved_use_st']);
		const [created, pushed, pulled, conflict, resolution] = history.entries;

		expect(created).toMatchObject({ runKind: 'full', changedBy: null });
		// Canonical values: money as decimal text, exactly as stored.
		expect(created.fields.price).toEqual({ before: null, after: String(original.price) });

		expect(pushed).toMatchObject({ runKind: 'incremental' });
		expect(pushed.fields).toEqual({ price: { before: String(original.price), after: '101.5' } });

		expect(pulled.fields).toEqual({ description: { before: original.description, after: 'Changed in ServiceTitan' } });

		expect(conflict.fields.kind).toEqual({ before: null, after: 'modified' });

		// The row held the local side (cost 45); ServiceTitan's 44 won.
		expect(resolution).toMatchObject({ runKind: 'resolution', changedBy: 'ann@perfectcatch' });
		expect(resolution.fields).toEqual({ cost: { before: '45', after: '44' } });

		for (let i = 1; i < history.entries.length; i++) expect(history.entries[i].changedAt >= history.entries[i - 1].changedAt).toBe(true);
		expect(new Set(history.entries.map((e) => e.runId)).size).toBe(history.entries.length);
	});

	it('the Retool view returns the same rows, with the columns docs/database.md lists', async () => {
		const columns = await h.t.db.any(
			"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'pricebook_item_history' ORDER BY ordinal_position",
		);
		expect(columns.map((c) => c.column_name)).toEqual(
			'change_id, entity_type, entity_id, changed_at, action, run_id, run_kind, run_trigger, changed_by, temporary_id, fields'.split(', '),
		);
		const history = await itemHistory(h.t.db, 'materials', id);
		const rows = await h.t.db.any(
			"SELECT change_id, action, run_id, run_kind, changed_by, fields FROM pricebook_item_history WHERE entity_type = 'materials' AND entity_id = $1 ORDER BY changed_at, change_id",
			[id],
		);
		expect(
			rows.map((r) => ({
				changeId: Number(r.change_id),
				action: r.action,
				runId: Number(r.run_id),
				runKind: r.run_kind,
				changedBy: r.changed_by,
				fields: r.fields,
			})),
		).toEqual(
			history.entries.map((e) => ({
				changeId: e.changeId,
				action: e.action,
				runId: e.runId,
				runKind: e.runKind,
				changedBy: e.changedBy,
				fields: e.fields,
			})),
		);
	});

	it('prints it for people (control characters escaped) and as JSON', async () => {
		const text = await runCliCaptured(['history', 'materials', String(id)], h.env);
		expect(text).toMatchObject({ code: 0, stderr: '' });
		expect(text.stdout).toMatch(/resolved_use_st by ann@perfectcatch, run \d+ \(resolution, cli\)/);
		expect(text.stdout).toContain('  cost: "45" -> "44"');
		expect(text.stdout).toContain('  description: "');

		await retoolUpdate(h.t, 'pricebook_materials', id, { description: 'Evil \u001b]0;pwned\u0007 text' });
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);
		const escaped = await runCliCaptured(['history', 'materials', String(id)], h.env);
		expect(escaped.stdout).not.toMatch(/[\u001b\u0007]/);
		expect(escaped.stdout).toContain('\\u001b');

		const json = await runCliCaptured(['history', 'materials', String(id), '--json'], h.env);
		const parsed = JSON.parse(json.stdout);
		expect(parsed).toMatchObject({ entityType: 'materials', entityId: id, retentionDays: 90 });
		expect(parsed.entries.at(-1).fields.description.after).toBe('Evil \u001b]0;pwned\u0007 text');
	});

	it('of a Retool insert shows its temporary id becoming ServiceTitan id, asked for by either', async () => {
		const temp = Number(
			(await h.t.db.one("INSERT INTO pricebook_materials (code, description, price) VALUES ('HIST-NEW', 'Made in Retool', 19.99) RETURNING id")).id,
		);
		expect(temp).toBeLessThan(0);
		expect((await h.engine.run({ kind: 'incremental', entityType: 'materials' })).success).toBe(true);
		const { id: stId } = await h.t.db.one("SELECT id FROM pricebook_materials WHERE code = 'HIST-NEW'");
		const byStId = await itemHistory(h.t.db, 'materials', Number(stId));
		expect(byStId).toMatchObject({ entityId: Number(stId), temporaryId: temp });
		expect(byStId.entries[0].action).toBe('created_in_st');
		expect(byStId.entries[0].fields.id).toEqual({ before: temp, after: Number(stId) });
		expect(byStId.entries[0].fields.description).toEqual({ before: null, after: 'Made in Retool' });
		expect(await itemHistory(h.t.db, 'materials', temp)).toEqual(byStId);
		const text = await runCliCaptured(['history', 'materials', String(temp)], h.env);
		expect(text.stdout).toContain(`materials ${stId} (created in Retool as ${temp})`);
	});

	it('says so for an item with no recorded change, and refuses a bad id', async () => {
		const text = await runCliCaptured(['history', 'materials', '999999999'], h.env);
		expect(text).toMatchObject({ code: 0 });
		expect(text.stdout).toMatch(/no changes recorded in the last 90 days/);
		const bad = await runCliCaptured(['history', 'materials', 'x1'], h.env);
		expect(bad.code).toBe(2);
	});
});
