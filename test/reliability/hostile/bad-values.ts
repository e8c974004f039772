import fc from 'fast-check';
import { entityDefinition } from '../../../lib/entities/definitions';
import type { FieldDef } from '../../../lib/entities/types';
import { ENTITY_TYPES } from '../../../lib/servicetitan/types';
import { argText, hostileText, smallJson } from './text';

// Values each invalid by construction, for the fields webhooks and commands share: flags, entity types, ids,
// bodies, keys and the synced fields of merged data.

export const notBoolean: fc.Arbitrary<unknown> = fc.oneof(
	fc.constantFrom('true', 'false', 'yes', 'no', '1', '0', '', 'on'),
	fc.integer(),
	fc.constant(null),
	fc.array(fc.boolean(), { maxLength: 2 }),
	fc.constant({ value: true }),
	hostileText,
);

export const VALID_TYPES: readonly string[] = ['all', ...ENTITY_TYPES];
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
export const badEntityTypeText = fc.oneof(entityTypeLookalike, argText).filter((v) => !VALID_TYPES.includes(v));
export const badEntityType: fc.Arbitrary<unknown> = fc.oneof(
	{ weight: 4, arbitrary: badEntityTypeText },
	fc.integer(),
	fc.boolean(),
	fc.constant(null),
	fc.constantFrom(...ENTITY_TYPES).map((t) => [t]),
	fc.constantFrom(...ENTITY_TYPES).map((t) => ({ type: t })),
);

/** Ids that are not positive whole numbers of at most 15 digits, each invalid by construction. */
export const badIdText: fc.Arbitrary<string> = fc.oneof(
	fc.integer({ min: -1_000_000_000, max: 0 }).map(String),
	fc.constantFrom('0', '00', '000000', '', 'NaN', 'Infinity', '-Infinity', 'null', 'undefined', '٣', '⑫', '１２'),
	fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 99 })).map(([a, b]) => `${a}.${b}`),
	fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n }).map(String),
	fc
		.integer({ min: 1, max: 1_000_000 })
		.chain((n) =>
			fc.constantFrom(
				` ${n}`,
				`${n} `,
				`${n}\n`,
				`+${n}`,
				`0x${n.toString(16)}`,
				`${n}e2`,
				`１${n}`,
				`${n}١`,
				`${n}; DROP TABLE pricebook_materials`,
				`${n} OR 1=1`,
				`${n}'`,
				`${n}\u200B`,
				`${n},5`,
			),
		),
	argText.filter((s) => !/^\d+$/.test(s)),
);
export const badIdAnyType: fc.Arbitrary<unknown> = fc.oneof(
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

export const notAnObjectBody: fc.Arbitrary<unknown> = fc
	.oneof(
		fc.array(smallJson, { maxLength: 3 }),
		fc.integer(),
		fc.double({ noNaN: true, noDefaultInfinity: true }),
		fc.boolean(),
		fc.constantFrom(
			'{not json',
			"{'entityType': 'all'}",
			'{"entityType": "all"',
			'{"dryRun": true,}',
			'[1, 2]',
			'42',
			'true',
			'entityType=all',
			'<xml/>',
			'\uFEFF{}',
		),
		hostileText,
	)
	.filter((b) => !readsAsObject(b));

/** Keys a body must not have: near misses of the allowed ones, other endpoints' keys, hostile text. */
export function unknownKey(allowed: readonly string[]): fc.Arbitrary<string> {
	const nearMisses = allowed.flatMap((k) => [k.toUpperCase(), k.toLowerCase(), k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), `${k} `, `${k}\u200B`]);
	return fc
		.oneof(
			fc.constantFrom(...nearMisses, 'entity_type', 'type', 'id', 'force', 'confirmMassDelete', 'since', 'dryRun', 'resolution', '$where', 'constructor'),
			hostileText,
		)
		.filter((k) => !allowed.includes(k) && k !== '__proto__');
}

export const materials = entityDefinition('materials');
export const isMaterialsField = (key: string) => materials.fields.some((f) => f.column === key || f.st === key);
const DECIMAL_TEXT = /^\s*[+-]?\d+(\.\d+)?\s*$/;

/** Values that do not fit a field of its kind (for mergedData). */
export function badValueFor(field: FieldDef): fc.Arbitrary<unknown> {
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

/** A new row's temporary id (negative, at most 15 digits): valid where an item's id is asked for (entity runs). */
function isTemporaryId(value: unknown): boolean {
	if (typeof value === 'number') return Number.isSafeInteger(value) && value < 0 && String(-value).length <= 15;
	return typeof value === 'string' && /^-\d{1,15}$/.test(value) && Number(value) !== 0;
}

/** Item ids that are neither ServiceTitan's (positive) nor a new row's temporary id (negative), each invalid by construction. */
export const badEntityIdText: fc.Arbitrary<string> = badIdText.filter((text) => !isTemporaryId(text));
export const badEntityIdAnyType: fc.Arbitrary<unknown> = badIdAnyType.filter((value) => !isTemporaryId(value));
