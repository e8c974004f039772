/// <reference lib="dom" />
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { listRuns } from '../../lib/reporting/logs';
import { getSyncStatus } from '../../lib/reporting/status';
import { launchChromium } from '../support/chromium';
import { runCliCaptured } from '../support/cli';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(90_000);

// Markup as text, and one long word (no place to break it) that must still not widen a phone's page.
const ST_NAME = `<b>ST & "quotes"</b> PartNo${'0123456789'.repeat(10)}`;

let h: SyncHarness;
let browser: Browser;
let dir: string;
let file: string;

beforeAll(async () => {
	h = await startHarness();
	await h.engine.runMany('full', ['categories', 'services', 'materials', 'equipment']);
	const id = h.sim.control.listIds('materials')[2];
	h.sim.control.advanceClock(60_000);
	h.sim.control.updateItem('materials', id, { price: 11, displayName: ST_NAME });
	await retoolUpdate(h.t, 'pricebook_materials', id, { price: 12.5 });
	// An edit ServiceTitan answers for but does not store: held, shown with both values.
	h.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'], entities: ['materials'] } } });
	await retoolUpdate(h.t, 'pricebook_materials', h.sim.control.listIds('materials')[3], { cost: 4.75 });
	await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	browser = await launchChromium();
	dir = mkdtempSync(path.join(tmpdir(), 'status-page-'));
	file = path.join(dir, 'status.html');
	const run = await runCliCaptured(['status', '--html', file], h.env);
	expect(run.code).toBe(0);
});
afterAll(async () => {
	await browser?.close();
	await h?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

it('shows a person the status card, the conflict with its side-by-side diff, and the recent runs', async () => {
	expect(readFileSync(file, 'utf8')).not.toMatch(/<script|https?:\/\//);

	const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
	const requested: string[] = [];
	page.on('request', (r) => requested.push(r.url()));
	await page.goto(`file://${file}`);
	expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1200);

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
	expect(displayName[2]).toBe(ST_NAME);
	expect(await page.locator('.conflict b').count()).toBe(0);
	expect(await conflict.textContent()).toMatch(/pricebook-sync resolve \d+ --resolution/);

	const held = await page.$$eval('#held tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent)));
	expect(held).toEqual([
		[
			expect.stringMatching(/^materials \d+ \(M-/),
			'cost',
			'4.75',
			expect.any(String),
			expect.stringMatching(/ago \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/),
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

/** "2026-03-10 09:00:00 -05:00", as the page shows an instant, back to the instant. */
const instantOf = (shown: string): number => Date.parse(shown.replace(' ', 'T').replace(' ', ''));

it('fits a phone screen, and shows each time as the instant itself, matching the database', async () => {
	const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
	await page.goto(`file://${file}`);

	// No sideways scrolling: the page is no wider than the screen, and every table row fits it as a card.
	expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
	const rowWidths = await page.$$eval('tbody tr', (rows) => rows.map((r) => r.getBoundingClientRect().right));
	expect(rowWidths.length).toBeGreaterThan(10);
	expect(Math.max(...rowWidths)).toBeLessThanOrEqual(375);
	// A stacked cell says which column it is.
	const firstRunCell = await page.$eval('#runs tbody tr td', (td) => getComputedStyle(td, '::before').content);
	expect(firstRunCell).toBe('"run: "');

	// Every <time> is visible and shows the instant its datetime attribute holds, with its UTC offset.
	const times = await page.$$eval('time', (els) =>
		els.map((t) => ({ datetime: t.getAttribute('datetime')!, shown: t.textContent!, visible: t.getBoundingClientRect().width > 0 })),
	);
	expect(times.length).toBeGreaterThan(10);
	for (const t of times) {
		expect(t.shown).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);
		expect(instantOf(t.shown)).toBe(Math.floor(Date.parse(t.datetime) / 1000) * 1000); // shown to the second
		expect(t.visible).toBe(true);
	}

	// ... and those instants are the database's.
	const status = await getSyncStatus(h.t.db);
	expect(await page.getAttribute('#last-synced time', 'datetime')).toBe(status.lastIncrementalSync ?? status.lastFullSync);
	expect(await page.getAttribute('#next-sync time', 'datetime')).toBe(status.nextScheduledSync);
	const generated = Date.parse((await page.getAttribute('#generated time', 'datetime'))!);
	expect(generated).toBeLessThanOrEqual(Date.parse(status.generatedAt));
	expect(generated).toBeGreaterThan(Date.parse(status.generatedAt) - 60_000);
	const shownRuns = await page.$$eval('#runs tbody tr', (rows) =>
		rows.map((r) => [Number(r.querySelector('td')!.textContent), r.querySelector('time')!.getAttribute('datetime')]),
	);
	const runs = await listRuns(h.t.db, { limit: 30 });
	expect(shownRuns).toEqual(runs.map((r) => [r.runId, r.startedAt]));

	await page.screenshot({ path: path.join(dir, 'status-phone.png'), fullPage: true });
	await page.close();
});
