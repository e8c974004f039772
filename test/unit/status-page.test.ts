import { renderStatusPage } from '../../lib/reporting/status-page';
import type { ConflictListItem } from '../../lib/reporting/conflicts';
import type { RunLogRow } from '../../lib/reporting/logs';
import type { EntityStatus, SyncStatus } from '../../lib/reporting/status';

// The page's HTML without a browser: what it says and how it escapes. How it lays out (a phone's width) is
// checked in a real browser by test/integration/status-page.test.ts.

const GENERATED = '2026-03-10T14:00:00.000Z'; // 09:00 in Chicago (CDT, -05:00)
const HOSTILE = `<script>alert("x")</script><b>bold</b> & 'quoted'`;

function entity(overrides: Partial<EntityStatus> = {}): EntityStatus {
	return {
		total: 10,
		synced: 9,
		pending: 1,
		conflicts: 0,
		deleted: 0,
		pushErrors: 0,
		pushesHeld: 0,
		pushes24h: { verified: 3, normalized: 1, ignored: 0 },
		lastFullSync: '2026-03-10T07:02:00.000Z',
		lastIncrementalSync: '2026-03-10T13:55:00.000Z',
		lastSuccess: '2026-03-10T13:55:00.000Z',
		lastRunStatus: 'succeeded',
		lastRunError: null,
		consecutiveFailures: 0,
		...overrides,
	};
}

function status(overrides: Partial<SyncStatus> = {}): SyncStatus {
	return {
		health: 'yellow',
		healthReasons: ['1 conflict waits for a person', HOSTILE],
		lastFullSync: '2026-03-10T07:02:00.000Z',
		lastIncrementalSync: '2026-03-10T13:55:00.000Z',
		nextScheduledSync: '2026-03-10T14:10:00.000Z',
		nextIncrementalSync: '2026-03-10T14:10:00.000Z',
		nextFullSync: '2026-03-11T07:00:00.000Z',
		apiBudget: [],
		changesArriveBy: {
			serviceTitanEdits: '2026-03-10T14:10:00.000Z',
			serviceTitanDeletes: '2026-03-10T14:10:00.000Z',
			retoolEdits: '2026-03-10T14:10:00.000Z',
		},
		categories: entity(),
		services: entity({ lastSuccess: null, lastRunStatus: null }),
		materials: entity({ conflicts: 1, pushesHeld: 1 }),
		equipment: entity(),
		openConflicts: 1,
		pushForbidden: 0,
		heldPushes: [
			{
				entityType: 'materials',
				entityId: 18400002,
				label: HOSTILE,
				fields: ['cost'],
				heldValues: { cost: '4.75' },
				stValues: { cost: '4.50' },
				reason: `ServiceTitan did not apply cost ${HOSTILE}`,
				heldSince: '2026-03-09T14:00:00.000Z',
			},
		],
		recentErrors: [
			{ id: 1, runId: 7, entityType: 'materials', entityId: 18400003, kind: 'push_rejected', message: HOSTILE, occurredAt: '2026-03-10T12:00:00.000Z' },
		],
		generatedAt: GENERATED,
		...overrides,
	};
}

const conflicts: ConflictListItem[] = [
	{
		id: 17,
		entityType: 'materials',
		entityId: 18400001,
		kind: 'both_modified',
		status: 'open',
		label: HOSTILE,
		detectedAt: '2026-03-10T13:59:30.000Z',
		deletedInSt: false,
		diff: [
			{ field: 'price', base: '10.00', st: '11.00', local: '12.50' },
			{ field: 'display_name', base: 'Widget', st: HOSTILE, local: { nested: HOSTILE } },
		],
		suggestedMerge: null,
		resolution: null,
		resolvedBy: null,
		resolvedAt: null,
	},
];

function run(overrides: Partial<RunLogRow> = {}): RunLogRow {
	return {
		runId: 7,
		kind: 'incremental',
		entityType: 'materials',
		trigger: 'schedule',
		dryRun: false,
		status: 'failed',
		startedAt: '2026-03-10T13:55:00.000Z',
		finishedAt: '2026-03-10T13:55:04.000Z',
		durationS: 4,
		newInST: 0,
		deletedInST: 0,
		modifiedInSTOnly: 1,
		modifiedLocalOnly: 1,
		conflicts: 1,
		noChange: 0,
		itemsSynced: 2,
		itemsPushed: 1,
		pushesVerified: 1,
		pushesNormalized: 0,
		pushesIgnored: 0,
		conflictsDetected: 1,
		errors: 1,
		error: HOSTILE,
		...overrides,
	};
}

const runs = [run(), run({ runId: 6, status: 'succeeded', error: null, startedAt: '2026-03-08T02:00:00.000Z', durationS: 61.25 })];

function page(zone = 'America/Chicago'): string {
	return renderStatusPage({ status: status(), conflicts, runs, zone });
}

/** What a person reads: the body's text, tags removed and entities decoded. */
function text(html: string): string {
	const body = html.slice(html.indexOf('<body>'));
	return body
		.replace(/<[^>]+>/g, ' ')
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&quot;/g, '"')
		.replace(/&#39;/g, "'")
		.replace(/&amp;/g, '&')
		.replace(/\s+/g, ' ');
}

/** "2026-03-10 09:00:00 -05:00" back to an instant. */
const instantOf = (shown: string): number => Date.parse(shown.replace(' ', 'T').replace(' ', ''));

describe('the status page', () => {
	it('shows every relative time with the instant itself, in the given time zone, and when the page was made', () => {
		const html = page();
		expect(html).toContain('<p class="meta" id="generated">Generated <time datetime="2026-03-10T14:00:00.000Z">2026-03-10 09:00:00 -05:00</time>');
		expect(html).toContain(
			'<div id="last-synced">Last synced: 5 minutes ago <time datetime="2026-03-10T13:55:00.000Z">2026-03-10 08:55:00 -05:00</time></div>',
		);
		expect(html).toContain(
			'<div id="next-sync">Next sync: in 10 minutes <time datetime="2026-03-10T14:10:00.000Z">2026-03-10 09:10:00 -05:00</time></div>',
		);
		const read = text(html);
		expect(read).toContain('detected 30 seconds ago 2026-03-10 08:59:30 -05:00');
		expect(read).toContain('24 hours ago 2026-03-09 09:00:00 -05:00'); // held since
		expect(read).toContain('3 days ago 2026-03-07 20:00:00 -06:00'); // a run before the change to summer time
		expect(read).toContain('2 hours ago 2026-03-10 07:00:00 -05:00'); // the recent error

		// No relative time stands alone: each is followed by the date, time and offset it stands for.
		const relative = [...read.matchAll(/(\d+ (?:seconds|minutes|hours|days) ago|in \d+ (?:seconds|minutes|hours))(.{0,27})/g)];
		expect(relative.length).toBeGreaterThanOrEqual(10);
		for (const [, phrase, after] of relative) expect(`${phrase}${after}`).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);

		// Each <time> says in its datetime attribute the instant its text shows.
		const times = [...html.matchAll(/<time datetime="([^"]+)">([^<]+)<\/time>/g)];
		expect(times.length).toBe(relative.length + 1); // + the generation time
		for (const [, datetime, shown] of times) expect(instantOf(shown)).toBe(Date.parse(datetime));
	});

	it('writes the times in this machine’s zone unless told another, and refuses an unknown zone', () => {
		const utc = renderStatusPage({ status: status(), conflicts, runs, zone: 'UTC' });
		expect(utc).toContain('Generated <time datetime="2026-03-10T14:00:00.000Z">2026-03-10 14:00:00 +00:00</time>');
		const system = renderStatusPage({ status: status(), conflicts, runs });
		const [, shown] = /id="generated">Generated <time datetime="[^"]+">([^<]+)</.exec(system)!;
		expect(instantOf(shown)).toBe(Date.parse(GENERATED));
		expect(() => page('Mars/Olympus_Mons')).toThrow('unknown time zone "Mars/Olympus_Mons": use an IANA name such as America/Chicago, or "system"');
	});

	it('shows text from ServiceTitan, Retool and error messages as text, never as markup', () => {
		const html = page();
		expect(html).not.toMatch(/<script|<b>|https?:\/\//);
		const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;';
		// label of the conflict and of the held edit, a diff value, JSON in a diff value, the held reason, a run's
		// error, a recent error, a health reason
		expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(7);
		expect(html).toContain('&quot;nested&quot;:&quot;&lt;script&gt;');
		expect(text(html)).toContain(`Conflict 17: materials 18400001 (${HOSTILE})`);
	});

	it('labels every table cell with its heading, so a phone can show each row as a card of "heading: value" lines', () => {
		const html = page();
		const cellsOf = (id: string) => {
			const start = html.indexOf(`<table id="${id}"`);
			return [...html.slice(start, html.indexOf('</table>', start)).matchAll(/<td( data-label="([^"]*)")?[^>]*>/g)];
		};
		const entities = cellsOf('entities');
		expect(entities).toHaveLength(4 * 10);
		expect(entities.slice(0, 10).map((m) => m[2])).toEqual([
			'type',
			'total',
			'synced',
			'pending',
			'conflicts',
			'deleted',
			'held',
			'pushes 24 h: verified / normalized / not applied',
			'last success',
			'last run',
		]);
		expect(cellsOf('runs').every((m) => m[2])).toBe(true);
		expect([...html.matchAll(/<td(?![^>]*data-label)[^>]*>/g)]).toEqual([]);
		expect(html).toContain('@media (max-width:640px)');
		expect(text(html)).toContain('never'); // services never succeeded: no time to show
	});

	it('says when a conflict is a deletion in ServiceTitan rather than a field diff', () => {
		const deleted = renderStatusPage({ status: status(), conflicts: [{ ...conflicts[0], deletedInSt: true, diff: [] }], runs, zone: 'UTC' });
		expect(deleted).toContain('<td colspan="4">deleted in ServiceTitan, edited locally</td>');
	});
});
