import { pricebookContract, toJsonSchema } from '../support/openapi';

// The contract checker must itself be trustworthy: it has to reject what the document forbids.
describe('OpenAPI contract helper', () => {
	const spec = pricebookContract();
	const base = '/pricebook/v2/tenant/1234567';

	it('turns OpenAPI nullable into JSON Schema and drops annotations ajv does not know', () => {
		expect(toJsonSchema({ type: 'integer', format: 'int64', nullable: true, example: 1, 'x-enumNames': [] })).toEqual({
			anyOf: [{ type: 'null' }, { type: 'integer', format: 'int64' }],
		});
		expect(toJsonSchema({ oneOf: [{ $ref: '#/components/schemas/X' }], nullable: true })).toEqual({
			anyOf: [{ type: 'null' }, { oneOf: [{ $ref: 'st-pricebook-v2#/definitions/X' }] }],
		});
	});

	it('finds operations, preferring literal segments over parameters', () => {
		expect(spec.findOperation('GET', `${base}/materials`)?.operation.operationId).toBe('Materials_GetList');
		expect(spec.findOperation('GET', `${base}/materials/42`)?.operation.operationId).toBe('Materials_Get');
		expect(spec.findOperation('GET', `${base}/materials/costtypes`)?.operation.operationId).toBe('Materials_GetCostTypes');
		expect(spec.findOperation('GET', `${base}/export/services`)?.operation.operationId).toBe('Export_Services');
		expect(spec.findOperation('PUT', `${base}/materials/42`)).toBeUndefined();
	});

	it('accepts a declared query and rejects undeclared or mistyped parameters', () => {
		expect(
			spec.validateRequest({
				method: 'GET',
				path: `${base}/materials`,
				query: { page: '1', pageSize: '5000', active: 'Any', modifiedOnOrAfter: '2024-01-01T00:00:00.0000001Z', ids: '1,2' },
			}),
		).toEqual([]);
		const problems = spec.validateRequest({
			method: 'GET',
			path: `${base}/categories`,
			query: { ids: '1,2', active: 'Maybe', page: 'one', modifiedBefore: 'yesterday' },
		});
		expect(problems.join('\n')).toMatch(/"ids" is not declared by Categories_GetList/);
		expect(problems.join('\n')).toMatch(/parameter active/);
		expect(problems.join('\n')).toMatch(/page=one is not a number/);
		expect(problems.join('\n')).toMatch(/parameter modifiedBefore.*format/);
		expect(spec.validateRequest({ method: 'GET', path: `${base}/materials/abc`, query: {} }).join()).toMatch(/id=abc is not a number/);
	});

	it('validates PATCH bodies against the update request schema', () => {
		const path = `${base}/materials/42`;
		expect(spec.validateRequest({ method: 'PATCH', path, query: {}, body: { price: 12.5, categories: [1, 2] } })).toEqual([]);
		expect(spec.validateRequest({ method: 'PATCH', path, query: {}, body: { price: '12.50' } }).join()).toMatch(/\/price must be number/);
		expect(spec.validateRequest({ method: 'PATCH', path, query: {}, body: { modifiedOn: 'x' } }).join()).toMatch(/additional properties/);
	});

	it('validates response bodies, skipping only statuses the document leaves undescribed', () => {
		const path = `${base}/categories/9`;
		const category = {
			id: 9,
			name: 'Pumps',
			active: true,
			position: 1,
			categoryType: 'Materials',
			hideInMobile: false,
			createdOn: '2024-01-01T00:00:00Z',
			modifiedOn: '2024-01-02T00:00:00.1234567Z',
			parentId: null,
			description: null,
		};
		expect(spec.validateResponse({ method: 'GET', path, status: 200, body: category })).toEqual([]);
		expect(spec.validateResponse({ method: 'GET', path, status: 200, body: { ...category, name: undefined } }).join()).toMatch(/required property 'name'/);
		expect(spec.validateResponse({ method: 'GET', path, status: 200, body: { ...category, extra: 1 } }).join()).toMatch(/additional properties/);
		expect(spec.validateResponse({ method: 'GET', path, status: 200, body: { ...category, modifiedOn: 'today' } }).join()).toMatch(/format/);
		expect(spec.validateResponse({ method: 'GET', path, status: 404, body: { title: 'nope' } }).join()).toMatch(/required property/);
		expect(spec.validateResponse({ method: 'GET', path, status: 503, body: '<html>' })).toEqual([]);
		expect(spec.validateResponse({ method: 'GET', path, status: 201, body: category }).join()).toMatch(/does not declare status 201/);
		expect(spec.validateResponse({ method: 'DELETE', path, status: 204 })).toEqual([]);
	});

	it('accepts the live tenant deviations from the document, field by field, and nothing more', () => {
		const category = { id: 9, name: 'Pumps', active: true, position: 1, categoryType: 'Materials', hideInMobile: false, parentId: null };
		// Categories: a live tenant sends no createdOn/modifiedOn, at any depth; present ones must still be date-times.
		const nested = { ...category, subcategories: [{ ...category, id: 10, parentId: 9, subcategories: [] }] };
		expect(spec.validateResponse({ method: 'GET', path: `${base}/categories/9`, status: 200, body: nested })).toEqual([]);
		expect(spec.validateResponse({ method: 'GET', path: `${base}/categories/9`, status: 200, body: { ...category, modifiedOn: 'today' } }).join()).toMatch(
			/format/,
		);
		// The export feed does carry them.
		const feed = { hasMore: false, continueFrom: 'x', data: [category] };
		expect(spec.validateResponse({ method: 'GET', path: `${base}/export/categories`, status: 200, body: feed }).join()).toMatch(
			/required property 'createdOn'/,
		);
		// Services: useStaticPrices and calculatedPrice, null on a live tenant, typed; other unknown fields still fail.
		const service = spec.validateComponent('Pricebook.V2.ServiceResponse', {});
		expect(service.join()).toMatch(/required property/);
		const ok = (extra: Record<string, unknown>): string[] =>
			spec.validateComponent('Pricebook.V2.ServiceResponse', {
				id: 1,
				code: 'S',
				description: '',
				categories: [],
				price: 0,
				memberPrice: 0,
				addOnPrice: 0,
				addOnMemberPrice: 0,
				taxable: false,
				hours: 0,
				recommendations: [],
				upgrades: [],
				assets: [],
				serviceMaterials: [],
				serviceEquipment: [],
				active: true,
				paysCommission: false,
				bonus: 0,
				commissionBonus: 0,
				modifiedOn: '2025-12-01T00:00:00.123Z',
				cost: 0,
				createdOn: '2025-12-01T00:00:00.123Z',
				soldByCommission: 0,
				...extra,
			});
		expect(ok({ useStaticPrices: null, calculatedPrice: null })).toEqual([]);
		expect(ok({ useStaticPrices: 'yes' }).join()).toMatch(/useStaticPrices/);
		expect(ok({ somethingElse: null }).join()).toMatch(/additional properties/);
	});
});
