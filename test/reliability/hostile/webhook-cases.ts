import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../../lib/api/requests';
import { ENTITY_TYPES } from '../../../lib/servicetitan/types';
import {
	badEntityIdAnyType,
	badEntityType,
	badIdAnyType,
	badValueFor,
	isMaterialsField,
	materials,
	notAnObjectBody,
	notBoolean,
	unknownKey,
	VALID_TYPES,
} from './bad-values';
import { HOSTILE, hostileText, hugeText, parses, smallJson, someName } from './text';
import type { WebhookCase } from './webhook';

// Generated requests each webhook must refuse, with the answer it must give.

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
			.map((k) =>
				fc.tuple(validBody, notBoolean).map(([body, value]) => ({
					defect: `${k} not a boolean`,
					body: { ...body, [k]: value },
					status: 400 as const,
					field: k,
					mentions: `${k} must be true or false`,
				})),
			),
	];
}

const validSince = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
/** `since` values that are not an ISO-8601 time: other types, other date formats, impossible dates, hostile text. */
const badSince: fc.Arbitrary<unknown> = fc.oneof(
	fc.integer(),
	fc.constant(null),
	fc.boolean(),
	fc.constant(['2024-12-10T10:00:00Z']),
	fc.constantFrom(
		'1',
		'12',
		'12/10/2024',
		'Dec 10 2024',
		'yesterday',
		'now',
		'2024-13-45',
		'2024-12-10T25:00:00Z',
		'9999-99-99',
		'2024-00-00',
		'2024-12-10garbage',
		'2024-12-10 OR 1=1',
	),
	hostileText.filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)),
);

function syncBody(kind: 'full' | 'incremental'): fc.Arbitrary<Record<string, unknown>> {
	return kind === 'full'
		? fc.record({ entityType: fc.constantFrom(...VALID_TYPES), dryRun: fc.boolean(), confirmMassDelete: fc.boolean() }, { requiredKeys: [] })
		: fc.record({ entityType: fc.constantFrom(...VALID_TYPES), dryRun: fc.boolean(), since: validSince }, { requiredKeys: [] });
}

export function syncCases(kind: 'full' | 'incremental'): fc.Arbitrary<WebhookCase> {
	const valid = syncBody(kind);
	const allowed = kind === 'full' ? ['entityType', 'dryRun', 'confirmMassDelete'] : ['entityType', 'dryRun', 'since'];
	const specific = [
		fc.tuple(valid, badEntityType).map(([body, entityType]) => ({
			defect: 'bad entityType',
			body: { ...body, entityType },
			status: 400 as const,
			field: 'entityType',
			mentions: 'entityType must be',
		})),
		...(kind === 'incremental'
			? [
					fc.tuple(valid, badSince).map(([body, since]) => ({
						defect: 'bad since',
						body: { ...body, since },
						status: 400 as const,
						field: 'since',
						mentions: 'since must be an ISO-8601 time',
					})),
				]
			: []),
	];
	return fc.oneof(...bodyDefects(valid, allowed), ...specific);
}

export function entityCases(validIds: number[]): fc.Arbitrary<WebhookCase> {
	const validParams = fc.record({ type: fc.constantFrom(...ENTITY_TYPES), id: fc.constantFrom(...validIds).map(String) });
	const validBody = fc.constantFrom<Record<string, unknown>>({}, { dryRun: true }, { dryRun: false });
	const typeWrong = { status: 400 as const, field: 'type', mentions: 'type must be services, materials, equipment or categories' };
	const idWrong = { status: 400 as const, field: 'id', mentions: 'id must be a whole number other than 0' };
	return fc.oneof(
		...bodyDefects(validBody, ['dryRun']).map((arb) => fc.tuple(validParams, arb).map(([params, c]) => ({ ...c, params }))),
		fc
			.tuple(validParams, fc.oneof(badEntityType, fc.constant('all')))
			.map(([params, type]) => ({ defect: 'bad type', params: { ...params, type }, ...typeWrong })),
		validParams.map((params) => ({ defect: 'type missing', params: { id: params.id }, ...typeWrong })),
		fc.constantFrom(null, 'materials/1', ['materials', '1'], 42).map((params) => ({ defect: 'params not an object', params, ...typeWrong })),
		fc.tuple(validParams, badEntityIdAnyType).map(([params, id]) => ({ defect: 'bad id', params: { ...params, id }, ...idWrong })),
		validParams.map((params) => ({ defect: 'id missing', params: { type: params.type }, ...idWrong })),
	);
}

export function resolveCases(conflictId: number): fc.Arbitrary<WebhookCase> {
	const params = { id: String(conflictId) };
	const merged = fc.constantFrom<unknown>({ price: 320 }, '{"price": 320}', { price: '320.00', display_name: 'Chosen in Retool' });
	const validBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
		fc.record({ resolution: fc.constantFrom('use_st', 'use_local'), resolvedBy: someName }),
		fc.record({ resolution: fc.constant('merged'), resolvedBy: someName, mergedData: merged }),
	);
	const withBody = (defect: string, body: fc.Arbitrary<unknown>, rest: Omit<WebhookCase, 'defect' | 'body' | 'params'>) =>
		body.map((b) => ({ defect, params, body: b, ...rest }));
	const resolvedByWrong = { status: 400 as const, field: 'resolvedBy', mentions: 'resolvedBy is required' };
	const mergedBody = (mergedData: fc.Arbitrary<unknown>) =>
		fc
			.tuple(someName, mergedData, fc.boolean())
			.map(([by, md, asString]) => ({ resolution: 'merged', resolvedBy: by, mergedData: asString ? JSON.stringify(md) : md }));
	const fieldDefects = materials.fields.map((field) =>
		fc.tuple(fc.constantFrom(field.column, field.st), badValueFor(field)).map(([key, value]) => ({ key, value, column: field.column })),
	);
	return fc.oneof(
		...bodyDefects(validBody, ['resolution', 'resolvedBy', 'mergedData']).map((arb) => arb.map((c) => ({ ...c, params }))),
		fc.tuple(validBody, badIdAnyType).map(([body, id]) => ({
			defect: 'bad conflict id',
			params: { id },
			body,
			status: 400 as const,
			field: 'id',
			mentions: 'id must be a positive whole number',
		})),
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
				.tuple(
					validBody,
					fc.oneof(
						fc.constantFrom('USE_ST', 'use-st', 'useLocal', 'st', 'local', 'merge', 'use_st ', '', 'use_\u200Bst'),
						hostileText,
						fc.integer(),
						fc.constant(null),
						fc.constant(['use_st']),
					),
				)
				.map(([body, resolution]) => ({ ...body, resolution })),
			{ status: 400, field: 'resolution', mentions: 'resolution must be one of' },
		),
		withBody(
			'resolution missing',
			validBody.map(({ resolution: _r, ...body }) => body),
			{ status: 400, field: 'resolution', mentions: 'resolution must be one of' },
		),
		withBody(
			'resolvedBy missing',
			validBody.map(({ resolvedBy: _b, ...body }) => body),
			resolvedByWrong,
		),
		withBody(
			'resolvedBy blank or not text',
			fc
				.tuple(
					validBody,
					fc.oneof(
						fc.constantFrom('', ' ', '\t\n', '\u00A0', '\u3000', '\uFEFF', '\u2003'),
						fc.integer(),
						fc.constant(null),
						fc.boolean(),
						fc.constant(['ann']),
					),
				)
				.map(([b, by]) => ({ ...b, resolvedBy: by })),
			resolvedByWrong,
		),
		withBody(
			'resolvedBy longer than 200',
			fc
				.tuple(validBody, fc.constantFrom(...HOSTILE, 'ann@perfectcatch '), fc.integer({ min: 201, max: 5000 }))
				.map(([b, unit, length]) => ({ ...b, resolvedBy: unit.repeat(Math.ceil(length / unit.length)) })),
			resolvedByWrong,
		),
		withBody(
			'mergedData not JSON',
			fc
				.tuple(
					validBody,
					fc.oneof(
						fc.constantFrom(
							'{price: 1}',
							"{'price': 1}",
							'{"price": 1',
							'{"price": 1,}',
							'NaN',
							'',
							'\uFEFF{"price": 1}',
							'undefined',
							'{"price": 1}\'; DROP TABLE sync_conflicts; --',
						),
						hostileText,
					),
				)
				.filter(([, text]) => !parses(text))
				.map(([b, text]) => ({ ...b, mergedData: text })),
			{ status: 400, field: 'mergedData', mentions: 'mergedData is not valid JSON' },
		),
		withBody(
			'mergedData without merged',
			fc
				.tuple(someName, fc.constantFrom('use_st', 'use_local'), fc.oneof(merged, fc.constant(null), fc.constant({})))
				.map(([by, resolution, mergedData]) => ({ resolution, resolvedBy: by, mergedData })),
			{ status: 400, field: 'mergedData', mentions: 'mergedData is only allowed when resolution is merged' },
		),
		withBody(
			'merged without mergedData',
			someName.map((by) => ({ resolution: 'merged', resolvedBy: by })),
			{ status: 400, field: 'mergedData', mentions: 'mergedData is required' },
		),
		mergedBody(fc.oneof(fc.constantFrom(42, null, true, [{ price: 320 }]), fc.array(smallJson, { maxLength: 2 }))).map((body) => ({
			defect: 'mergedData not an object',
			params,
			body,
			status: 400 as const,
			field: 'mergedData',
			mentions: 'mergedData: expected an object of field values',
		})),
		fc
			.tuple(
				unknownKey([]).filter((k) => !isMaterialsField(k)),
				smallJson,
			)
			.chain(([key, value]) => mergedBody(fc.constant({ price: 320, [key]: value })).map((body) => ({ key, body })))
			.map(({ key, body }) => ({
				defect: 'mergedData unknown field',
				params,
				body,
				status: 400 as const,
				field: `mergedData.${key}`,
				mentions: `mergedData.${key}`,
			})),
		{
			// Every synced field has its own wrong values: weighted so each field is tried several times.
			weight: 5,
			arbitrary: fc
				.oneof(...fieldDefects)
				.chain((d) => mergedBody(fc.constant({ price: 320, [d.key]: d.value })).map((body) => ({ d, body })))
				.map(({ d, body }) => ({
					defect: `mergedData.${d.column} wrong type`,
					params,
					body,
					status: 400 as const,
					field: `mergedData.${d.column}`,
					mentions: `mergedData.${d.column}`,
				})),
		},
		mergedBody(
			fc.oneof(
				fc.constant({}),
				someName.map((name) => ({ display_name: name })),
				someName.map((text) => ({ description: text })),
			),
		).map((body) => ({
			defect: 'mergedData leaves the conflicting field open',
			params,
			body,
			status: 400 as const,
			field: 'mergedData.price',
			mentions: 'mergedData must choose a value for price',
		})),
	);
}
