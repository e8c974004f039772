import { describeBudgetUse } from './budget-use';
import type { ConflictListItem } from './conflicts';
import type { RunLogRow } from './logs';
import type { SyncStatus } from './status';
import { absolute, ago, checkZone, until } from './when';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value: unknown): string => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
const show = (value: unknown): string => (value === null || value === undefined ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value));

const TYPES = ['categories', 'services', 'materials', 'equipment'] as const;

/** One table cell; `label` is its column's heading, shown beside the value when a narrow screen stacks the rows. */
interface Cell {
	label: string;
	html: string;
	className?: string;
}

const td = (c: Cell): string => `<td data-label="${esc(c.label)}"${c.className ? ` class="${c.className}"` : ''}>${c.html}</td>`;

function table(id: string | null, className: string, headings: string[], rows: string[]): string {
	return `<table${id ? ` id="${id}"` : ''} class="${className}"><thead><tr>${headings.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

/** Rows of cells under the given headings, in order. */
const cells = (headings: string[], values: Array<string | { html: string; className: string }>): string =>
	values.map((v, i) => td(typeof v === 'string' ? { label: headings[i], html: v } : { label: headings[i], ...v })).join('');

// Phones: a table's rows become cards of "heading: value" lines (empty ones left out), so no page is wider than
// the screen. Free text (values, labels, reasons, errors, commands) may break anywhere, so one long word never
// pushes a page sideways; other cells only break a word that cannot fit, or wide-screen columns would shrink to
// split short words.
const STYLE = (colour: string) => `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:16px;margin:28px 0 8px}h3{font-size:14px;margin:0 0 4px}
.card{display:flex;gap:16px;align-items:center;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin-top:12px}
.light{width:28px;height:28px;border-radius:50%;background:${colour};flex:none}
.card .state{font-weight:600;font-size:16px;text-transform:uppercase;color:${colour}}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
td,th{overflow-wrap:break-word}.diff td,td.text,li,.card,.how{overflow-wrap:anywhere}code{font-size:12px;white-space:pre-wrap}
thead th{background:#eaeef2}.conflict{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px;margin:8px 0}
.diff td.st{background:#ddf4ff}.diff td.local{background:#fff8c5}.meta,.how{color:#57606a;margin:4px 0}
time{color:#57606a;white-space:nowrap}td time{display:block;font-size:12px}
.run-failed td{background:#ffebe9}.none{color:#57606a}
@media (max-width:640px){
body{margin:12px}
table,tbody,tr,td,tbody th{display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tr{border:1px solid #d0d7de;border-radius:6px;margin:0 0 8px;background:#fff}td,tbody th{border:0;border-top:1px solid #eaeef2}
tbody th{border-top:0}tr td:first-child{border-top:0}
td[data-label]::before{content:attr(data-label) ": ";color:#57606a}
td time{display:inline;margin-left:4px}td:empty{display:none}
}`;

export interface StatusPageInput {
	status: SyncStatus;
	conflicts: ConflictListItem[];
	runs: RunLogRow[];
	/** The moment relative times count from (default: when the status was generated). */
	now?: Date;
	/** Time zone of the absolute times: an IANA name, or 'system' (default) for this machine's. */
	zone?: string;
}

/**
 * The status page: one self-contained HTML document (inline CSS, no script, no external asset), so it can be
 * written to a file, mailed, or served as is. Every value is HTML-escaped. Every relative time ("5 minutes
 * ago") comes with the instant itself in a <time> element, and the page says when it was made, so a copy read
 * later stays true.
 */
export function renderStatusPage(input: StatusPageInput): string {
	const { status, conflicts, runs } = input;
	const zone = input.zone ?? 'system';
	checkZone(zone);
	const now = input.now ?? new Date(status.generatedAt);
	const stamp = (iso: string): string => `<time datetime="${esc(new Date(iso).toISOString())}">${esc(absolute(iso, zone))}</time>`;
	const since = (iso: string | null): string => (iso ? `${esc(ago(iso, now))} ${stamp(iso)}` : 'never');
	const ahead = (iso: string): string => `in ${esc(until(iso, now))} ${stamp(iso)}`;
	const colour = { green: '#1a7f37', yellow: '#b58500', red: '#cf222e' }[status.health];

	const entityHeadings = [
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
	];
	const entityRows = TYPES.map((t) => {
		const e = status[t];
		return `<tr>${cells(entityHeadings, [
			esc(t),
			String(e.total),
			String(e.synced),
			String(e.pending),
			String(e.conflicts),
			String(e.deleted),
			String(e.pushesHeld),
			`${e.pushes24h.verified} / ${e.pushes24h.normalized} / ${e.pushes24h.ignored}`,
			since(e.lastSuccess),
			esc(e.lastRunStatus ?? '—'),
		])}</tr>`;
	});

	const diffHeadings = ['last synced', 'ServiceTitan', 'local (Retool)'];
	const conflictRows = conflicts.length
		? conflicts
				.map((c) => {
					const diff = c.deletedInSt
						? ['<tr><td colspan="4">deleted in ServiceTitan, edited locally</td></tr>']
						: c.diff.map(
								(d) =>
									`<tr><th>${esc(d.field)}</th>${cells(diffHeadings, [
										esc(show(d.base)),
										{ html: esc(show(d.st)), className: 'st' },
										{ html: esc(show(d.local)), className: 'local' },
									])}</tr>`,
							);
					return `<section class="conflict" data-conflict-id="${c.id}">
<h3>Conflict ${c.id}: ${esc(c.entityType)} ${c.entityId}${c.label ? ` (${esc(c.label)})` : ''}</h3>
<p class="meta">detected ${since(c.detectedAt)} · ${esc(c.kind)}</p>
${table(null, 'diff', ['field', ...diffHeadings], diff)}
<p class="how">Resolve: <code>pricebook-sync resolve ${c.id} --resolution use_st|use_local|merged --by &lt;you&gt;</code></p>
</section>`;
				})
				.join('\n')
		: '<p class="none">No open conflicts.</p>';

	const held = status.heldPushes;
	const heldHeadings = ['item', 'field', 'local (held)', 'ServiceTitan', 'since', 'reason'];
	const heldRows = held.length
		? `${table(
				null,
				'held',
				heldHeadings,
				held.flatMap((h) =>
					h.fields.map(
						(f) =>
							`<tr>${cells(heldHeadings, [
								{ html: `${esc(h.entityType)} ${h.entityId}${h.label ? ` (${esc(h.label)})` : ''}`, className: 'text' },
								esc(f),
								{ html: esc(show(h.heldValues[f])), className: 'local text' },
								{ html: esc(show(h.stValues[f])), className: 'st text' },
								since(h.heldSince),
								{ html: esc(h.reason ?? ''), className: 'text' },
							])}</tr>`,
					),
				),
			)}
<p class="how">Fix the cause in ServiceTitan (or edit the row in Retool), then: <code>pricebook-sync retry-push &lt;entity&gt; &lt;id&gt;... --by &lt;you&gt;</code></p>`
		: '<p class="none">None: ServiceTitan took every pushed value.</p>';

	const runHeadings = ['run', 'type', 'kind', 'status', 'started', 'took', 'synced', 'pushed', 'conflicts', 'errors', 'error'];
	const runRows = runs.map(
		(r) =>
			`<tr class="run-${esc(r.status)}">${cells(runHeadings, [
				String(r.runId),
				esc(r.entityType ?? '—'),
				esc(r.kind),
				esc(r.status),
				since(r.startedAt),
				r.durationS === null ? '—' : r.durationS.toFixed(1) + ' s',
				String(r.itemsSynced),
				`${r.itemsPushed}${r.pushesNormalized + r.pushesIgnored > 0 ? ` (${r.pushesNormalized} normalized, ${r.pushesIgnored} not applied)` : ''}`,
				String(r.conflictsDetected),
				String(r.errors),
				{ html: esc(r.error ?? ''), className: 'text' },
			])}</tr>`,
	);

	const errors = status.recentErrors
		.slice(0, 10)
		.map((e) => `<li>${since(e.occurredAt)}: ${esc(e.entityType ?? '')} ${esc(e.entityId ?? '')} ${esc(e.kind)}: ${esc(e.message)}</li>`)
		.join('');

	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pricebook sync status</title>
<style>${STYLE(colour)}
</style></head>
<body>
<h1>Pricebook sync: ServiceTitan ⇄ PostgreSQL</h1>
<p class="meta" id="generated">Generated ${stamp(status.generatedAt)}; "ago" and "in" below count from then.</p>
<div class="card" id="status-card"><div class="light" title="${esc(status.health)}"></div><div>
<div class="state" id="health">${esc(status.health)}</div>
<div id="last-synced">Last synced: ${since(status.lastIncrementalSync ?? status.lastFullSync)}</div>
<div id="next-sync">Next sync: ${ahead(status.nextScheduledSync)}</div>
<div id="arrival">ServiceTitan edits and deletes come in, and Retool edits go out, with the next incremental run: ${ahead(status.changesArriveBy.serviceTitanEdits)}</div>
<div id="health-reasons">${status.healthReasons.map(esc).join('; ')}</div>
${status.apiBudget.map((b) => `<div class="budget">ServiceTitan request budget, ${esc(describeBudgetUse(b))}</div>`).join('\n')}
</div></div>
<h2>Items</h2>
${table('entities', 'entities', entityHeadings, entityRows)}
<h2>Open conflicts (${conflicts.length})</h2>
<div id="conflicts">${conflictRows}</div>
<h2>Held edits (${held.length}${held.length === 20 ? '+' : ''})</h2>
<div id="held">${heldRows}</div>
<h2>Recent runs</h2>
${table('runs', 'runs', runHeadings, runRows)}
<h2>Recent errors</h2>
<ul id="errors">${errors || '<li class="none">none</li>'}</ul>
</body></html>
`;
}
