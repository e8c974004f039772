import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(60_000);

/** Sets the window title, clears the screen, then a one-byte CSI (C1) and a right-to-left override. */
const HOSTILE = 'Pipe \u001b]0;owned\u0007\u001b[2Jcutter \u009b31m red \u202eevil';

let h: SyncHarness;
let item: number;
beforeAll(async () => {
	h = await startHarness();
	for (const r of await h.engine.runMany('full', ['categories', 'materials'])) expect(r.success).toBe(true);
	item = h.sim.control.listIds('materials')[0];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', item, { description: HOSTILE });
	await retoolUpdate(h.t, 'pricebook_materials', item, { description: 'edited in Retool' });
	expect(await h.engine.run({ kind: 'full', entityType: 'materials' })).toMatchObject({ success: true, conflictsDetected: 1 });
});
afterAll(async () => h?.close());

describe('text from ServiceTitan in the command line output', () => {
	it('reaches the terminal with its control characters shown, not obeyed', async () => {
		const text = await runCliCaptured(['conflicts', '--entity', 'materials'], h.env);
		expect(text.code).toBe(0);
		expect(text.stdout).toContain('Pipe \\u001b]0;owned\\u0007\\u001b[2Jcutter \\u009b31m red \\u202eevil');
		expect(text.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
	});

	it('stays exact in --json, which is data', async () => {
		const json = await runCliCaptured(['conflicts', '--entity', 'materials', '--json'], h.env);
		expect(json.code).toBe(0);
		expect(JSON.stringify(JSON.parse(json.stdout))).toContain(JSON.stringify(HOSTILE).slice(1, -1));
	});
});
