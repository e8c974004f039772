import fc from 'fast-check';
import { ENTITY_TYPES } from '../../lib/servicetitan/types';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';
import { figures } from './hostile/figures';
import { closeHarness, hostileInputFile, openConflict, RUNS, SEED } from './hostile/harness';
import { HOSTILE } from './hostile/text';
import { callWebhook, workflow } from './hostile/webhook';

/**
 * Round trips: hostile text is data, and data travels unchanged. ServiceTitan text full of SQL, quotes, emoji
 * and long descriptions must reach PostgreSQL unchanged, and Retool's edits of it must reach ServiceTitan
 * unchanged, by sync runs and by a merged conflict resolution through the webhook.
 */
hostileInputFile('round-trips');

/** 4,000 code points (never half an emoji) of quotes, SQL, emoji and backslashes. */
const LONG_DESCRIPTION = Array.from('Pool pump 🐟 \'single\' "double" \\ back; DROP TABLE pricebook_materials; -- é\u0301 שלום '.repeat(120))
	.slice(0, 4000)
	.join('');

const NAMED_TEXTS = [
	"'; DROP TABLE pricebook_materials; --",
	'O\'Brien "quoted" \\ backslash',
	'🐟🎣 Fishing pole 🎣🐟',
	'Cafe\u0301 cre\u0300me bru\u0302le\u0301e (combining marks)',
	'\u202Eright-to-left override\u202C, עברית and العربية',
	'Tab\there, new\nline, carriage\r\nreturn',
	'%s %d {0} ${x} {{ $json.code }} $1 :name',
	'<b>bold</b> &amp; <script>alert(1)</script>',
	'\\x00 \\u0000 literal escapes, not characters',
	'Zero\u200Bwidth and\uFEFFBOM inside',
	'   leading and trailing spaces   ',
	'𝕞𝕒𝕥𝕖𝕣𝕚𝕒𝕝 👩‍👩‍👧‍👦 family',
	"Robert'); DROP TABLE sync_runs;--",
	"1' OR '1'='1'; --",
	"\"; COPY pricebook_materials TO PROGRAM 'rm -rf /'; --",
	'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǵ̹ͧo̯̺̔',
	LONG_DESCRIPTION,
];

/** Any text PostgreSQL can hold (no NUL; fast-check never makes half surrogates) that ServiceTitan takes as a description (not blank). */
const roundTripText = fc
	.oneof(
		fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
		fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter((s) => !s.includes('\u0000')),
		fc.tuple(fc.constantFrom(...HOSTILE), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom(...HOSTILE)).map(([a, b, c]) => a + b + c),
	)
	.map((s) => (s.trim() === '' ? `${s}·` : s));

interface Mismatch {
	id: number;
	field: string;
	expected: string;
	actual: unknown;
}

describe('ServiceTitan text with SQL, quotes, emoji and long descriptions travels both ways unchanged', () => {
	let h: SyncHarness;
	const texts = [...NAMED_TEXTS, ...fc.sample(roundTripText, { seed: SEED, numRuns: RUNS.roundTripGenerated })];

	beforeAll(async () => {
		h = await startHarness();
	});
	afterAll(() => closeHarness(h));

	/** Compares text fields of a record with what was written, counting each value that arrived unchanged. */
	function compare(id: number, record: Record<string, unknown>, expected: Record<string, string>, out: Mismatch[]): void {
		for (const [field, value] of Object.entries(expected)) {
			if (record[field] === value) figures.roundTrips += 1;
			else out.push({ id, field, expected: value, actual: record[field] });
		}
	}

	async function localRows(table: string, ids: number[]): Promise<Map<number, Record<string, unknown>>> {
		const rows = await h.t.db.any('SELECT * FROM $1:name WHERE id IN ($2:csv)', [table, ids]);
		return new Map(rows.map((r) => [Number(r.id), r]));
	}

	async function quietRun(): Promise<void> {
		const again = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		// Exactly equal text is no change: nothing comes back in and nothing goes out again.
		expect(again).toMatchObject({ success: true, itemsSynced: 0, itemsPushed: 0, conflictsDetected: 0, errors: 0 });
	}

	it('ST → local by a full sync, then a Retool edit → ST by an incremental push, every character kept', async () => {
		const ids = h.sim.control.listIds('materials').slice(0, texts.length);
		expect(ids).toHaveLength(texts.length);
		const fromSt = new Map<number, Record<string, string>>();
		ids.forEach((id, i) => {
			const values = { displayName: texts[i], description: texts[(i + 1) % texts.length], ...(i < 8 ? { code: texts[(i + 5) % texts.length] } : {}) };
			h.sim.control.updateItem('materials', id, values);
			fromSt.set(id, values);
		});
		const categoryIds = h.sim.control.listIds('categories').slice(0, 4);
		categoryIds.forEach((id, i) => h.sim.control.updateItem('categories', id, { name: texts[i + 10], description: texts[i] }));

		const results = await h.engine.runMany('full', [...ENTITY_TYPES]);
		expect(results.map((r) => ({ type: r.entityType, status: r.status, errors: r.errors })).sort((a, b) => a.type.localeCompare(b.type))).toEqual(
			[...ENTITY_TYPES].sort().map((type) => ({ type, status: 'succeeded', errors: 0 })),
		);

		const mismatches: Mismatch[] = [];
		const rows = await localRows('pricebook_materials', ids);
		for (const [id, values] of fromSt) {
			const row = rows.get(id) ?? {};
			compare(id, { displayName: row.display_name, description: row.description, code: row.code }, values, mismatches);
		}
		const categories = await localRows('pricebook_categories', categoryIds);
		categoryIds.forEach((id, i) => compare(id, categories.get(id) ?? {}, { name: texts[i + 10], description: texts[i] }, mismatches));
		expect(mismatches).toEqual([]);
		await quietRun();

		// Retool writes other hostile texts into the same rows; the push must hand ServiceTitan exactly those.
		const fromLocal = new Map<number, Record<string, string>>();
		for (const [i, id] of ids.entries()) {
			const values = { displayName: texts[(i + 2) % texts.length], description: texts[(i + 3) % texts.length] };
			await retoolUpdate(h.t, 'pricebook_materials', id, { display_name: values.displayName, description: values.description });
			fromLocal.set(id, values);
		}
		const push = await h.engine.run({ kind: 'incremental', entityType: 'materials' });
		expect(push).toMatchObject({ success: true, errors: 0, conflictsDetected: 0 });
		expect(push.itemsPushed).toBeGreaterThan(ids.length / 2);
		const after = await localRows('pricebook_materials', ids);
		for (const [id, values] of fromLocal) {
			compare(id, h.sim.control.getItem('materials', id) ?? {}, values, mismatches);
			const row = after.get(id) ?? {};
			// The echo of our own push must not rewrite the local row either.
			compare(id, { displayName: row.display_name, description: row.description }, values, mismatches);
			if (row.sync_status !== 'synced') mismatches.push({ id, field: 'sync_status', expected: 'synced', actual: row.sync_status });
		}
		expect(mismatches).toEqual([]);
		await quietRun();
	});

	it('a merged resolution with hostile text: resolvedBy stored verbatim, the chosen text reaches ServiceTitan verbatim', async () => {
		const id = h.sim.control.listIds('materials')[texts.length];
		const conflictId = await openConflict(h, id);
		const resolvedBy = "Robert'); DROP TABLE sync_conflicts;-- 🐟 O'Brien";
		const displayName = 'Merged: "quoted" \\ \'; DELETE FROM pricebook_materials; -- 🎣 e\u0301';
		const answer = await callWebhook(h, workflow.resolve, {
			params: { id: String(conflictId) },
			body: { resolution: 'merged', resolvedBy, mergedData: JSON.stringify({ price: 320, display_name: displayName }) },
		});
		expect(answer).toMatchObject({ statusCode: 200, body: { result: { status: 'resolved', resolution: 'merged', resolvedBy } } });
		expect(await h.t.db.one('SELECT status, resolved_by FROM sync_conflicts WHERE id = $1', [conflictId])).toEqual({
			status: 'resolved',
			resolved_by: resolvedBy,
		});
		expect(await h.t.db.one('SELECT display_name, price FROM pricebook_materials WHERE id = $1', [id])).toEqual({
			display_name: displayName,
			price: '320',
		});
		expect(h.sim.control.getItem('materials', id)).toMatchObject({ displayName, price: 320 });
		figures.roundTrips += 2;
	});
});
