import {
	canonicalFromRow,
	canonicalFromSt,
	differingFields,
	FieldValueError,
	parseUserValues,
	patchBodyFromCanonical,
	rowValuesFromCanonical,
	stExtraData,
} from '../../lib/entities/canonical';
import { canonicalDecimal } from '../../lib/entities/decimal';
import { categoriesDef, materials, services } from '../../lib/entities/definitions';
import { checkStRecord } from '../../lib/entities/validate';
import { suggestMerge } from '../../lib/sync/merge';

describe('canonicalDecimal', () => {
	it.each([
		[10, '10'],
		['10.00', '10'],
		[12.5, '12.5'],
		['0012.50', '12.5'],
		[0, '0'],
		['-0.00', '0'],
		[-3.25, '-3.25'],
		[1e-7, '0.0000001'],
		[1234567.891, '1234567.891'],
		[null, null],
	])('%p → %p', (input, expected) => {
		expect(canonicalDecimal(input)).toBe(expected);
	});

	it.each([[NaN], [Infinity], ['12,5'], ['abc'], [true], [{}]])('refuses %p', (input) => {
		expect(() => canonicalDecimal(input)).toThrow(TypeError);
	});
});

describe('services materials_included ⇄ serviceMaterials', () => {
	const st = {
		id: 1,
		code: 'SVC',
		active: true,
		categories: [
			{ id: 9, name: 'Pumps', active: true },
			{ id: 2, name: 'Filters', active: true },
		],
		serviceMaterials: [
			{ skuId: 9404, quantity: 2 },
			{ skuId: 8203, quantity: 1.5 },
		],
		price: 100,
	};

	it('canonicalizes category objects to sorted ids and material lines sorted by id', () => {
		const c = canonicalFromSt(services, st);
		expect(c.categories).toEqual([2, 9]);
		expect(c.materials_included).toEqual([
			{ materialId: 8203, quantity: '1.5' },
			{ materialId: 9404, quantity: '2' },
		]);
	});

	it('round-trips through the local row and back into a PATCH body', () => {
		const c = canonicalFromSt(services, st);
		const row = rowValuesFromCanonical(services, c);
		expect(row.materials_included).toEqual([
			{ materialId: 8203, quantity: 1.5 },
			{ materialId: 9404, quantity: 2 },
		]);
		expect(canonicalFromRow(services, { ...row, price: '100.00' })).toEqual(c);
		expect(JSON.parse(JSON.stringify(patchBodyFromCanonical(services, c, ['materials_included', 'price', 'categories'])))).toEqual({
			price: 100,
			categories: [2, 9],
			serviceMaterials: [
				{ skuId: 8203, quantity: 1.5 },
				{ skuId: 9404, quantity: 2 },
			],
		});
	});

	it('sees a changed quantity as a change of the one field materials_included', () => {
		const a = canonicalFromSt(services, st);
		const b = canonicalFromSt(services, {
			...st,
			serviceMaterials: [
				{ skuId: 9404, quantity: 3 },
				{ skuId: 8203, quantity: 1.5 },
			],
		});
		expect(differingFields(services, a, b)).toEqual(['materials_included']);
	});
});

describe('checkStRecord', () => {
	const good = { id: 5, code: 'M-5', active: true, price: 1, modifiedOn: '2024-01-02T03:04:05.1234567Z', categories: [1] };

	it('accepts a well-formed record and keeps full timestamp precision', () => {
		const check = checkStRecord(materials, good);
		expect(check).toMatchObject({ ok: true, id: 5, modifiedOn: '2024-01-02T03:04:05.1234567Z' });
	});

	it.each([
		[{ ...good, id: -1 }, /id/],
		[{ ...good, id: 'x' }, /id/],
		[{ ...good, code: '' }, /code: required/],
		[{ ...good, price: 'lots' }, /price/],
		[{ ...good, active: 'yes' }, /active/],
		[{ ...good, modifiedOn: 'yesterday' }, /modifiedOn/],
		[{ ...good, categories: ['a'] }, /categories/],
	])('rejects %p with a reason naming the field', (record, reason) => {
		const check = checkStRecord(materials, record);
		expect(check.ok).toBe(false);
		if (!check.ok) expect(check.problems.join('; ')).toMatch(reason);
	});

	it('checks category type values', () => {
		const check = checkStRecord(categoriesDef, { id: 1, name: 'Pumps', active: true, categoryType: 'Gadgets', modifiedOn: '2024-01-01T00:00:00Z' });
		expect(check.ok).toBe(false);
	});
});

describe('stExtraData', () => {
	it('keeps every ServiceTitan field that is not a synced column', () => {
		const extra = stExtraData(materials, { id: 1, code: 'x', primaryVendor: { vendorName: 'CED' }, modifiedOn: 't', price: 1 });
		expect(extra).toEqual({ primaryVendor: { vendorName: 'CED' }, modifiedOn: 't' });
	});
});

describe('parseUserValues', () => {
	it('accepts column or ServiceTitan names and canonicalizes', () => {
		expect(parseUserValues(materials, { price: '12.50', displayName: 'Pipe' })).toEqual({ price: '12.5', display_name: 'Pipe' });
	});

	it.each([
		[{ bogus: 1 }, 'bogus'],
		[{ price: 'cheap' }, 'price'],
		[{ price: true }, 'price'],
		[{ active: 'yes' }, 'active'],
		[{ code: '' }, 'code'],
		[{ member_price: 5, memberPrice: 5 }, 'member_price'],
		[{ displayName: 'A', display_name: 'B' }, 'display_name'],
		[[1, 2], 'mergedData'],
		['text', 'mergedData'],
	])('refuses %p naming %s', (input, field) => {
		try {
			parseUserValues(materials, input);
			throw new Error('accepted');
		} catch (error) {
			expect(error).toBeInstanceOf(FieldValueError);
			expect((error as FieldValueError).field).toBe(field);
		}
	});

	it('refuses one field named by both its names, naming both keys, even with equal values', () => {
		expect(() => parseUserValues(materials, { price: 1, member_price: '5.00', memberPrice: 5 })).toThrow(
			'member_price: named twice, as "member_price" and as "memberPrice"; give each field once',
		);
	});
});

describe('suggestMerge', () => {
	const base = canonicalFromSt(materials, { id: 1, code: 'M', active: true, price: 10, description: 'old' });

	it('takes each field from the side that changed it and leaves true clashes to a person', () => {
		const st = { ...base, description: 'new in ST', cost: '5' };
		const local = { ...base, price: '12.5', cost: '6' };
		const merge = suggestMerge(materials, base, st, local);
		expect(merge.suggestion).toBe(true);
		expect(merge.values).toMatchObject({ description: 'new in ST', price: '12.5', cost: '6' });
		expect(merge.takenFrom).toMatchObject({ description: 'st', price: 'local' });
		expect(merge.unresolvedFields).toEqual(['cost']);
		expect(merge.complete).toBe(false);
	});

	it('without a base attributes nothing', () => {
		const merge = suggestMerge(materials, null, { ...base, price: '11' }, { ...base, price: '12' });
		expect(merge.unresolvedFields).toEqual(['price']);
	});
});

describe('text PostgreSQL cannot store', () => {
	it('a NUL character in a ServiceTitan record makes it invalid (skipped and logged), not a failed run', () => {
		const check = checkStRecord(materials, { id: 7, modifiedOn: '2024-12-10T10:00:00Z', code: 'A', active: true, description: 'pump\u0000seal' });
		expect(check).toMatchObject({ ok: false, problems: [expect.stringMatching(/NUL/)] });
		const hidden = checkStRecord(materials, {
			id: 7,
			modifiedOn: '2024-12-10T10:00:00Z',
			code: 'A',
			active: true,
			primaryVendor: { vendorName: 'x\u0000' },
		});
		expect(hidden).toMatchObject({ ok: false, problems: [expect.stringMatching(/NUL/)] });
		// The six characters \u0000 written out are ordinary text.
		expect(
			checkStRecord(materials, { id: 7, modifiedOn: '2024-12-10T10:00:00Z', code: 'A', active: true, description: 'literal \\u0000 text' }),
		).toMatchObject({ ok: true });
	});

	it("a NUL character in a person's merged values is refused, naming the field", () => {
		expect(() => parseUserValues(materials, { description: 'a\u0000b' })).toThrow(/description: must not contain NUL/);
	});
});
