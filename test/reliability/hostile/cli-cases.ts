import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { commands } from '../../../cli/main';
import { ENTITY_TYPES } from '../../../lib/servicetitan/types';
import { DEFAULT_VENDORS } from '../../../lib/vendor/config';
import { badEntityIdText, badEntityTypeText, badIdText, badValueFor, materials } from './bad-values';
import type { CliCase } from './cli';
import { argText, HOSTILE, parses, someName } from './text';

// Generated command lines each command must refuse with exit code 2, and what its message must name.

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
		.oneof(
			fc.constantFrom(...Object.keys(flags).flatMap((f) => [f.toUpperCase(), f.replace(/-/g, '_'), `${f}s`, `no-${f}`]), 'force', 'verbose', 'yes', 'h'),
			argText,
		)
		// `in` also skips the names of Object.prototype (constructor, toString): they have a test of their own.
		.filter((o) => o !== '' && !o.includes('=') && !(o in flags) && o !== 'help');
	const defects = [
		fc.tuple(prefix, unknownOption).map(([argv, o]) => ({ defect: 'unknown option', argv: [name, ...argv, `--${o}`], mentions: `unknown option --${o}` })),
	];
	if (booleans.length > 0) {
		defects.push(
			fc
				.tuple(prefix, fc.constantFrom(...booleans), argText)
				.map(([argv, f, v]) => ({ defect: 'value for a switch', argv: [name, ...argv, `--${f}=${v}`], mentions: `--${f} takes no value` })),
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

export function runCommandCases(name: 'full' | 'incremental'): fc.Arbitrary<CliCase> {
	const valid = switches(name, ['--json', '--dry-run']);
	return fc.oneof(
		...syntaxDefects(name, valid),
		fc.tuple(valid, option('entity', badEntityTypeText)).map(([s, o]) => ({
			defect: 'bad --entity',
			argv: [name, ...s, ...o],
			mentions: '--entity must be services, materials, equipment, categories or all',
		})),
		fc.tuple(valid, positional(argText)).map(([s, p]) => ({ defect: 'unexpected argument', argv: [name, p, ...s], mentions: `unexpected argument ${p}` })),
		...(name === 'incremental'
			? [
					fc
						.tuple(
							valid,
							option(
								'since',
								argText.filter((s) => Number.isNaN(Date.parse(s))),
							),
						)
						.map(([s, o]) => ({ defect: 'bad --since', argv: [name, ...s, ...o], mentions: '--since must be an ISO-8601 time' })),
				]
			: []),
	);
}

export function entityCommandCases(validIds: number[]): fc.Arbitrary<CliCase> {
	const type = fc.constantFrom(...ENTITY_TYPES);
	const id = fc.constantFrom(...validIds).map(String);
	const valid = switches('entity', ['--json', '--dry-run']);
	const shape = 'expected an entity type and an id';
	return fc.oneof(
		...syntaxDefects(
			'entity',
			fc.tuple(type, id).map(([t, i]) => [t, i]),
		),
		fc.tuple(badEntityArg, id, valid).map(([t, i, s]) => ({ defect: 'bad type', argv: ['entity', t, i, ...s], mentions: 'entity type must be' })),
		fc
			.tuple(type, positional(badEntityIdText), valid)
			.map(([t, i, s]) => ({ defect: 'bad id', argv: ['entity', t, i, ...s], mentions: 'id must be a whole number other than 0' })),
		fc.tuple(fc.constantFrom([], ['materials']), valid).map(([p, s]) => ({ defect: 'arguments missing', argv: ['entity', ...p, ...s], mentions: shape })),
		fc
			.tuple(type, id, positional(argText), valid)
			.map(([t, i, extra, s]) => ({ defect: 'extra argument', argv: ['entity', t, i, extra, ...s], mentions: shape })),
	);
}

export function resolveCommandCases(conflictId: number): fc.Arbitrary<CliCase> {
	const id = String(conflictId);
	const by = option('by', someName);
	const decided = fc.oneof(
		fc.tuple(fc.constantFrom('use_st', 'use_local'), by).map(([r, b]) => [`--resolution=${r}`, ...b]),
		fc
			.tuple(by, fc.constantFrom('{"price": 320}', '{"price": "320.5", "display_name": "Chosen"}'))
			.map(([b, md]) => ['--resolution', 'merged', ...b, `--merged-data=${md}`]),
	);
	const merged = (mergedData: fc.Arbitrary<string>) => fc.tuple(by, mergedData).map(([b, md]) => [id, '--resolution=merged', ...b, `--merged-data=${md}`]);
	const fieldDefects = materials.fields.map((field) =>
		fc
			.tuple(fc.constantFrom(field.column, field.st), badValueFor(field))
			.map(([key, value]) => ({ json: JSON.stringify({ price: 320, [key]: value }), column: field.column })),
	);
	return fc.oneof(
		...syntaxDefects(
			'resolve',
			decided.map((d) => [id, ...d]),
		),
		fc
			.tuple(positional(badIdText), decided)
			.map(([i, d]) => ({ defect: 'bad conflict id', argv: ['resolve', i, ...d], mentions: 'conflict id must be a positive whole number' })),
		fc
			.tuple(fc.constantFrom<string[]>([], [id, id], [id, 'extra']), decided)
			.map(([p, d]) => ({ defect: 'not one conflict id', argv: ['resolve', ...p, ...d], mentions: 'expected one conflict id' })),
		by.map((b) => ({ defect: '--resolution missing', argv: ['resolve', id, ...b], mentions: '--resolution is required' })),
		fc
			.tuple(
				option(
					'resolution',
					fc.oneof(
						fc.constantFrom('USE_ST', 'use-st', 'merge', 'st', 'use_st '),
						argText.filter((s) => s !== ''),
					),
				),
				by,
			)
			.filter(([r]) => !['use_st', 'use_local', 'merged'].includes(r[r.length - 1].replace(/^--resolution=/, '')))
			.map(([r, b]) => ({ defect: 'bad --resolution', argv: ['resolve', id, ...r, ...b], mentions: '--resolution must be one of' })),
		fc
			.tuple(fc.constantFrom('use_st', 'use_local'), fc.constantFrom([], ['--by='], ['--by', ' '], ['--by=\t\n'], ['--by=\u00A0\u3000']))
			.map(([r, b]) => ({ defect: '--by missing or blank', argv: ['resolve', id, `--resolution=${r}`, ...b], mentions: '--by is required' })),
		fc
			.tuple(fc.constantFrom('use_st', 'use_local'), fc.constantFrom(...HOSTILE.filter((s) => s.trim() !== '')), fc.integer({ min: 201, max: 2000 }))
			.map(([r, unit, n]) => ({
				defect: '--by longer than 200',
				argv: ['resolve', id, `--resolution=${r}`, `--by=${unit.repeat(Math.ceil(n / unit.length))}`],
				mentions: '(field resolvedBy)',
			})),
		merged(fc.oneof(fc.constantFrom('{price: 1}', "{'price': 1}", '{"price": 1', ''), argText).filter((s) => !parses(s))).map((argv) => ({
			defect: '--merged-data not JSON',
			argv: ['resolve', ...argv],
			mentions: '--merged-data is not valid JSON',
		})),
		fc.tuple(fc.constantFrom('use_st', 'use_local'), by, fc.constantFrom('{"price": 320}', '{}', 'null')).map(([r, b, md]) => ({
			defect: '--merged-data without merged',
			argv: ['resolve', id, `--resolution=${r}`, ...b, `--merged-data=${md}`],
			mentions: '(field mergedData)',
		})),
		by.map((b) => ({ defect: 'merged without --merged-data', argv: ['resolve', id, '--resolution=merged', ...b], mentions: 'mergedData is required' })),
		merged(fc.constantFrom('42', '"price"', '[{"price": 320}]', 'true', 'null')).map((argv) => ({
			defect: '--merged-data not an object',
			argv: ['resolve', ...argv],
			mentions: '(field mergedData)',
		})),
		{
			weight: 3,
			arbitrary: fc.oneof(...fieldDefects).chain((d) =>
				merged(fc.constant(d.json)).map((argv) => ({
					defect: `mergedData.${d.column} wrong type`,
					argv: ['resolve', ...argv],
					mentions: `(field mergedData.${d.column})`,
				})),
			),
		},
		merged(fc.constantFrom('{}', '{"display_name": "only the name"}')).map((argv) => ({
			defect: 'merged leaves price open',
			argv: ['resolve', ...argv],
			mentions: '(field mergedData.price)',
		})),
	);
}

export function reportingCases(name: 'conflicts' | 'status' | 'logs' | 'migrate'): fc.Arbitrary<CliCase> {
	const valid = switches(name, ['--json', '--all', '--changes']);
	const specific: fc.Arbitrary<CliCase>[] = [];
	if (name === 'conflicts' || name === 'logs') {
		specific.push(
			fc.tuple(valid, option('entity', badEntityTypeText)).map(([s, o]) => ({
				defect: 'bad --entity',
				argv: [name, ...s, ...o],
				mentions: '--entity must be services, materials, equipment or categories',
			})),
		);
	}
	if (name === 'logs') {
		const unparseable = argText.filter((s) => Number.isNaN(Date.parse(s)));
		specific.push(
			fc
				.tuple(
					valid,
					option(
						'status',
						argText.filter((s) => !['running', 'succeeded', 'failed', 'busy'].includes(s)),
					),
				)
				.map(([s, o]) => ({ defect: 'bad --status', argv: [name, ...s, ...o], mentions: '--status must be' })),
			fc
				.tuple(valid, fc.constantFrom('since', 'until'), unparseable)
				.chain(([s, f, v]) =>
					option(f, fc.constant(v)).map((o) => ({ defect: `bad --${f}`, argv: [name, ...s, ...o], mentions: `--${f} must be an ISO-8601 time` })),
				),
			fc
				.tuple(
					valid,
					option(
						'limit',
						fc.oneof(fc.constantFrom('-1', '1.5', '1e3', ' 5', '0x10', '1234567', '', '١٢'), argText).filter((s) => !/^\d{1,6}$/.test(s)),
					),
				)
				.map(([s, o]) => ({ defect: 'bad --limit', argv: [name, ...s, ...o], mentions: '--limit must be a whole number' })),
			fc
				.constantFrom(['--csv', '--json'], ['--json', '--csv', '--changes'])
				.map((f) => ({ defect: '--csv with --json', argv: [name, ...f], mentions: 'choose one of --csv and --json' })),
		);
	}
	return fc.oneof(...syntaxDefects(name, valid), ...specific);
}

/** Vendor names ServiceTitan and the defaults do not know (JavaScript's own property names are their own test). */
const unknownVendor = argText.filter((v) => !Object.hasOwn(DEFAULT_VENDORS, v.toLowerCase()) && !(v.toLowerCase() in {}));

export function vendorCases(dir: string): fc.Arbitrary<CliCase> {
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
		fc
			.oneof(fc.constantFrom('{ced: {}}', '{"ced": ', ''), argText)
			.filter((s) => !parses(s))
			.map((s) => ({ content: s, mentions: 'is not valid JSON' })),
		fc.constantFrom('[]', '42', '"ced"').map((s) => ({ content: s, mentions: 'must be a JSON object keyed by vendor' })),
		fc
			.constantFrom('CED', 'Pool 360', "x'; DROP TABLE vendor_prices; --", '🐟')
			.map((k) => ({ content: JSON.stringify({ [k]: {} }), mentions: `vendor key "${k}"` })),
		fc
			.constantFrom('[]', '""', '[""]', '[1]', '{}')
			.map((v) => ({ content: `{"ced": {"columns": {"sku": ${v}}}}`, mentions: 'ced.columns.sku must be a column name' })),
		fc.constant({ content: '{"newvendor": {"columns": {"sku": "SKU"}}}', mentions: 'newvendor.columns needs at least sku and price' }),
		fc.constant({ content: '{"newvendor": {"columns": {"sku": "SKU", "price": "Price"}}}', mentions: 'newvendor.stVendorNames is required' }),
	);
	const badUrl = fc
		.oneof(
			fc.constantFrom(
				'ftp://vendor.example/feed.csv',
				'file:///etc/passwd',
				'javascript:alert(1)',
				'data:text/csv,SKU,Price',
				'postgres://x@y/z',
				'vendor.example/feed.csv',
				'//vendor.example/feed.csv',
			),
			argText,
		)
		.filter((u) => {
			try {
				return !/^https?:$/.test(new URL(u).protocol);
			} catch {
				return true;
			}
		});
	return fc.oneof(
		...syntaxDefects(name, fc.constant(base)),
		fc
			.oneof(
				fc.constant([]),
				positional(argText.filter((a) => a !== 'import')).map((a) => [a]),
				fc.constant(['import', 'now']),
			)
			.map((p) => ({
				defect: 'not the import action',
				argv: [name, ...p, '--vendor=ced', `--file=${feed}`],
				mentions: 'the only action is "import"',
			})),
		fc.constant<CliCase>({ defect: '--vendor missing', argv: [name, 'import', `--file=${feed}`], mentions: '--vendor is required' }),
		unknownVendor.chain((v) =>
			option('vendor', fc.constant(v)).map((o) => ({
				defect: 'unknown vendor',
				argv: [name, 'import', ...o, `--file=${feed}`],
				mentions: `unknown vendor "${v}"`,
			})),
		),
		fc
			.constantFrom<string[]>([], [`--file=${feed}`, '--url=https://vendor.example/feed.csv'])
			.map((f) => ({ defect: 'not exactly one source', argv: [name, 'import', '--vendor=ced', ...f], mentions: 'give exactly one of --file and --url' })),
		option(
			'format',
			argText.filter((f) => f !== 'csv' && f !== 'json'),
		).map((o) => ({ defect: 'bad --format', argv: [name, ...base, ...o], mentions: '--format must be csv or json' })),
		option(
			'timeout',
			fc.oneof(fc.constantFrom('-1', '1.5', '60s', '123456', ''), argText).filter((t) => !/^\d{1,5}$/.test(t)),
		).map((o) => ({
			defect: 'bad --timeout',
			argv: [name, ...base, ...o],
			mentions: '--timeout must be a whole number of seconds',
		})),
		badMapping.map((m) => ({ defect: 'bad --mapping', argv: [name, ...base, `--mapping=${mappingFile(m.content)}`], mentions: m.mentions })),
		fc.constantFrom('missing.json', '').map((f) => ({
			defect: 'mapping file missing',
			argv: [name, ...base, `--mapping=${path.join(dir, 'no-such-dir', f)}`],
			mentions: 'cannot read the mapping file',
		})),
		fc
			.oneof(
				fc.constantFrom('no-such-feed.csv', 'no-such-dir/feed.csv'),
				argText.filter((s) => s !== '' && !s.includes('/')),
			)
			.map((f) => ({
				defect: 'feed file missing',
				argv: [name, 'import', '--vendor=ced', `--file=${path.join(dir, 'missing', f)}`],
				mentions: 'cannot read the feed file',
			})),
		badUrl.map((u) => ({ defect: 'bad --url', argv: [name, 'import', '--vendor=ced', `--url=${u}`], mentions: 'feed URL' })),
	);
}

export function startCases(): fc.Arbitrary<CliCase> {
	// A value start accepts would run the whole demo against the harness: only numbers outside 10..200000 and non-numbers.
	const badItems = fc
		.oneof(
			fc.integer({ min: -1000, max: 9 }).map(String),
			fc.integer({ min: 200_001, max: 10_000_000 }).map(String),
			fc.constantFrom('10.5', 'ten', '', 'Infinity', '1e9', '5000 items'),
			argText,
		)
		.filter((s) => {
			const n = Number(s);
			return !Number.isInteger(n) || n < 10 || n > 200_000;
		});
	return fc.oneof(
		...syntaxDefects('start', fc.constant([])),
		option('items', badItems).map((o) => ({ defect: 'bad --items', argv: ['start', ...o], mentions: '--items must be a whole number from 10 to 200000' })),
	);
}

export const unknownCommand: fc.Arbitrary<CliCase> = fc
	.oneof(fc.constantFrom(...commands.flatMap((c) => [c.name.toUpperCase(), `${c.name}s`, `--${c.name}`]), 'sync', 'drop', 'sql'), argText)
	.filter((n) => n !== '' && !['help', '--help', '-h'].includes(n) && !commands.some((c) => c.name === n))
	.map((n) => ({ defect: 'unknown command', argv: [n, '--json'], mentions: `unknown command "${n}"` }));
