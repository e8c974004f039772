import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { IDataObject, IWorkflowBase } from 'n8n-workflow';
import { commands } from '../../cli/main';
import { MAX_BODY_BYTES } from '../../lib/api/requests';
import { pgp } from '../../lib/db/connection';
import { entityDefinition } from '../../lib/entities/definitions';
import type { FieldDef } from '../../lib/entities/types';
import { ENTITY_TYPES } from '../../lib/servicetitan/types';
import { DEFAULT_VENDORS } from '../../lib/vendor/config';
import { closeDatabase } from '../../nodes/shared/database';
import { closeServiceTitanClients } from '../../nodes/shared/servicetitan';
import { runCliCaptured } from '../support/cli';
import { credentialsFor } from '../support/n8n-credentials';
import { loadWorkflow, runWorkflow, shutdownN8n } from '../support/n8n-harness';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';
import { publishFigures } from './model/figures';

/**
 * Hostile input: every webhook and CLI command is fed generated malformed requests (wrong types, missing fields,
 * huge bodies, unknown entity types, bad ids, bad JSON in mergedData, SQL injection, Unicode edge cases). Each
 * must be refused (400/404, or exit code 2) with a message naming the problem, before anything is written: the
 * database (every table) and ServiceTitan (not one request) stay as they were. Then ServiceTitan text full of
 * SQL, quotes, emoji and long descriptions must travel both ways unchanged.
 *
 * Fixed seed, so every run tries the same inputs; a failure prints the shrunk input and the seed to replay it.
 */
const SEED = 20261125;
const RUNS = { webhook: 150, resolveWebhook: 200, statusWebhook: 60, cli: 120, roundTripGenerated: 40 };

jest.setTimeout(120_000);

const figures = {
	inputsTried: 0,
	byEntryPoint: {} as Record<string, number>,
	/** Inputs tried per kind of defect (e.g. "bad id", "mergedData not JSON"), over all entry points. */
	byDefect: {} as Record<string, number>,
	refusedCorrectly: 0,
	/** GET status takes no input: hostile query strings and bodies must leave it answering 200, read-only. */
	readOnlyUnaffected: 0,
	roundTrips: 0,
};

function tried(entryPoint: string, defect?: string): void {
	figures.inputsTried += 1;
	figures.byEntryPoint[entryPoint] = (figures.byEntryPoint[entryPoint] ?? 0) + 1;
	if (defect) figures.byDefect[defect] = (figures.byDefect[defect] ?? 0) + 1;
}

afterAll(() => {
	shutdownN8n();
	publishFigures('hostile-input', figures);
});

// ---------------------------------------------------------------------------------------------------------------
// Hostile text: what attackers, copy-paste from spreadsheets and other keyboards send.

const SQL = [
	"'; DROP TABLE pricebook_materials; --",
	'1 OR 1=1',
	"' OR '1'='1",
	'1; DELETE FROM sync_conflicts',
	'"); TRUNCATE sync_runs; --',
	"Robert'); DROP TABLE sync_runs;--",
	'$1::text',
	"\\'; SELECT pg_sleep(10); --",
	'/* */ UNION SELECT usename, passwd FROM pg_shadow --',
];
const UNICODE = [
	'🐟🎣',
	'👩‍👩‍👧‍👦',
	'e\u0301\u0301\u0301',
	'\u202Egnp.exe\u202C',
	'שלום עולם',
	'مرحبا بالعالم',
	'\u200B',
	'\uFEFF',
	'\u00A0',
	'\u3000',
	'１２３',
	'١٢٣',
	'Ⅻ',
	'ｍａｔｅｒｉａｌｓ',
	'\uFFFD',
	'\t\r\n',
	'𝕞𝕒𝕥𝕖𝕣𝕚𝕒𝕝𝕤',
	'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǵ̹ͧo̯̺̔',
];
const INJECTION = [
	'={{ $env.HOME }}',
	'{{ 7*7 }}',
	'${process.exit(1)}',
	'<script>alert(1)</script>',
	'../../etc/passwd',
	'%00',
	'%27',
	'null',
	'undefined',
	'NaN',
	'true',
	'[]',
	'{}',
	'constructor',
	'toString',
];
const HOSTILE = [...SQL, ...UNICODE, ...INJECTION];

const hostileText: fc.Arbitrary<string> = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
	{ weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
	{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
	{ weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE), fc.constantFrom(...HOSTILE)).map(([a, b]) => a + b) },
);
/** Command-line arguments cannot hold a NUL (exec passes C strings). */
const argText = hostileText.filter((s) => !s.includes('\u0000'));
/** Fine as resolvedBy or --by: not blank, at most 200 characters, no NUL. */
const someName = argText.filter((s) => s.trim() !== '' && s.length <= 200);

/** Text longer than the webhooks take (MAX_BODY_BYTES), of one repeated hostile unit. */
const hugeText = fc
	.tuple(fc.constantFrom('x', ...SQL, ...UNICODE), fc.integer({ min: MAX_BODY_BYTES + 1, max: 3 * MAX_BODY_BYTES }))
	.map(([unit, size]) => unit.repeat(Math.ceil(size / unit.length)));

const smallJson = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

const notBoolean: fc.Arbitrary<unknown> = fc.oneof(
	fc.constantFrom('true', 'false', 'yes', 'no', '1', '0', '', 'on'),
	fc.integer(),
	fc.constant(null),
	fc.array(fc.boolean(), { maxLength: 2 }),
	fc.constant({ value: true }),
	hostileText,
);

const VALID_TYPES: readonly string[] = ['all', ...ENTITY_TYPES];
/** Near misses of the entity type names: case, spaces, invisible characters, lookalike letters, singulars. */
const entityTypeLookalike = fc
	.constantFrom(...VALID_TYPES)
	.chain((t) =>
		fc.constantFrom(
			t.toUpperCase(),
			t[0].toUpperCase() + t.slice(1),
			` ${t}`,
			`${t} `,
			`${t}\n`,
			`${t}\u200B`,
			t.slice(0, -1),
			`${t}s`,
			`${t};`,
			`${t}' OR '1'='1`,
			t.replace(/a/g, '\u0430'),
			[...t].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join(''),
		),
	);
const badEntityTypeText = fc.oneof(entityTypeLookalike, argText).filter((v) => !VALID_TYPES.includes(v));
const badEntityType: fc.Arbitrary<unknown> = fc.oneof(
	{ weight: 4, arbitrary: badEntityTypeText },
	fc.integer(),
	fc.boolean(),
	fc.constant(null),
	fc.constantFrom(...ENTITY_TYPES).map((t) => [t]),
	fc.constantFrom(...ENTITY_TYPES).map((t) => ({ type: t })),
);

/** Ids that are not positive whole numbers of at most 15 digits, each invalid by construction. */
const badIdText: fc.Arbitrary<string> = fc.oneof(
	fc.integer({ min: -1_000_000_000, max: 0 }).map(String),
	fc.constantFrom('0', '00', '000000', '', 'NaN', 'Infinity', '-Infinity', 'null', 'undefined', '٣', '⑫', '１２'),
	fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 99 })).map(([a, b]) => `${a}.${b}`),
	fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n }).map(String),
	fc
		.integer({ min: 1, max: 1_000_000 })
		.chain((n) =>
			fc.constantFrom(` ${n}`, `${n} `, `${n}\n`, `+${n}`, `0x${n.toString(16)}`, `${n}e2`, `１${n}`, `${n}١`, `${n}; DROP TABLE pricebook_materials`, `${n} OR 1=1`, `${n}'`, `${n}\u200B`, `${n},5`),
		),
	argText.filter((s) => !/^\d+$/.test(s)),
);
const badIdAnyType: fc.Arbitrary<unknown> = fc.oneof(
	{ weight: 4, arbitrary: badIdText },
	fc.integer({ min: -1_000_000_000, max: 0 }),
	fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
	fc.constantFrom(1e16, 2 ** 53, 1e21),
	fc.constant(null),
	fc.boolean(),
	fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 2 }),
);

/** True when a webhook would read this body as empty or as an object (possibly valid): not a "bad body". */
function readsAsObject(body: unknown): boolean {
	let value = body;
	for (let i = 0; i < 5 && typeof value === 'string'; i++) {
		if (value === '') return true;
		try {
			value = JSON.parse(value);
		} catch {
			return false;
		}
	}
	return value === null || value === undefined || (typeof value === 'object' && !Array.isArray(value));
}

const notAnObjectBody: fc.Arbitrary<unknown> = fc
	.oneof(
		fc.array(smallJson, { maxLength: 3 }),
		fc.integer(),
		fc.double({ noNaN: true, noDefaultInfinity: true }),
		fc.boolean(),
		fc.constantFrom('{not json', "{'entityType': 'all'}", '{"entityType": "all"', '{"dryRun": true,}', '[1, 2]', '42', 'true', 'entityType=all', '<xml/>', '\uFEFF{}'),
		hostileText,
	)
	.filter((b) => !readsAsObject(b));

/** Keys a body must not have: near misses of the allowed ones, other endpoints' keys, hostile text. */
function unknownKey(allowed: readonly string[]): fc.Arbitrary<string> {
	const nearMisses = allowed.flatMap((k) => [k.toUpperCase(), k.toLowerCase(), k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), `${k} `, `${k}\u200B`]);
	return fc
		.oneof(fc.constantFrom(...nearMisses, 'entity_type', 'type', 'id', 'force', 'confirmMassDelete', 'since', 'dryRun', 'resolution', '$where', 'constructor'), hostileText)
		.filter((k) => !allowed.includes(k) && k !== '__proto__');
}

// ---------------------------------------------------------------------------------------------------------------
// The database and ServiceTitan, before and after.

/** Per harness, the query that fingerprints every table of the schema (pricebook_*, sync_*, vendor_*, migrations). */
const fingerprintSql = new WeakMap<SyncHarness, string>();

/** One md5 per table over all its rows: one round trip per check, and a difference names the table. */
async function fingerprintOf(h: SyncHarness): Promise<Record<string, string>> {
	let sql = fingerprintSql.get(h);
	if (!sql) {
		const tables = await h.t.db.map("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1", [], (r: { table_name: string }) =>
			pgp().as.name(r.table_name),
		);
		sql = `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`;
		fingerprintSql.set(h, sql);
	}
	return h.t.db.one(sql);
}

/**
 * The fingerprint after the last refused input: while refusals run back to back it is also the next one's
 * "before", which halves the queries. Anything else that writes (a setup step) must call forgetFingerprint().
 */
let lastFingerprint: { h: SyncHarness; value: Record<string, string> } | undefined;

function forgetFingerprint(): void {
	lastFingerprint = undefined;
}

/** What a refused request may not change: every table, and ServiceTitan (not even a read). */
async function untouched<T>(h: SyncHarness, work: () => Promise<T>): Promise<T> {
	const before = lastFingerprint?.h === h ? lastFingerprint.value : await fingerprintOf(h);
	const stBefore = h.sim.control.requestCounts().total;
	const result = await work();
	const after = await fingerprintOf(h);
	lastFingerprint = { h, value: after };
	expect(after).toEqual(before);
	expect(h.sim.control.requestCounts().total).toBe(stBefore);
	return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Webhooks, in n8n's own engine as in test/integration/n8n-workflows.test.ts.

const WORKFLOWS = path.resolve(__dirname, '../../workflows');
const workflow = {
	full: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-full.json')),
	incremental: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-incremental.json')),
	entity: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-entity.json')),
	resolve: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-resolve-conflict.json')),
	status: loadWorkflow(path.join(WORKFLOWS, 'pricebook-webhook-status.json')),
};

interface Answer {
	statusCode: number;
	body: IDataObject;
}

interface WebhookCase {
	defect: string;
	params?: unknown;
	query?: unknown;
	body?: unknown;
	status: 400 | 404;
	/** The `field` of a 400 answer. */
	field?: string;
	/** Text the error message must contain, naming the problem. */
	mentions: string;
}

/** As n8n's webhook server hands a JSON body on: parsed, so plain data only. */
function wire(value: unknown): unknown {
	return typeof value === 'object' && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}

async function callWebhook(h: SyncHarness, definition: IWorkflowBase, request: { params?: unknown; query?: unknown; body?: unknown }): Promise<Answer> {
	const item = { headers: { 'x-pricebook-key': 'set-in-n8n' }, params: request.params ?? {}, query: request.query ?? {}, body: wire(request.body ?? {}) };
	const result = await runWorkflow(definition, { credentials: credentialsFor(h), trigger: { node: 'Webhook', items: [item as IDataObject] } });
	expect(result.error).toBeUndefined();
	return result.last('Respond to Retool')[0].response as Answer;
}

async function expectWebhookRefuses(h: SyncHarness, entryPoint: string, definition: IWorkflowBase, c: WebhookCase): Promise<void> {
	tried(entryPoint, `webhook: ${c.defect}`);
	const answer = await untouched(h, () => callWebhook(h, definition, c));
	expect({ defect: c.defect, statusCode: answer.statusCode, field: answer.body.field }).toEqual({ defect: c.defect, statusCode: c.status, field: c.field });
	expect(String(answer.body.error)).toContain(c.mentions);
	figures.refusedCorrectly += 1;
}

const tooLarge = { status: 400 as const, field: 'body', mentions: `larger than ${MAX_BODY_BYTES} bytes` };

/** Defects every JSON-body webhook shares, added to an otherwise valid body. */
function bodyDefects(validBody: fc.Arbitrary<Record<string, unknown>>, allowed: readonly string[]): fc.Arbitrary<Omit<WebhookCase, 'params'>>[] {
	return [
		notAnObjectBody.map((body) => ({ defect: 'body is not a JSON object', body, status: 400 as const, field: 'body', mentions: 'the request body' })),
		fc.tuple(validBody, fc.constantFrom(...allowed, 'note'), hugeText, fc.boolean()).map(([body, key, huge, asString]) => {
			const big = { ...body, [key]: huge };
			return { defect: 'body too large', body: asString ? JSON.stringify(big) : big, ...tooLarge };
		}),
		fc.tuple(validBody, unknownKey(allowed), smallJson).map(([body, key, value]) => ({
			defect: 'unknown field',
			body: { ...body, [key]: value },
			status: 400 as const,
			field: key,
			mentions: `unknown field "${key.slice(0, 50)}"`,
		})),
		...allowed
			.filter((k) => k === 'dryRun' || k === 'confirmMassDelete')
			.map((k) => fc.tuple(validBody, notBoolean).map(([body, value]) => ({ defect: `${k} not a boolean`, body: { ...body, [k]: value }, status: 400 as const, field: k, mentions: `${k} must be true or false` }))),
	];
}

const validSince = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
/** `since` values that are not an ISO-8601 time: other types, other date formats, impossible dates, hostile text. */
const badSince: fc.Arbitrary<unknown> = fc.oneof(
	fc.integer(),
	fc.constant(null),
	fc.boolean(),
	fc.constant(['2024-12-10T10:00:00Z']),
	fc.constantFrom('1', '12', '12/10/2024', 'Dec 10 2024', 'yesterday', 'now', '2024-13-45', '2024-12-10T25:00:00Z', '9999-99-99', '2024-00-00', '2024-12-10garbage', '2024-12-10 OR 1=1'),
	hostileText.filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)),
);

function syncBody(kind: 'full' | 'incremental'): fc.Arbitrary<Record<string, unknown>> {
	return kind === 'full'
		? fc.record({ entityType: fc.constantFrom(...VALID_TYPES), dryRun: fc.boolean(), confirmMassDelete: fc.boolean() }, { requiredKeys: [] })
		: fc.record({ entityType: fc.constantFrom(...VALID_TYPES), dryRun: fc.boolean(), since: validSince }, { requiredKeys: [] });
}

function syncCases(kind: 'full' | 'incremental'): fc.Arbitrary<WebhookCase> {
	const valid = syncBody(kind);
	const allowed = kind === 'full' ? ['entityType', 'dryRun', 'confirmMassDelete'] : ['entityType', 'dryRun', 'since'];
	const specific = [
		fc.tuple(valid, badEntityType).map(([body, entityType]) => ({ defect: 'bad entityType', body: { ...body, entityType }, status: 400 as const, field: 'entityType', mentions: 'entityType must be' })),
		...(kind === 'incremental'
			? [fc.tuple(valid, badSince).map(([body, since]) => ({ defect: 'bad since', body: { ...body, since }, status: 400 as const, field: 'since', mentions: 'since must be an ISO-8601 time' }))]
			: []),
	];
	return fc.oneof(...bodyDefects(valid, allowed), ...specific);
}

function entityCases(validIds: number[]): fc.Arbitrary<WebhookCase> {
	const validParams = fc.record({ type: fc.constantFrom(...ENTITY_TYPES), id: fc.constantFrom(...validIds).map(String) });
	const validBody = fc.constantFrom<Record<string, unknown>>({}, { dryRun: true }, { dryRun: false });
	const typeWrong = { status: 400 as const, field: 'type', mentions: 'type must be services, materials, equipment or categories' };
	const idWrong = { status: 400 as const, field: 'id', mentions: 'id must be a positive whole number' };
	return fc.oneof(
		...bodyDefects(validBody, ['dryRun']).map((arb) => fc.tuple(validParams, arb).map(([params, c]) => ({ ...c, params }))),
		fc.tuple(validParams, fc.oneof(badEntityType, fc.constant('all'))).map(([params, type]) => ({ defect: 'bad type', params: { ...params, type }, ...typeWrong })),
		validParams.map((params) => ({ defect: 'type missing', params: { id: params.id }, ...typeWrong })),
		fc.constantFrom(null, 'materials/1', ['materials', '1'], 42).map((params) => ({ defect: 'params not an object', params, ...typeWrong })),
		fc.tuple(validParams, badIdAnyType).map(([params, id]) => ({ defect: 'bad id', params: { ...params, id }, ...idWrong })),
		validParams.map((params) => ({ defect: 'id missing', params: { type: params.type }, ...idWrong })),
	);
}

const materials = entityDefinition('materials');
const isMaterialsField = (key: string) => materials.fields.some((f) => f.column === key || f.st === key);
const DECIMAL_TEXT = /^\s*[+-]?\d+(\.\d+)?\s*$/;

/** Values that do not fit a field of its kind (for mergedData). */
function badValueFor(field: FieldDef): fc.Arbitrary<unknown> {
	const notText = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 2 }), fc.constant({ text: 'x' }));
	switch (field.kind) {
		case 'text':
			return field.required ? fc.oneof(notText, fc.constantFrom(null, '')) : notText;
		case 'decimal':
			return fc.oneof(
				fc.boolean(),
				fc.constant([12.5]),
				fc.constant({ amount: 12.5 }),
				fc.constantFrom('lots', '12,50', '$5', '5 USD', '1e3', '.5', '5.', '١٢', '１２', '--1', '', 'NaN', 'Infinity'),
				hostileText.filter((s) => !DECIMAL_TEXT.test(s)),
			);
		case 'boolean': {
			// null clears an optional field (valid), but not a required one.
			const wrong = notBoolean.filter((v) => v !== null);
			return field.required ? fc.oneof(wrong, fc.constant(null)) : wrong;
		}
		case 'idList':
			return fc.oneof(fc.constantFrom('x', '1,2', 7, { id: 1 }, true), fc.constantFrom([-1], [0], [1.5], ['abc'], [null], [true], ['1.5'], [[1]]));
		default:
			throw new Error(`no bad values for ${field.kind} fields`);
	}
}

function resolveCases(conflictId: number): fc.Arbitrary<WebhookCase> {
	const params = { id: String(conflictId) };
	const merged = fc.constantFrom<unknown>({ price: 320 }, '{"price": 320}', { price: '320.00', display_name: 'Chosen in Retool' });
	const validBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
		fc.record({ resolution: fc.constantFrom('use_st', 'use_local'), resolvedBy: someName }),
		fc.record({ resolution: fc.constant('merged'), resolvedBy: someName, mergedData: merged }),
	);
	const withBody = (defect: string, body: fc.Arbitrary<unknown>, rest: Omit<WebhookCase, 'defect' | 'body' | 'params'>) => body.map((b) => ({ defect, params, body: b, ...rest }));
	const resolvedByWrong = { status: 400 as const, field: 'resolvedBy', mentions: 'resolvedBy is required' };
	const mergedBody = (mergedData: fc.Arbitrary<unknown>) => fc.tuple(someName, mergedData, fc.boolean()).map(([by, md, asString]) => ({ resolution: 'merged', resolvedBy: by, mergedData: asString ? JSON.stringify(md) : md }));
	const fieldDefects = materials.fields.map((field) =>
		fc.tuple(fc.constantFrom(field.column, field.st), badValueFor(field)).map(([key, value]) => ({ key, value, column: field.column })),
	);
	return fc.oneof(
		...bodyDefects(validBody, ['resolution', 'resolvedBy', 'mergedData']).map((arb) => arb.map((c) => ({ ...c, params }))),
		fc.tuple(validBody, badIdAnyType).map(([body, id]) => ({ defect: 'bad conflict id', params: { id }, body, status: 400 as const, field: 'id', mentions: 'id must be a positive whole number' })),
		fc.tuple(validBody, fc.integer({ min: conflictId + 1000, max: 999_999_999_999 })).map(([body, id]) => ({
			defect: 'unknown conflict',
			params: { id: String(id) },
			body,
			status: 404 as const,
			mentions: `conflict ${id} does not exist`,
		})),
		withBody(
			'bad resolution',
			fc
				.tuple(validBody, fc.oneof(fc.constantFrom('USE_ST', 'use-st', 'useLocal', 'st', 'local', 'merge', 'use_st ', '', 'use_\u200Bst'), hostileText, fc.integer(), fc.constant(null), fc.constant(['use_st'])))
				.map(([body, resolution]) => ({ ...body, resolution })),
			{ status: 400, field: 'resolution', mentions: 'resolution must be one of' },
		),
		withBody('resolution missing', validBody.map(({ resolution: _r, ...body }) => body), { status: 400, field: 'resolution', mentions: 'resolution must be one of' }),
		withBody('resolvedBy missing', validBody.map(({ resolvedBy: _b, ...body }) => body), resolvedByWrong),
		withBody(
			'resolvedBy blank or not text',
			fc.tuple(validBody, fc.oneof(fc.constantFrom('', ' ', '\t\n', '\u00A0', '\u3000', '\uFEFF', '\u2003'), fc.integer(), fc.constant(null), fc.boolean(), fc.constant(['ann']))).map(([b, by]) => ({ ...b, resolvedBy: by })),
			resolvedByWrong,
		),
		withBody(
			'resolvedBy longer than 200',
			fc.tuple(validBody, fc.constantFrom(...HOSTILE, 'ann@perfectcatch '), fc.integer({ min: 201, max: 5000 })).map(([b, unit, length]) => ({ ...b, resolvedBy: unit.repeat(Math.ceil(length / unit.length)) })),
			resolvedByWrong,
		),
		withBody(
			'mergedData not JSON',
			fc
				.tuple(validBody, fc.oneof(fc.constantFrom('{price: 1}', "{'price': 1}", '{"price": 1', '{"price": 1,}', 'NaN', '', '\uFEFF{"price": 1}', 'undefined', "{\"price\": 1}'; DROP TABLE sync_conflicts; --"), hostileText))
				.filter(([, text]) => !parses(text))
				.map(([b, text]) => ({ ...b, mergedData: text })),
			{ status: 400, field: 'mergedData', mentions: 'mergedData is not valid JSON' },
		),
		withBody(
			'mergedData without merged',
			fc.tuple(someName, fc.constantFrom('use_st', 'use_local'), fc.oneof(merged, fc.constant(null), fc.constant({}))).map(([by, resolution, mergedData]) => ({ resolution, resolvedBy: by, mergedData })),
			{ status: 400, field: 'mergedData', mentions: 'mergedData is only allowed when resolution is merged' },
		),
		withBody('merged without mergedData', someName.map((by) => ({ resolution: 'merged', resolvedBy: by })), { status: 400, field: 'mergedData', mentions: 'mergedData is required' }),
		mergedBody(fc.oneof(fc.constantFrom(42, null, true, [{ price: 320 }]), fc.array(smallJson, { maxLength: 2 }))).map((body) => ({
			defect: 'mergedData not an object',
			params,
			body,
			status: 400 as const,
			field: 'mergedData',
			mentions: 'mergedData: expected an object of field values',
		})),
		fc
			.tuple(unknownKey([]).filter((k) => !isMaterialsField(k)), smallJson)
			.chain(([key, value]) => mergedBody(fc.constant({ price: 320, [key]: value })).map((body) => ({ key, body })))
			.map(({ key, body }) => ({ defect: 'mergedData unknown field', params, body, status: 400 as const, field: `mergedData.${key}`, mentions: `mergedData.${key}` })),
		{
			// Every synced field has its own wrong values: weighted so each field is tried several times.
			weight: 5,
			arbitrary: fc
				.oneof(...fieldDefects)
				.chain((d) => mergedBody(fc.constant({ price: 320, [d.key]: d.value })).map((body) => ({ d, body })))
				.map(({ d, body }) => ({ defect: `mergedData.${d.column} wrong type`, params, body, status: 400 as const, field: `mergedData.${d.column}`, mentions: `mergedData.${d.column}` })),
		},
		mergedBody(fc.oneof(fc.constant({}), someName.map((name) => ({ display_name: name })), someName.map((text) => ({ description: text })))).map((body) => ({
			defect: 'mergedData leaves the conflicting field open',
			params,
			body,
			status: 400 as const,
			field: 'mergedData.price',
			mentions: 'mergedData must choose a value for price',
		})),
	);
}

function parses(text: string): boolean {
	try {
		JSON.parse(text);
		return true;
	} catch {
		return false;
	}
}

// ---------------------------------------------------------------------------------------------------------------
// The command line.

interface CliCase {
	defect: string;
	argv: string[];
	mentions: string;
}

async function expectCliRefuses(h: SyncHarness, entryPoint: string, c: CliCase): Promise<void> {
	tried(entryPoint, `cli: ${c.defect}`);
	const run = await untouched(h, () => runCliCaptured(c.argv, h.env));
	expect({ defect: c.defect, argv: c.argv, code: run.code, stdout: run.stdout }).toEqual({ defect: c.defect, argv: c.argv, code: 2, stdout: '' });
	expect(run.stderr).toContain(c.mentions);
	figures.refusedCorrectly += 1;
}

/** Requests that changed something in ServiceTitan so far. */
function stWrites(h: SyncHarness): number {
	return h.sim.control.requests.filter((r) => r.target === 'api' && r.method !== 'GET').length;
}

interface CliOutcome {
	argv: string[];
	code: number;
	namesProblem: boolean;
	dbChanged: boolean;
	stCalled: boolean;
}

/** Runs one command and notes what happened, without asserting, so a test can list every input that fails. */
async function observeCli(h: SyncHarness, entryPoint: string, argv: string[], mentions: string): Promise<CliOutcome> {
	tried(entryPoint);
	const before = await fingerprintOf(h);
	const stBefore = h.sim.control.requestCounts().total;
	const run = await runCliCaptured(argv, h.env);
	const outcome = {
		argv,
		code: run.code,
		namesProblem: run.stderr.includes(mentions),
		dbChanged: JSON.stringify(await fingerprintOf(h)) !== JSON.stringify(before),
		stCalled: h.sim.control.requestCounts().total > stBefore,
	};
	if (outcome.code === 2 && outcome.namesProblem && !outcome.dbChanged && !outcome.stCalled) figures.refusedCorrectly += 1;
	return outcome;
}

const refusedCli = (argv: string[]): CliOutcome => ({ argv, code: 2, namesProblem: true, dbChanged: false, stCalled: false });

/** `--name value` or `--name=value`; the `=` form whenever the value would read as an option or as --help. */
function option(name: string, value: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
	return fc.tuple(value, fc.boolean()).map(([v, eq]) => (eq || v.startsWith('-') ? [`--${name}=${v}`] : [`--${name}`, v]));
}

/** A positional argument: not an option and not a request for help. */
const positional = (arb: fc.Arbitrary<string>) => arb.filter((s) => s !== '' && !s.startsWith('--') && s !== '-h');

function commandFlags(name: string) {
	const command = commands.find((c) => c.name === name);
	if (!command) throw new Error(`no command ${name}`);
	return command.flags;
}

/** Defects of the argument syntax every command shares: unknown options, values where none go, missing values. */
function syntaxDefects(name: string, prefix: fc.Arbitrary<string[]>): fc.Arbitrary<CliCase>[] {
	const flags = commandFlags(name);
	const booleans = Object.keys(flags).filter((f) => flags[f].type === 'boolean');
	const strings = Object.keys(flags).filter((f) => flags[f].type === 'string');
	const unknownOption = fc
		.oneof(fc.constantFrom(...Object.keys(flags).flatMap((f) => [f.toUpperCase(), f.replace(/-/g, '_'), `${f}s`, `no-${f}`]), 'force', 'verbose', 'yes', 'h'), argText)
		// `in` also skips the names of Object.prototype (constructor, toString): they have a test of their own.
		.filter((o) => o !== '' && !o.includes('=') && !(o in flags) && o !== 'help');
	const defects = [fc.tuple(prefix, unknownOption).map(([argv, o]) => ({ defect: 'unknown option', argv: [name, ...argv, `--${o}`], mentions: `unknown option --${o}` }))];
	if (booleans.length > 0) {
		defects.push(
			fc.tuple(prefix, fc.constantFrom(...booleans), argText).map(([argv, f, v]) => ({ defect: 'value for a switch', argv: [name, ...argv, `--${f}=${v}`], mentions: `--${f} takes no value` })),
		);
	}
	if (strings.length > 0) {
		defects.push(
			fc.tuple(prefix, fc.constantFrom(...strings), fc.constantFrom([], ['--json'], ['--dry-run'])).map(([argv, f, after]) => ({
				defect: 'option without its value',
				argv: [name, ...argv, `--${f}`, ...after.filter((a) => a.slice(2) in flags)],
				mentions: `--${f} needs a value`,
			})),
		);
	}
	return defects;
}

/** Valid switches to mix in, so defects also come with company. */
const switches = (name: string, allowed: string[]) => fc.subarray(allowed.filter((s) => s.slice(2) in commandFlags(name)));

const badEntityArg = positional(badEntityTypeText);

function runCommandCases(name: 'full' | 'incremental'): fc.Arbitrary<CliCase> {
	const valid = switches(name, ['--json', '--dry-run']);
	return fc.oneof(
		...syntaxDefects(name, valid),
		fc.tuple(valid, option('entity', badEntityTypeText)).map(([s, o]) => ({ defect: 'bad --entity', argv: [name, ...s, ...o], mentions: '--entity must be services, materials, equipment, categories or all' })),
		fc.tuple(valid, positional(argText)).map(([s, p]) => ({ defect: 'unexpected argument', argv: [name, p, ...s], mentions: `unexpected argument ${p}` })),
		...(name === 'incremental'
			? [
					fc
						.tuple(valid, option('since', argText.filter((s) => Number.isNaN(Date.parse(s)))))
						.map(([s, o]) => ({ defect: 'bad --since', argv: [name, ...s, ...o], mentions: '--since must be an ISO-8601 time' })),
				]
			: []),
	);
}

function entityCommandCases(validIds: number[]): fc.Arbitrary<CliCase> {
	const type = fc.constantFrom(...ENTITY_TYPES);
	const id = fc.constantFrom(...validIds).map(String);
	const valid = switches('entity', ['--json', '--dry-run']);
	const shape = 'expected an entity type and an id';
	return fc.oneof(
		...syntaxDefects('entity', fc.tuple(type, id).map(([t, i]) => [t, i])),
		fc.tuple(badEntityArg, id, valid).map(([t, i, s]) => ({ defect: 'bad type', argv: ['entity', t, i, ...s], mentions: 'entity type must be' })),
		fc.tuple(type, positional(badIdText), valid).map(([t, i, s]) => ({ defect: 'bad id', argv: ['entity', t, i, ...s], mentions: 'id must be a positive whole number' })),
		fc.tuple(fc.constantFrom([], ['materials']), valid).map(([p, s]) => ({ defect: 'arguments missing', argv: ['entity', ...p, ...s], mentions: shape })),
		fc.tuple(type, id, positional(argText), valid).map(([t, i, extra, s]) => ({ defect: 'extra argument', argv: ['entity', t, i, extra, ...s], mentions: shape })),
	);
}

function resolveCommandCases(conflictId: number): fc.Arbitrary<CliCase> {
	const id = String(conflictId);
	const by = option('by', someName);
	const decided = fc.oneof(
		fc.tuple(fc.constantFrom('use_st', 'use_local'), by).map(([r, b]) => [`--resolution=${r}`, ...b]),
		fc.tuple(by, fc.constantFrom('{"price": 320}', '{"price": "320.5", "display_name": "Chosen"}')).map(([b, md]) => ['--resolution', 'merged', ...b, `--merged-data=${md}`]),
	);
	const merged = (mergedData: fc.Arbitrary<string>) => fc.tuple(by, mergedData).map(([b, md]) => [id, '--resolution=merged', ...b, `--merged-data=${md}`]);
	const fieldDefects = materials.fields.map((field) =>
		fc.tuple(fc.constantFrom(field.column, field.st), badValueFor(field)).map(([key, value]) => ({ json: JSON.stringify({ price: 320, [key]: value }), column: field.column })),
	);
	return fc.oneof(
		...syntaxDefects('resolve', decided.map((d) => [id, ...d])),
		fc.tuple(positional(badIdText), decided).map(([i, d]) => ({ defect: 'bad conflict id', argv: ['resolve', i, ...d], mentions: 'conflict id must be a positive whole number' })),
		fc.tuple(fc.constantFrom<string[]>([], [id, id], [id, 'extra']), decided).map(([p, d]) => ({ defect: 'not one conflict id', argv: ['resolve', ...p, ...d], mentions: 'expected one conflict id' })),
		by.map((b) => ({ defect: '--resolution missing', argv: ['resolve', id, ...b], mentions: '--resolution is required' })),
		fc
			.tuple(option('resolution', fc.oneof(fc.constantFrom('USE_ST', 'use-st', 'merge', 'st', 'use_st '), argText.filter((s) => s !== ''))), by)
			.filter(([r]) => !['use_st', 'use_local', 'merged'].includes(r[r.length - 1].replace(/^--resolution=/, '')))
			.map(([r, b]) => ({ defect: 'bad --resolution', argv: ['resolve', id, ...r, ...b], mentions: '--resolution must be one of' })),
		fc
			.tuple(fc.constantFrom('use_st', 'use_local'), fc.constantFrom([], ['--by='], ['--by', ' '], ['--by=\t\n'], ['--by=\u00A0\u3000']))
			.map(([r, b]) => ({ defect: '--by missing or blank', argv: ['resolve', id, `--resolution=${r}`, ...b], mentions: '--by is required' })),
		fc
			.tuple(fc.constantFrom('use_st', 'use_local'), fc.constantFrom(...HOSTILE.filter((s) => s.trim() !== '')), fc.integer({ min: 201, max: 2000 }))
			.map(([r, unit, n]) => ({ defect: '--by longer than 200', argv: ['resolve', id, `--resolution=${r}`, `--by=${unit.repeat(Math.ceil(n / unit.length))}`], mentions: '(field resolvedBy)' })),
		merged(fc.oneof(fc.constantFrom('{price: 1}', "{'price': 1}", '{"price": 1', ''), argText).filter((s) => !parses(s))).map((argv) => ({
			defect: '--merged-data not JSON',
			argv: ['resolve', ...argv],
			mentions: '--merged-data is not valid JSON',
		})),
		fc
			.tuple(fc.constantFrom('use_st', 'use_local'), by, fc.constantFrom('{"price": 320}', '{}', 'null'))
			.map(([r, b, md]) => ({ defect: '--merged-data without merged', argv: ['resolve', id, `--resolution=${r}`, ...b, `--merged-data=${md}`], mentions: '(field mergedData)' })),
		by.map((b) => ({ defect: 'merged without --merged-data', argv: ['resolve', id, '--resolution=merged', ...b], mentions: 'mergedData is required' })),
		merged(fc.constantFrom('42', '"price"', '[{"price": 320}]', 'true', 'null')).map((argv) => ({ defect: '--merged-data not an object', argv: ['resolve', ...argv], mentions: '(field mergedData)' })),
		{
			weight: 3,
			arbitrary: fc
				.oneof(...fieldDefects)
				.chain((d) => merged(fc.constant(d.json)).map((argv) => ({ defect: `mergedData.${d.column} wrong type`, argv: ['resolve', ...argv], mentions: `(field mergedData.${d.column})` }))),
		},
		merged(fc.constantFrom('{}', '{"display_name": "only the name"}')).map((argv) => ({ defect: 'merged leaves price open', argv: ['resolve', ...argv], mentions: '(field mergedData.price)' })),
	);
}

function reportingCases(name: 'conflicts' | 'status' | 'logs' | 'migrate'): fc.Arbitrary<CliCase> {
	const valid = switches(name, ['--json', '--all', '--changes']);
	const specific: fc.Arbitrary<CliCase>[] = [];
	if (name === 'conflicts' || name === 'logs') {
		specific.push(fc.tuple(valid, option('entity', badEntityTypeText)).map(([s, o]) => ({ defect: 'bad --entity', argv: [name, ...s, ...o], mentions: '--entity must be services, materials, equipment or categories' })));
	}
	if (name === 'logs') {
		const unparseable = argText.filter((s) => Number.isNaN(Date.parse(s)));
		specific.push(
			fc.tuple(valid, option('status', argText.filter((s) => !['running', 'succeeded', 'failed', 'busy'].includes(s)))).map(([s, o]) => ({ defect: 'bad --status', argv: [name, ...s, ...o], mentions: '--status must be' })),
			fc.tuple(valid, fc.constantFrom('since', 'until'), unparseable).chain(([s, f, v]) => option(f, fc.constant(v)).map((o) => ({ defect: `bad --${f}`, argv: [name, ...s, ...o], mentions: `--${f} must be an ISO-8601 time` }))),
			fc
				.tuple(valid, option('limit', fc.oneof(fc.constantFrom('-1', '1.5', '1e3', ' 5', '0x10', '1234567', '', '١٢'), argText).filter((s) => !/^\d{1,6}$/.test(s))))
				.map(([s, o]) => ({ defect: 'bad --limit', argv: [name, ...s, ...o], mentions: '--limit must be a whole number' })),
			fc.constantFrom(['--csv', '--json'], ['--json', '--csv', '--changes']).map((f) => ({ defect: '--csv with --json', argv: [name, ...f], mentions: 'choose one of --csv and --json' })),
		);
	}
	return fc.oneof(...syntaxDefects(name, valid), ...specific);
}

/** Vendor names ServiceTitan and the defaults do not know (JavaScript's own property names are their own test). */
const unknownVendor = argText.filter((v) => !Object.hasOwn(DEFAULT_VENDORS, v.toLowerCase()) && !(v.toLowerCase() in {}));

function vendorCases(dir: string): fc.Arbitrary<CliCase> {
	const feed = path.join(dir, 'feed.csv');
	const base = ['import', '--vendor=ced', `--file=${feed}`];
	const name = 'vendor-prices';
	let mappings = 0;
	/** A mapping file with this content, written now: each case gets a file of its own. */
	const mappingFile = (content: string) => {
		const file = path.join(dir, `mapping-${(mappings += 1)}.json`);
		writeFileSync(file, content);
		return file;
	};
	const badMapping = fc.oneof(
		fc.oneof(fc.constantFrom('{ced: {}}', '{"ced": ', ''), argText).filter((s) => !parses(s)).map((s) => ({ content: s, mentions: 'is not valid JSON' })),
		fc.constantFrom('[]', '42', '"ced"').map((s) => ({ content: s, mentions: 'must be a JSON object keyed by vendor' })),
		fc.constantFrom('CED', 'Pool 360', "x'; DROP TABLE vendor_prices; --", '🐟').map((k) => ({ content: JSON.stringify({ [k]: {} }), mentions: `vendor key "${k}"` })),
		fc.constantFrom('[]', '""', '[""]', '[1]', '{}').map((v) => ({ content: `{"ced": {"columns": {"sku": ${v}}}}`, mentions: 'ced.columns.sku must be a column name' })),
		fc.constant({ content: '{"newvendor": {"columns": {"sku": "SKU"}}}', mentions: 'newvendor.columns needs at least sku and price' }),
		fc.constant({ content: '{"newvendor": {"columns": {"sku": "SKU", "price": "Price"}}}', mentions: 'newvendor.stVendorNames is required' }),
	);
	const badUrl = fc
		.oneof(fc.constantFrom('ftp://vendor.example/feed.csv', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/csv,SKU,Price', 'postgres://x@y/z', 'vendor.example/feed.csv', '//vendor.example/feed.csv'), argText)
		.filter((u) => {
			try {
				return !/^https?:$/.test(new URL(u).protocol);
			} catch {
				return true;
			}
		});
	return fc.oneof(
		...syntaxDefects(name, fc.constant(base)),
		fc.oneof(fc.constant([]), positional(argText.filter((a) => a !== 'import')).map((a) => [a]), fc.constant(['import', 'now'])).map((p) => ({
			defect: 'not the import action',
			argv: [name, ...p, '--vendor=ced', `--file=${feed}`],
			mentions: 'the only action is "import"',
		})),
		fc.constant<CliCase>({ defect: '--vendor missing', argv: [name, 'import', `--file=${feed}`], mentions: '--vendor is required' }),
		unknownVendor.chain((v) => option('vendor', fc.constant(v)).map((o) => ({ defect: 'unknown vendor', argv: [name, 'import', ...o, `--file=${feed}`], mentions: `unknown vendor "${v}"` }))),
		fc.constantFrom<string[]>([], [`--file=${feed}`, '--url=https://vendor.example/feed.csv']).map((f) => ({ defect: 'not exactly one source', argv: [name, 'import', '--vendor=ced', ...f], mentions: 'give exactly one of --file and --url' })),
		option('format', argText.filter((f) => f !== 'csv' && f !== 'json')).map((o) => ({ defect: 'bad --format', argv: [name, ...base, ...o], mentions: '--format must be csv or json' })),
		option('timeout', fc.oneof(fc.constantFrom('-1', '1.5', '60s', '123456', ''), argText).filter((t) => !/^\d{1,5}$/.test(t))).map((o) => ({
			defect: 'bad --timeout',
			argv: [name, ...base, ...o],
			mentions: '--timeout must be a whole number of seconds',
		})),
		badMapping.map((m) => ({ defect: 'bad --mapping', argv: [name, ...base, `--mapping=${mappingFile(m.content)}`], mentions: m.mentions })),
		fc.constantFrom('missing.json', '').map((f) => ({ defect: 'mapping file missing', argv: [name, ...base, `--mapping=${path.join(dir, 'no-such-dir', f)}`], mentions: 'cannot read the mapping file' })),
		fc.oneof(fc.constantFrom('no-such-feed.csv', 'no-such-dir/feed.csv'), argText.filter((s) => s !== '' && !s.includes('/'))).map((f) => ({
			defect: 'feed file missing',
			argv: [name, 'import', '--vendor=ced', `--file=${path.join(dir, 'missing', f)}`],
			mentions: 'cannot read the feed file',
		})),
		badUrl.map((u) => ({ defect: 'bad --url', argv: [name, 'import', '--vendor=ced', `--url=${u}`], mentions: 'feed URL' })),
	);
}

function startCases(): fc.Arbitrary<CliCase> {
	// A value start accepts would run the whole demo against the harness: only numbers outside 10..200000 and non-numbers.
	const badItems = fc
		.oneof(fc.integer({ min: -1000, max: 9 }).map(String), fc.integer({ min: 200_001, max: 10_000_000 }).map(String), fc.constantFrom('10.5', 'ten', '', 'Infinity', '1e9', '5000 items'), argText)
		.filter((s) => {
			const n = Number(s);
			return !Number.isInteger(n) || n < 10 || n > 200_000;
		});
	return fc.oneof(
		...syntaxDefects('start', fc.constant([])),
		option('items', badItems).map((o) => ({ defect: 'bad --items', argv: ['start', ...o], mentions: '--items must be a whole number from 10 to 200000' })),
	);
}

const unknownCommand: fc.Arbitrary<CliCase> = fc
	.oneof(fc.constantFrom(...commands.flatMap((c) => [c.name.toUpperCase(), `${c.name}s`, `--${c.name}`]), 'sync', 'drop', 'sql'), argText)
	.filter((n) => n !== '' && !['help', '--help', '-h'].includes(n) && !commands.some((c) => c.name === n))
	.map((n) => ({ defect: 'unknown command', argv: [n, '--json'], mentions: `unknown command "${n}"` }));

// ---------------------------------------------------------------------------------------------------------------

/** A conflict on each material: price changed in ServiceTitan (303) and in Retool (333) since the last sync. */
async function openConflicts(h: SyncHarness, materialIds: number[]): Promise<number[]> {
	h.sim.control.advanceClock(60_000);
	for (const id of materialIds) {
		h.sim.control.updateItem('materials', id, { price: 303 });
		await retoolUpdate(h.t, 'pricebook_materials', id, { price: 333 });
	}
	await h.engine.run({ kind: 'incremental', entityType: 'materials' });
	const conflictOf = async (id: number) => (await h.t.db.one<{ id: number }>("SELECT id FROM sync_conflicts WHERE entity_id = $1 AND status = 'open'", [id])).id;
	const conflictIds = [];
	for (const id of materialIds) conflictIds.push(await conflictOf(id));
	return conflictIds;
}

const openConflict = async (h: SyncHarness, materialId: number) => (await openConflicts(h, [materialId]))[0];

async function closeHarness(h: SyncHarness | undefined): Promise<void> {
	if (!h) return;
	await closeDatabase(credentialsFor(h).pricebookDatabase);
	closeServiceTitanClients();
	await h.close();
}

describe('hostile input is refused, naming the problem, and changes nothing', () => {
	let h: SyncHarness;
	let conflictId: number;
	let materialIds: number[];
	let dir: string;
	const check = <T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>) => {
		forgetFingerprint();
		return fc.assert(fc.asyncProperty(arb, predicate), { seed: SEED, numRuns });
	};

	beforeAll(async () => {
		h = await startHarness();
		await h.engine.runMany('full', [...ENTITY_TYPES]);
		materialIds = h.sim.control.listIds('materials');
		conflictId = await openConflict(h, materialIds[2]);
		dir = mkdtempSync(path.join(tmpdir(), 'pricebook-hostile-'));
		writeFileSync(path.join(dir, 'feed.csv'), 'SKU,Price\nA-1,1.00\n');
	});
	beforeEach(forgetFingerprint);
	afterAll(async () => {
		rmSync(dir, { recursive: true, force: true });
		await closeHarness(h);
	});

	describe('webhooks', () => {
		it('POST full: bad bodies, unknown fields, bad entityType and flags → 400 naming the field', async () => {
			await check(syncCases('full'), RUNS.webhook, (c) => expectWebhookRefuses(h, 'webhook full', workflow.full, c));
		});

		it('POST incremental: bad bodies, unknown fields, bad entityType, dryRun and since → 400 naming the field', async () => {
			await check(syncCases('incremental'), RUNS.webhook, (c) => expectWebhookRefuses(h, 'webhook incremental', workflow.incremental, c));
		});

		it('POST entity/:type/:id: unknown types, negative and non-numeric ids, bad bodies → 400 naming the field', async () => {
			await check(entityCases(materialIds), RUNS.webhook, (c) => expectWebhookRefuses(h, 'webhook entity', workflow.entity, c));
		});

		it('POST resolve-conflict/:id: bad ids, resolutions, resolvedBy and mergedData → 400 naming the field (404 for an unknown conflict)', async () => {
			await check(resolveCases(conflictId), RUNS.resolveWebhook, (c) => expectWebhookRefuses(h, 'webhook resolve-conflict', workflow.resolve, c));
			expect(await h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [conflictId])).toEqual({ status: 'open' });
		});

		it('GET status takes no input: hostile query strings and bodies leave it answering 200, reading only', async () => {
			const request = fc.record({
				query: fc.dictionary(hostileText.filter((k) => k !== '__proto__'), fc.oneof(hostileText, fc.array(hostileText, { maxLength: 2 })), { maxKeys: 3 }),
				body: fc.oneof(notAnObjectBody, hugeText.map((huge) => ({ entityType: huge })), smallJson),
			});
			await check(request, RUNS.statusWebhook, async (r) => {
				tried('webhook status');
				const answer = await untouched(h, () => callWebhook(h, workflow.status, r));
				expect(answer).toMatchObject({ statusCode: 200, body: { health: expect.stringMatching(/^(green|yellow|red)$/), materials: { total: materialIds.length } } });
				figures.readOnlyUnaffected += 1;
			});
		});
	});

	describe('command line', () => {
		it('full and incremental: bad --entity, --since, options and arguments → exit 2 naming the problem', async () => {
			await check(runCommandCases('full'), RUNS.cli, (c) => expectCliRefuses(h, 'cli full', c));
			await check(runCommandCases('incremental'), RUNS.cli, (c) => expectCliRefuses(h, 'cli incremental', c));
		});

		it('entity: unknown types, negative and non-numeric ids, missing and extra arguments → exit 2', async () => {
			await check(entityCommandCases(materialIds), RUNS.cli, (c) => expectCliRefuses(h, 'cli entity', c));
		});

		it('resolve: bad ids, resolutions, --by and --merged-data → exit 2 naming the problem', async () => {
			await check(resolveCommandCases(conflictId), RUNS.cli, (c) => expectCliRefuses(h, 'cli resolve', c));
			expect(await h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [conflictId])).toEqual({ status: 'open' });
		});

		it('conflicts, status, logs and migrate: bad filters and options → exit 2', async () => {
			for (const name of ['conflicts', 'status', 'logs', 'migrate'] as const) {
				await check(reportingCases(name), RUNS.cli, (c) => expectCliRefuses(h, `cli ${name}`, c));
			}
		});

		it('vendor-prices: bad actions, vendors, sources, formats, timeouts, mapping files and URLs → exit 2', async () => {
			await check(vendorCases(dir), RUNS.cli, (c) => expectCliRefuses(h, 'cli vendor-prices', c));
		});

		it('start and unknown commands → exit 2', async () => {
			await check(startCases(), RUNS.cli, (c) => expectCliRefuses(h, 'cli start', c));
			await check(unknownCommand, RUNS.cli, (c) => expectCliRefuses(h, 'cli unknown command', c));
		});
	});

	// Inputs that got through when this suite was written. Each test lists every input with what happened, so one
	// failure shows them all; they run last because some of them did write.
	describe('inputs that once slipped through validation', () => {
		it('names of JavaScript built-ins (constructor, __proto__, toString) are unknown names like any other', async () => {
			const feed = `--file=${path.join(dir, 'feed.csv')}`;
			const cases: Array<[string[], string]> = [
				[['vendor-prices', 'import', '--vendor=constructor', feed], 'unknown vendor'],
				[['vendor-prices', 'import', '--vendor=__proto__', feed], 'unknown vendor'],
				[['full', '--dry-run', '--entity=materials', '--constructor=1'], 'unknown option --constructor'],
				[['status', '--toString=1'], 'unknown option --toString'],
				[['migrate', '--hasOwnProperty', 'x'], 'unknown option --hasOwnProperty'],
			];
			const seen = [];
			for (const [argv, mentions] of cases) seen.push(await observeCli(h, 'cli built-in names', argv, mentions));
			expect(seen).toEqual(cases.map(([argv]) => refusedCli(argv)));
		});

		it('every command refuses arguments it does not take (as full and incremental do)', async () => {
			const cases: string[][] = [['migrate', 'now'], ['status', 'materials'], ['logs', 'materials'], ['conflicts', String(conflictId)], ['status', "'; DROP TABLE sync_runs; --"]];
			const seen = [];
			for (const argv of cases) seen.push(await observeCli(h, 'cli extra arguments', argv, `unexpected argument ${argv[1]}`));
			expect(seen).toEqual(cases.map(refusedCli));
		});

		it('--since and --until take ISO-8601 times, on the command line as on the webhook', async () => {
			// Date.parse reads all of these (as 2001-01-01, 2001-12-01, 1999-01-01, ...); the webhook refuses them.
			const values = ['1', '12', '99', '-1', 'x 1', 'pump 7', '12/10/2024', 'Dec 10 2024'];
			const cases: Array<[string[], string]> = values.flatMap((v): Array<[string[], string]> => [
				[['incremental', '--dry-run', '--entity=materials', `--since=${v}`], '--since must be an ISO-8601 time'],
				[['logs', `--since=${v}`], '--since must be an ISO-8601 time'],
				[['logs', `--until=${v}`], '--until must be an ISO-8601 time'],
			]);
			for (const since of values) {
				const c: WebhookCase = { defect: 'not ISO-8601', body: { entityType: 'materials', since }, status: 400, field: 'since', mentions: 'since must be an ISO-8601 time' };
				await expectWebhookRefuses(h, 'webhook incremental', workflow.incremental, c);
			}
			const seen = [];
			for (const [argv, mentions] of cases) seen.push(await observeCli(h, 'cli non-ISO times', argv, mentions));
			expect(seen).toEqual(cases.map(([argv]) => refusedCli(argv)));
		});

		it('a NUL character (which PostgreSQL text cannot hold) is refused before ServiceTitan is changed', async () => {
			// A conflict of its own for every input, all opened first: what one input did (a NUL stored in
			// ServiceTitan) cannot change what the next one sees.
			const conflicts = (await openConflicts(h, materialIds.slice(10, 14))).map(String);
			const webhookCases: Array<[IDataObject, string]> = [
				[{ resolution: 'use_local', resolvedBy: 'ann\u0000@perfectcatch' }, 'resolvedBy'],
				[{ resolution: 'merged', resolvedBy: 'ann', mergedData: { price: 320, display_name: 'Pump\u0000 seal' } }, 'display_name'],
				[{ resolution: 'merged', resolvedBy: 'ann', mergedData: '{"price": 321, "description": "\\u0000"}' }, 'description'],
			];
			const seen = [];
			for (const [i, [body, mentions]] of webhookCases.entries()) {
				const params = { id: conflicts[i] };
				tried('webhook resolve-conflict (NUL)');
				const before = await fingerprintOf(h);
				const writes = stWrites(h);
				const answer = await callWebhook(h, workflow.resolve, { params, body });
				seen.push({
					body,
					refusedAs4xx: answer.statusCode >= 400 && answer.statusCode < 500,
					namesField: String(answer.body.error).includes(mentions),
					stChanged: stWrites(h) > writes,
					dbChanged: JSON.stringify(await fingerprintOf(h)) !== JSON.stringify(before),
				});
			}
			// On the command line JSON can carry the NUL as \u0000 (argv itself cannot).
			const argv = ['resolve', conflicts[webhookCases.length], '--resolution=merged', '--by=ann', '--merged-data={"price": 322, "display_name": "\\u0000"}'];
			seen.push(await observeCli(h, 'cli resolve (NUL)', argv, 'display_name'));
			expect(seen).toEqual([
				...webhookCases.map(([body]) => ({ body, refusedAs4xx: true, namesField: true, stChanged: false, dbChanged: false })),
				refusedCli(argv),
			]);
		});
	});
});

// ---------------------------------------------------------------------------------------------------------------
// Round trips: hostile text is data, and data travels unchanged.

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
	'"; COPY pricebook_materials TO PROGRAM \'rm -rf /\'; --',
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
		expect(await h.t.db.one('SELECT status, resolved_by FROM sync_conflicts WHERE id = $1', [conflictId])).toEqual({ status: 'resolved', resolved_by: resolvedBy });
		expect(await h.t.db.one('SELECT display_name, price FROM pricebook_materials WHERE id = $1', [id])).toEqual({ display_name: displayName, price: '320' });
		expect(h.sim.control.getItem('materials', id)).toMatchObject({ displayName, price: 320 });
		figures.roundTrips += 2;
	});
});
