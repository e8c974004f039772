import { writeFileSync } from 'node:fs';
import {
	choiceOf,
	describeBudgetUse,
	entityTypeOf,
	getSyncStatus,
	isoTimeOf,
	listHeldPushes,
	listChanges,
	listConflicts,
	listRuns,
	renderStatusPage,
	toCsv,
	wholeNumberOf,
	type Db,
	type HeldPush,
} from '../../lib';
import { withResources } from '../resources';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args';
import { ExitCode, type CliContext, type ExitCodeValue } from '../context';

function withDb<T>(command: string, ctx: CliContext, work: (db: Db) => Promise<T>): Promise<T> {
	return withResources(ctx, { command, maxConnections: 4 }, ({ db }) => work(db));
}

const entityFilter = (value: string | boolean | undefined) => (value === undefined ? undefined : entityTypeOf(value, 'entityType', '--entity'));
const timeFlag = (name: string, value: string | boolean | undefined) => (value === undefined ? undefined : new Date(isoTimeOf(value, name, `--${name}`)));
const RUN_STATUSES = ['running', 'succeeded', 'failed', 'busy'] as const;

const json: FlagSpec = { type: 'boolean', description: 'print one JSON object' };
const entity: FlagSpec = { type: 'string', valueName: 'services|materials|equipment|categories', description: 'only this entity type' };

export const conflictsCommand = {
	name: 'conflicts',
	summary: 'list conflicts waiting for a decision, with the side-by-side diff and a suggested merge',
	usage: 'pricebook-sync conflicts [--entity <type>] [--all] [--json]',
	flags: { entity, all: { type: 'boolean', description: 'include resolved conflicts' }, json } as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const entityType = entityFilter(args.flags.entity);
		return withDb('conflicts', ctx, async (db) => {
			const conflicts = await listConflicts(db, { entityType, status: args.flags.all ? 'all' : 'open' });
			if (args.flags.json) {
				ctx.stdout(JSON.stringify({ conflicts }));
				return ExitCode.ok;
			}
			if (conflicts.length === 0) ctx.stdout('no conflicts');
			for (const c of conflicts) {
				ctx.stdout(
					`conflict ${c.id}: ${c.entityType} ${c.entityId}${c.label ? ` (${c.label})` : ''} ${c.status}${c.resolution ? ` (${c.resolution} by ${c.resolvedBy})` : ''}, detected ${c.detectedAt}${c.deletedInSt ? ', deleted in ServiceTitan' : ''}`,
				);
				for (const d of c.diff)
					ctx.stdout(`  ${d.field}: last synced ${JSON.stringify(d.base)} | ServiceTitan ${JSON.stringify(d.st)} | local ${JSON.stringify(d.local)}`);
			}
			return ExitCode.ok;
		});
	},
};

export const statusCommand = {
	name: 'status',
	summary: 'show the sync status (green/yellow/red, counts per entity type, recent errors); --html writes the status page',
	usage: 'pricebook-sync status [--json] [--html <file>]',
	flags: { json, html: { type: 'string', valueName: 'file', description: 'write the self-contained status page to this file' } } as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		return withDb('status', ctx, async (db) => {
			const status = await getSyncStatus(db);
			if (typeof args.flags.html === 'string') {
				const page = renderStatusPage({ status, conflicts: await listConflicts(db), runs: await listRuns(db, { limit: 30 }) });
				writeFileSync(args.flags.html, page);
				if (!args.flags.json) ctx.stdout(`status page written to ${args.flags.html}`);
			}
			if (args.flags.json) {
				ctx.stdout(JSON.stringify(status));
				return ExitCode.ok;
			}
			ctx.stdout(`health: ${status.health.toUpperCase()} (${status.healthReasons.join('; ')})`);
			ctx.stdout(
				`last full sync: ${status.lastFullSync ?? 'never'}; last incremental: ${status.lastIncrementalSync ?? 'never'}; next: ${status.nextScheduledSync}`,
			);
			ctx.stdout(
				`changes arrive with the next incremental run (${status.nextIncrementalSync}): ServiceTitan edits and deletes come in, Retool edits go out`,
			);
			for (const t of ['categories', 'services', 'materials', 'equipment'] as const) {
				const e = status[t];
				const p = e.pushes24h;
				ctx.stdout(
					`  ${t.padEnd(10)} total ${e.total}, synced ${e.synced}, pending ${e.pending}, conflicts ${e.conflicts}, deleted ${e.deleted}, held ${e.pushesHeld}; pushes in 24 h: ${p.verified} verified, ${p.normalized} normalized, ${p.ignored} not applied`,
				);
			}
			for (const b of status.apiBudget) ctx.stdout(`ServiceTitan request budget, ${describeBudgetUse(b)}`);
			for (const h of status.heldPushes.slice(0, 5)) ctx.stdout(`  held ${describeHeld(h)}`);
			for (const e of status.recentErrors.slice(0, 5))
				ctx.stdout(`  error ${e.occurredAt} ${e.entityType ?? ''} ${e.entityId ?? ''} ${e.kind}: ${e.message}`);
			return ExitCode.ok;
		});
	},
};

function describeHeld(h: HeldPush): string {
	const fields = h.fields.map((f) => `${f}: local ${JSON.stringify(h.heldValues[f])}, ServiceTitan ${JSON.stringify(h.stValues[f])}`).join('; ');
	return `${h.entityType} ${h.entityId}${h.label ? ` (${h.label})` : ''} since ${h.heldSince ?? 'unknown'}: ${fields} — ${h.reason ?? ''}`;
}

export const heldCommand = {
	name: 'held',
	summary: 'list local edits ServiceTitan did not take (kept its own value or refused), held until edited or retried',
	usage: 'pricebook-sync held [--entity <type>] [--json]',
	flags: { entity, json } as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const entityType = entityFilter(args.flags.entity);
		return withDb('held', ctx, async (db) => {
			const held = await listHeldPushes(db, { entityType });
			if (args.flags.json) ctx.stdout(JSON.stringify({ held }));
			else if (held.length === 0) ctx.stdout('no held edits: ServiceTitan took every pushed value');
			else {
				for (const h of held) ctx.stdout(describeHeld(h));
				ctx.stdout('Fix the cause in ServiceTitan or edit the row in Retool; then: pricebook-sync retry-push <entity> <id>... --by <you>');
			}
			return ExitCode.ok;
		});
	},
};

export const logsCommand = {
	name: 'logs',
	summary: 'list sync runs (or, with --changes, item changes), filterable; --csv for a spreadsheet',
	usage: 'pricebook-sync logs [--entity <type>] [--status <status>] [--since <time>] [--until <time>] [--changes] [--limit <n>] [--csv|--json]',
	flags: {
		entity,
		status: { type: 'string', valueName: 'running|succeeded|failed|busy', description: 'only runs with this status' },
		since: { type: 'string', valueName: 'ISO-8601', description: 'from this time' },
		until: { type: 'string', valueName: 'ISO-8601', description: 'before this time' },
		changes: { type: 'boolean', description: 'list item changes (before/after) instead of runs' },
		limit: { type: 'string', valueName: 'n', description: 'at most this many rows (default 200 runs / 500 changes)' },
		csv: { type: 'boolean', description: 'print CSV' },
		json,
	} as Record<string, FlagSpec>,
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue> {
		const entityType = entityFilter(args.flags.entity);
		const status = args.flags.status === undefined ? undefined : choiceOf(args.flags.status, 'status', RUN_STATUSES, '--status');
		if (args.flags.csv && args.flags.json) throw new UsageError('choose one of --csv and --json');
		const limit = args.flags.limit === undefined ? undefined : wholeNumberOf(args.flags.limit, 'limit', { label: '--limit', min: 0, max: 999_999 });
		const filter = { entityType, status, since: timeFlag('since', args.flags.since), until: timeFlag('until', args.flags.until), limit };
		return withDb('logs', ctx, async (db) => {
			const rows = (args.flags.changes ? await listChanges(db, filter) : await listRuns(db, filter)) as unknown as Record<string, unknown>[];
			if (args.flags.csv) ctx.stdout(toCsv(rows).trimEnd());
			else if (args.flags.json) ctx.stdout(JSON.stringify({ [args.flags.changes ? 'changes' : 'runs']: rows }));
			else if (rows.length === 0) ctx.stdout('nothing logged for that filter');
			else
				for (const r of rows)
					ctx.stdout(
						Object.entries(r)
							.map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`)
							.join(' '),
					);
			return ExitCode.ok;
		});
	},
};
