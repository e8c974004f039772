/// <reference lib="dom" />
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

let h: SyncHarness;
let browser: Browser;

beforeAll(async () => {
	h = await startHarness();
	await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
	const id = h.sim.control.listIds('materials')[2];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { price: 11, displayName: '<b>ST & "quotes"</b>' });
	await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
	// An edit ServiceTitan answers for but does not store: held, shown with both values.
	h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'], entities: ['materials'] } } });
	await retoolUpdate(h.t, 'pricebook_materials', h.sim.control.listIds('materials')[3], { cost: 4.75 });
	await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	browser = await launchChromium();
});
afterAll(async () => {
	await browser?.close();
	await h?.close();
});

it('shows a person the status card, the conflict with its side-by-side diff, and the recent runs', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'status-page-'));
	const file = path.join(dir, 'status.html');
	const run = await runCliCaptured(['status', '--html', file], h.env);
	expect(run.code).toBe(0);
	expect(readFileSync(file, 'utf8')).not.toMatch(/<script|https?:\/\//);

	const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
	const requested: string[] = [];
	page.on('request', (r) => requested.push(r.url()));
	await page.goto(`file://${file}`);

	expect(await page.textContent('#health')).toBe('yellow');
	expect(await page.textContent('#last-synced')).toMatch(/Last synced: \d+ seconds ago/);
	expect(await page.textContent('#next-sync')).toMatch(/Next sync: in \d+ (seconds|minutes)/);
	expect(await page.textContent('#arrival')).toMatch(
		/ServiceTitan edits and deletes come in, and Retool edits go out, with the next incremental run: in \d+ (seconds|minutes)/,
	);
	const light = await page.$eval('.light', (el) => getComputedStyle(el).backgroundColor);
	expect(light).toBe('rgb(181, 133, 0)');

	const materialsRow = await page.$$eval('#entities tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent)));
	const materials = materialsRow.find((cells) => cells[0] === 'materials')!;
	expect(materials[1]).toBe(String(h.sim.control.listIds('materials', { includeInactive: true }).length));
	expect(materials[4]).toBe('1');

	const conflict = page.locator('.conflict');
	expect(await conflict.count()).toBe(1);
	const diffRows = await conflict
		.locator('table.diff tbody tr')
		.evaluateAll((rows) => rows.map((r) => [r.querySelector('th')?.textContent, ...Array.from(r.querySelectorAll('td')).map((td) => td.textContent)]));
	const price = diffRows.find((r) => r[0] === 'price')!;
	expect(price.slice(2)).toEqual(['11', '12.5']);
	// Text from ServiceTitan is shown as text, never as markup.
	const displayName = diffRows.find((r) => r[0] === 'display_name')!;
	expect(displayName[2]).toBe('<b>ST & "quotes"</b>');
	expect(await page.locator('.conflict b').count()).toBe(0);
	expect(await conflict.textContent()).toMatch(/pricebook-sync resolve \d+ --resolution/);

	const held = await page.$$eval('#held tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent)));
	expect(held).toEqual([
		[
			expect.stringMatching(/^materials \d+ \(M-/),
			'cost',
			'4.75',
			expect.any(String),
			expect.stringMatching(/ago$/),
			expect.stringMatching(/did not apply cost/),
		],
	]);
	expect(await page.textContent('#held')).toMatch(/pricebook-sync retry-push/);
	expect(materials[6]).toBe('1');

	expect(await page.locator('#runs tbody tr').count()).toBeGreaterThanOrEqual(5);
	expect(requested.every((u) => u.startsWith('file://'))).toBe(true);

	const shot = path.join(dir, 'status.png');
	await page.screenshot({ path: shot, fullPage: true });
	expect(statSync(shot).size).toBeGreaterThan(10_000);
	await page.close();
});
