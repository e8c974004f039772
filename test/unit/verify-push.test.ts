import { materials } from '../../lib/entities/definitions';
import { isNormalizedForm } from '../../lib/entities/equivalence';
import type { FieldDef } from '../../lib/entities/types';
import { verifyPush } from '../../lib/sync/verify-push';

const field = (column: string): FieldDef => materials.fields.find((f) => f.column === column)!;

describe('isNormalizedForm: what ServiceTitan may store instead of what it was sent', () => {
	it.each([
		['price', '12.3456', '12.35'],
		['price', '14.2857142857142857143', '14.285714285714286'],
		['price', '-1.005', '-1.01'],
		['display_name', '  Pump   seal ', 'Pump seal'],
		['description', 'Line one<BR>Line two', 'Line one<br/>Line two'],
		['description', 'A &amp; B<br>', 'A & B'],
		['description', '', null],
		// Tags stripped without a space in their place, entities decoded.
		['description', '<p>Pump Install</p><br/>Parts &amp; labor', 'Pump InstallParts & labor'],
		['description', 'Line one<BR>two', 'Line onetwo'],
	])('%s: %j stored as %j is the same value', (column, sent, stored) => {
		expect(isNormalizedForm(field(column), sent, stored)).toBe(true);
	});

	it.each([
		['price', '12.3456', '12.34'],
		['price', '12.3', '12.35'],
		['price', '12.35', '12.35'],
		['display_name', 'Pump seal', 'Pump seal kit'],
		['description', 'Line one two', 'Line onetwo'],
		['active', true, false],
	])('%s: %j stored as %j is not', (column, sent, stored) => {
		expect(isNormalizedForm(field(column), sent as never, stored as never)).toBe(false);
	});
});

describe('verifyPush: each pushed field landed, normalized, ignored or changed by someone else', () => {
	const before = { price: '10', cost: '4', description: 'Old', display_name: 'Seal' };
	it('sorts the fields and notices another field changed meanwhile', () => {
		const sent = { ...before, price: '12.3456', cost: '5', description: 'New', display_name: 'Seal' };
		const stored = { ...before, price: '12.35', cost: '4', description: 'New', display_name: 'Renamed in ServiceTitan' };
		expect(verifyPush(materials, ['price', 'cost', 'description'], sent, before, stored)).toEqual({
			landed: ['description'],
			normalized: ['price'],
			ignored: ['cost'],
			elsewhere: ['display_name'],
		});
	});

	it('a pushed field set to a third value is someone else’s edit', () => {
		expect(verifyPush(materials, ['price'], { ...before, price: '12' }, before, { ...before, price: '99' }).elsewhere).toEqual(['price']);
	});
});
