import type { ConflictListItem } from './conflicts';
import type { RunLogRow } from './logs';
import type { SyncStatus } from './status';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value: unknown): string => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
const show = (value: unknown): string => (value === null || value === undefined ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value));

export function ago(iso: string | null, now: Date): string {
	if (!iso) return 'never';
	const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
	if (s < 0) return `in ${until(iso, now)}`;
	if (s < 90) return `${s} seconds ago`;
	if (s < 5400) return `${Math.round(s / 60)} minutes ago`;
	if (s < 172800) return `${Math.round(s / 3600)} hours ago`;
	return `${Math.round(s / 86400)} days ago`;
}

function until(iso: string, now: Date): string {
	const s = Math.max(0, Math.round((Date.parse(iso) - now.getTime()) / 1000));
	if (s < 90) return `${s} seconds`;
	if (s < 5400) return `${Math.round(s / 60)} minutes`;
	return `${Math.round(s / 3600)} hours`;
}

const TYPES = ['categories', 'services', 'materials', 'equipment'] as const;

/**
 * The status page: one self-contained HTML document (inline CSS, no script, no external asset), so it can be
 * written to a file, mailed, or served as is. Every value is HTML-escaped.
 */
export function renderStatusPage(input: { status: SyncStatus; conflicts: ConflictListItem[]; runs: RunLogRow[]; now?: Date }): string {
	const { status, conflicts, runs } = input;
	const now = input.now ?? new Date(status.generatedAt);
	const colour = { green: '#1a7f37', yellow: '#b58500', red: '#cf222e' }[status.health];
	const entityRows = TYPES.map((t) => {
		const e = status[t];
		return `<tr><td>${esc(t)}</td><td>${e.total}</td><td>${e.synced}</td><td>${e.pending}</td><td>${e.conflicts}</td><td>${e.deleted}</td><td>${e.pushesHeld}</td><td>${e.pushes24h.verified} / ${e.pushes24h.normalized} / ${e.pushes24h.ignored}</td><td>${esc(ago(e.lastSuccess, now))}</td><td>${esc(e.lastRunStatus ?? '—')}</td></tr>`;
	}).join('\n');
	const conflictRows = conflicts.length
		? conflicts
				.map((c) => {
					const diff = c.deletedInSt
						? '<tr><td colspan="4">deleted in ServiceTitan, edited locally</td></tr>'
						: c.diff
								.map(
									(d) =>
										`<tr><th>${esc(d.field)}</th><td>${esc(show(d.base))}</td><td class="st">${esc(show(d.st))}</td><td class="local">${esc(show(d.local))}</td></tr>`,
								)
								.join('');
					return `<section class="conflict" data-conflict-id="${c.id}">
<h3>Conflict ${c.id}: ${esc(c.entityType)} ${c.entityId}${c.label ? ` (${esc(c.label)})` : ''}</h3>
<p class="meta">detected ${esc(ago(c.detectedAt, now))} · ${esc(c.kind)}</p>
<table class="diff"><thead><tr><th>field</th><th>last synced</th><th>ServiceTitan</th><th>local (Retool)</th></tr></thead><tbody>${diff}</tbody></table>
<p class="how">Resolve: <code>pricebook-sync resolve ${c.id} --resolution use_st|use_local|merged --by &lt;you&gt;</code></p>
</section>`;
				})
				.join('\n')
		: '<p class="none">No open conflicts.</p>';
	const held = status.heldPushes;
	const heldRows = held.length
		? `<table><thead><tr><th>item</th><th>field</th><th>local (held)</th><th>ServiceTitan</th><th>since</th><th>reason</th></tr></thead><tbody>${held
				.flatMap((h) =>
					h.fields.map(
						(f) =>
							`<tr><td>${esc(h.entityType)} ${h.entityId}${h.label ? ` (${esc(h.label)})` : ''}</td><td>${esc(f)}</td><td class="local">${esc(show(h.heldValues[f]))}</td><td class="st">${esc(show(h.stValues[f]))}</td><td>${esc(ago(h.heldSince, now))}</td><td>${esc(h.reason ?? '')}</td></tr>`,
					),
				)
				.join('')}</tbody></table>
<p class="how">Fix the cause in ServiceTitan (or edit the row in Retool), then: <code>pricebook-sync retry-push &lt;entity&gt; &lt;id&gt;... --by &lt;you&gt;</code></p>`
		: '<p class="none">None: ServiceTitan took every pushed value.</p>';
	const runRows = runs
		.map(
			(r) =>
				`<tr class="run-${esc(r.status)}"><td>${r.runId}</td><td>${esc(r.entityType ?? '—')}</td><td>${esc(r.kind)}</td><td>${esc(r.status)}</td><td>${esc(ago(r.startedAt, now))}</td><td>${r.durationS === null ? '—' : r.durationS.toFixed(1) + ' s'}</td><td>${r.itemsSynced}</td><td>${r.itemsPushed}${r.pushesNormalized + r.pushesIgnored > 0 ? ` (${r.pushesNormalized} normalized, ${r.pushesIgnored} not applied)` : ''}</td><td>${r.conflictsDetected}</td><td>${r.errors}</td><td>${esc(r.error ?? '')}</td></tr>`,
		)
		.join('\n');
	const errors = status.recentErrors
		.slice(0, 10)
		.map((e) => `<li>${esc(ago(e.occurredAt, now))}: ${esc(e.entityType ?? '')} ${esc(e.entityId ?? '')} ${esc(e.kind)}: ${esc(e.message)}</li>`)
		.join('');
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pricebook sync status</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 16px}h2{font-size:16px;margin:28px 0 8px}h3{font-size:14px;margin:0 0 4px}
.card{display:flex;gap:16px;align-items:center;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px}
.light{width:28px;height:28px;border-radius:50%;background:${colour};flex:none}
.card .state{font-weight:600;font-size:16px;text-transform:uppercase;color:${colour}}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#eaeef2}.conflict{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px;margin:8px 0}
.diff td.st{background:#ddf4ff}.diff td.local{background:#fff8c5}.meta,.how{color:#57606a;margin:4px 0}
.run-failed td{background:#ffebe9}.none{color:#57606a}code{font-size:12px}
</style></head>
<body>
<h1>Pricebook sync: ServiceTitan ⇄ PostgreSQL</h1>
<div class="card" id="status-card"><div class="light" title="${esc(status.health)}"></div><div>
<div class="state" id="health">${esc(status.health)}</div>
<div id="last-synced">Last synced: ${esc(ago(status.lastIncrementalSync ?? status.lastFullSync, now))}</div>
<div id="next-sync">Next sync: in ${esc(until(status.nextScheduledSync, now))}</div>
<div id="arrival">ServiceTitan edits and deletes come in, and Retool edits go out, with the next incremental run: in ${esc(until(status.changesArriveBy.serviceTitanEdits, now))}</div>
<div id="health-reasons">${status.healthReasons.map(esc).join('; ')}</div>
</div></div>
<h2>Items</h2>
<table id="entities"><thead><tr><th>type</th><th>total</th><th>synced</th><th>pending</th><th>conflicts</th><th>deleted</th><th>held</th><th>pushes 24 h: verified / normalized / not applied</th><th>last success</th><th>last run</th></tr></thead>
<tbody>${entityRows}</tbody></table>
<h2>Open conflicts (${conflicts.length})</h2>
<div id="conflicts">${conflictRows}</div>
<h2>Held edits (${held.length}${held.length === 20 ? '+' : ''})</h2>
<div id="held">${heldRows}</div>
<h2>Recent runs</h2>
<table id="runs"><thead><tr><th>run</th><th>type</th><th>kind</th><th>status</th><th>started</th><th>took</th><th>synced</th><th>pushed</th><th>conflicts</th><th>errors</th><th>error</th></tr></thead>
<tbody>${runRows}</tbody></table>
<h2>Recent errors</h2>
<ul id="errors">${errors || '<li class="none">none</li>'}</ul>
<p class="meta">Generated ${esc(status.generatedAt)}</p>
</body></html>
`;
}
