/** A ServiceTitan material with every synced field set, for unit tests that need one; `over` replaces fields. */
export const materialStRecord = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
	id: 9404,
	code: 'PVC-2',
	displayName: '2" PVC',
	description: 'Pipe',
	cost: 4,
	price: 10,
	memberPrice: 9,
	addOnPrice: 8,
	addOnMemberPrice: 7,
	hours: 0,
	taxable: true,
	account: null,
	unitOfMeasure: 'ea',
	active: true,
	categories: [3, 1],
	...over,
});
