import { materials, services } from '../../../lib/entities/definitions';
import { patchBodyFromCanonical } from '../../../lib/entities/canonical';
import { ExactDecimal, stringifyExact } from '../../../lib/servicetitan/exact-json';

describe('money goes to ServiceTitan as exact decimal text', () => {
	it('a price computed in SQL (cost / 0.7) is sent with every digit, not through a binary float', () => {
		const price = '14.2857142857142857142857';
		const body = patchBodyFromCanonical(materials, { price, cost: '10', display_name: 'Seal kit' } as never, ['price', 'cost', 'display_name']);
		const text = stringifyExact(body);
		expect(text).toBe('{"displayName":"Seal kit","cost":10,"price":14.2857142857142857142857}');
		// Number() would have sent 14.285714285714286.
		expect(text).not.toContain(String(Number(price)));
	});

	it('material quantities of services too, and null stays null', () => {
		const body = patchBodyFromCanonical(services, { materials_included: [{ materialId: 7, quantity: '0.333333333333333333' }], price: null } as never, [
			'materials_included',
			'price',
		]);
		expect(stringifyExact(body)).toBe('{"price":null,"serviceMaterials":[{"skuId":7,"quantity":0.333333333333333333}]}');
	});

	it('text that looks like a marker stays text; anything else serializing it gets the nearest number', () => {
		const body = { description: '__exact_deadbeef__12.5', price: new ExactDecimal('12.50') };
		expect(JSON.parse(stringifyExact(body))).toEqual({ description: '__exact_deadbeef__12.5', price: 12.5 });
		expect(JSON.stringify({ price: new ExactDecimal('1.125') })).toBe('{"price":1.125}');
		expect(() => new ExactDecimal('1e5')).toThrow(/not a plain decimal/);
	});
});
