import type { Db } from '../db/connection';
import { listChangeRecords, listRunRecords, type LogRange } from '../db/reports';

export interface LogFilter {
	entityType?: string;
	/** Run status: running, succeeded, failed, busy. */
	status?: string;
	since?: Date;
	until?: Date;
	limit?: number;
}

export interface RunLogRow {
	runId: number;
	kind: string;
	entityType: string | null;
	trigger: string;
	dryRun: boolean;
	status: string;
	startedAt: string;
	finishedAt: string | null;
	durationS: number | null;
	newInST: number;
	deletedInST: number;
	modifiedInSTOnly: number;
	modifiedLocalOnly: number;
	conflicts: number;
	noChange: number;
	itemsSynced: number;
	itemsPushed: number;
	pushesVerified: number;
	pushesNormalized: number;
	pushesIgnored: number;
	conflictsDetected: number;
	errors: number;
	error: string | null;
}

/** The filters both listings share; each listing has its own default limit. */
function range(filter: LogFilter, defaultLimit: number): LogRange {
	return { entityType: filter.entityType ?? null, since: filter.since ?? null, until: filter.until ?? null, limit: filter.limit ?? defaultLimit };
}

export async function listRuns(db: Db, filter: LogFilter = {}): Promise<RunLogRow[]> {
	const rows = await listRunRecords(db, { ...range(filter, 200), status: filter.status ?? null });
	return rows.map((r) => ({
		runId: r.id,
		kind: r.kind,
		entityType: r.entity_type,
		trigger: r.trigger,
		dryRun: r.dry_run,
		status: r.status,
		startedAt: r.started_at.toISOString(),
		finishedAt: r.finished_at?.toISOString() ?? null,
		durationS: r.finished_at ? (r.finished_at.getTime() - r.started_at.getTime()) / 1000 : null,
		newInST: r.counts.newInST ?? 0,
		deletedInST: r.counts.deletedInST ?? 0,
		modifiedInSTOnly: r.counts.modifiedInSTOnly ?? 0,
		modifiedLocalOnly: r.counts.modifiedLocalOnly ?? 0,
		conflicts: r.counts.conflicts ?? 0,
		noChange: r.counts.noChange ?? 0,
		itemsSynced: r.items_synced,
		itemsPushed: r.items_pushed,
		pushesVerified: r.pushes_verified,
		pushesNormalized: r.pushes_normalized,
		pushesIgnored: r.pushes_ignored,
		conflictsDetected: r.conflicts_detected,
		errors: r.errors_count,
		error: r.error,
	}));
}

export interface ChangeLogRow {
	id: number;
	runId: number | null;
	entityType: string;
	entityId: number;
	action: string;
	before: unknown;
	after: unknown;
	/** Pushes: per pushed field, what was sent, what ServiceTitan stored and the outcome. */
	receipt: unknown;
	changedAt: string;
}

export async function listChanges(db: Db, filter: LogFilter & { entityId?: number } = {}): Promise<ChangeLogRow[]> {
	const rows = await listChangeRecords(db, { ...range(filter, 500), entityId: filter.entityId ?? null });
	return rows.map((r) => ({
		id: r.id,
		runId: r.run_id,
		entityType: r.entity_type,
		entityId: r.entity_id,
		action: r.action,
		before: r.before,
		after: r.after,
		receipt: r.receipt,
		changedAt: r.changed_at.toISOString(),
	}));
}

/**
 * A text cell a spreadsheet would run as a formula (it starts with = + - @, or a tab or carriage return before one):
 * error messages carry text from ServiceTitan and vendor feeds, so `=HYPERLINK(...)` there must stay text. Plain
 * numbers (a negative price) are data and stay as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * RFC 4180 CSV: every field quoted when needed, objects as JSON, CRLF line ends (what Excel expects). A text cell
 * that would start a formula gets a leading apostrophe (OWASP's advice against CSV injection), which spreadsheets
 * show as text.
 */
export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
	const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
	const cell = (value: unknown): string => {
		if (value === null || value === undefined) return '';
		const raw = typeof value === 'object' ? JSON.stringify(value) : String(value);
		const text = typeof value === 'string' && FORMULA_START.test(raw) && !PLAIN_NUMBER.test(raw) ? `'${raw}` : raw;
		return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
	};
	return [cols.map(cell).join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
