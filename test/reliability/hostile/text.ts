import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../../lib/api/requests';

// Hostile text: what attackers, copy-paste from spreadsheets and other keyboards send.

export const SQL = [
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
export const UNICODE = [
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
export const HOSTILE = [...SQL, ...UNICODE, ...INJECTION];

export const hostileText: fc.Arbitrary<string> = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
	{ weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
	{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
	{ weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE), fc.constantFrom(...HOSTILE)).map(([a, b]) => a + b) },
);
/** Command-line arguments cannot hold a NUL (exec passes C strings). */
export const argText = hostileText.filter((s) => !s.includes('\u0000'));
/** Fine as resolvedBy or --by: not blank, at most 200 characters, no NUL. */
export const someName = argText.filter((s) => s.trim() !== '' && s.length <= 200);

/** Text longer than the webhooks take (MAX_BODY_BYTES), of one repeated hostile unit. */
export const hugeText = fc
	.tuple(fc.constantFrom('x', ...SQL, ...UNICODE), fc.integer({ min: MAX_BODY_BYTES + 1, max: 3 * MAX_BODY_BYTES }))
	.map(([unit, size]) => unit.repeat(Math.ceil(size / unit.length)));

export const smallJson = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

export function parses(text: string): boolean {
	try {
		JSON.parse(text);
		return true;
	} catch {
		return false;
	}
}
