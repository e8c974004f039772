import {
	compareStTimestamps,
	isStTimestamp,
	normalizeStTimestamp,
	stTimestampToPg,
	StTimestampError,
	subtractSeconds,
} from '../../../lib/servicetitan/timestamps';

describe('normalizeStTimestamp', () => {
	it.each([
		['2026-03-16T10:54:58Z', '2026-03-16T10:54:58.0000000Z'],
		['2026-03-16T10:54:58.1Z', '2026-03-16T10:54:58.1000000Z'],
		['2026-03-16T10:54:58.12Z', '2026-03-16T10:54:58.1200000Z'],
		['2026-03-16T10:54:58.123Z', '2026-03-16T10:54:58.1230000Z'],
		['2026-03-16T10:54:58.1234Z', '2026-03-16T10:54:58.1234000Z'],
		['2026-03-16T10:54:58.12345Z', '2026-03-16T10:54:58.1234500Z'],
		['2026-03-16T10:54:58.123456Z', '2026-03-16T10:54:58.1234560Z'],
		['2021-07-19T20:35:38.2876004Z', '2021-07-19T20:35:38.2876004Z'],
	])('reads %s (0 to 7 fractional digits) as %s', (input, expected) => {
		expect(normalizeStTimestamp(input)).toBe(expected);
	});

	it('reads a missing zone as UTC and converts offsets to UTC', () => {
		expect(normalizeStTimestamp('2024-01-31T12:00:00.5')).toBe('2024-01-31T12:00:00.5000000Z');
		expect(normalizeStTimestamp('2024-01-31T14:00:00.0000001+02:00')).toBe('2024-01-31T12:00:00.0000001Z');
		expect(normalizeStTimestamp('2024-01-01T01:30:00-05:30')).toBe('2024-01-01T07:00:00.0000000Z');
	});

	it.each(['', 'yesterday', '2024-01-31', '2024-02-30T00:00:00Z', '2024-01-31T24:00:00Z', '2024-01-31T12:00:00.12345678Z', '2024-13-01T00:00:00Z'])(
		'refuses %j with a clear error',
		(input) => {
			expect(() => normalizeStTimestamp(input)).toThrow(StTimestampError);
			expect(() => normalizeStTimestamp(input)).toThrow(/Invalid ServiceTitan timestamp/);
		},
	);

	it('refuses non-strings', () => {
		expect(() => normalizeStTimestamp(undefined as unknown as string)).toThrow(/expected a string/);
		expect(isStTimestamp(42)).toBe(false);
		expect(isStTimestamp('2024-01-31T12:00:00Z')).toBe(true);
	});
});

describe('ordering', () => {
	const values = [
		'2024-05-01T10:00:00.0000001Z',
		'2024-05-01T10:00:00Z',
		'2024-05-01T10:00:00.0000011Z',
		'2024-05-01T09:59:59.9999999Z',
		'2024-05-01T10:00:00.000001Z',
		'2024-05-01T10:00:00.001Z',
	];

	it('normalized strings sort in time order, beyond millisecond precision', () => {
		const sorted = values.map(normalizeStTimestamp).sort();
		expect(sorted).toEqual([
			'2024-05-01T09:59:59.9999999Z',
			'2024-05-01T10:00:00.0000000Z',
			'2024-05-01T10:00:00.0000001Z',
			'2024-05-01T10:00:00.0000010Z',
			'2024-05-01T10:00:00.0000011Z',
			'2024-05-01T10:00:00.0010000Z',
		]);
	});

	it('compareStTimestamps compares at 100 ns whatever the digit count', () => {
		expect(compareStTimestamps('2024-05-01T10:00:00Z', '2024-05-01T10:00:00.0000000Z')).toBe(0);
		expect(compareStTimestamps('2024-05-01T10:00:00.1Z', '2024-05-01T10:00:00.0999999Z')).toBe(1);
		expect(compareStTimestamps('2024-05-01T10:00:00.0000001Z', '2024-05-01T10:00:00.0000002Z')).toBe(-1);
		// Same millisecond, different ticks: a Date-based comparison would call these equal.
		expect(new Date('2024-05-01T10:00:00.0011Z').getTime()).toBe(new Date('2024-05-01T10:00:00.0019Z').getTime());
		expect(compareStTimestamps('2024-05-01T10:00:00.0011Z', '2024-05-01T10:00:00.0019Z')).toBe(-1);
	});
});

describe('stTimestampToPg', () => {
	it('gives microseconds, cutting (never rounding up) the 7th digit', () => {
		expect(stTimestampToPg('2021-07-19T20:35:38.2876004Z')).toBe('2021-07-19T20:35:38.287600Z');
		expect(stTimestampToPg('2021-07-19T20:35:38.9999999Z')).toBe('2021-07-19T20:35:38.999999Z');
		expect(stTimestampToPg('2026-03-16T10:54:58Z')).toBe('2026-03-16T10:54:58.000000Z');
		expect(stTimestampToPg('2026-03-16T10:54:58.12Z')).toBe('2026-03-16T10:54:58.120000Z');
	});

	it('is an ISO string a JS Date (and PostgreSQL) reads as the same instant to the millisecond', () => {
		const pg = stTimestampToPg('2021-07-19T20:35:38.2876004Z');
		expect(new Date(pg).toISOString()).toBe('2021-07-19T20:35:38.287Z');
	});
});

describe('subtractSeconds', () => {
	it('subtracts whole and fractional seconds at full precision', () => {
		expect(subtractSeconds('2024-05-01T10:00:00.0000001Z', 300)).toBe('2024-05-01T09:55:00.0000001Z');
		expect(subtractSeconds('2024-05-01T10:00:00Z', 0.0000001)).toBe('2024-05-01T09:59:59.9999999Z');
		expect(subtractSeconds('2024-01-01T00:00:00.5Z', 1)).toBe('2023-12-31T23:59:59.5000000Z');
	});

	it('refuses negative or non-finite amounts', () => {
		expect(() => subtractSeconds('2024-05-01T10:00:00Z', -1)).toThrow(RangeError);
		expect(() => subtractSeconds('2024-05-01T10:00:00Z', Number.NaN)).toThrow(RangeError);
	});
});
