import type { ServiceTitanClient, StRecord } from '../../lib/servicetitan';
import { compareStTimestamps } from '../../lib/servicetitan/timestamps';
import type { SimEntity } from '../../sim';
import { caught } from '../support/st-client-helpers';
import { startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/**
 * The simulator's switches for what ServiceTitan is reported to do with a PATCH (`quirks.patch`): store a
 * normalized form, drop a field while answering 200 (even echoing it), refuse a field, let another user's edit land
 * meanwhile, answer late. Each over real HTTP through the client: the PATCH answer, then what a later GET shows.
 */
describe('ServiceTitan simulator: what ST does with a PATCH', () => {
	let s: CheckedSimulator;
	let st: ServiceTitanClient;

	beforeAll(async () => {
		s = await startCheckedSimulator({ seed: 11, counts: { materials: 30, services: 20, equipment: 10, categories: 12 } });
		st = s.client();
	});

	afterEach(() => {
		s.sim.control.setQuirks({ patch: {} });
	});

	afterAll(async () => {
		await s.stop();
	});

	const idOf = (entity: SimEntity, index = 0): number => s.sim.control.listIds(entity, { includeInactive: false })[index];

	async function read(entity: SimEntity, id: number): Promise<StRecord> {
		const record = await st.get(entity, id);
		if (!record) throw new Error(`${entity} ${id} is gone`);
		return record;
	}

	/** The PATCH answer and a later GET, with the modifiedOn from before. */
	async function patchAndRead(entity: SimEntity, id: number, body: Record<string, unknown>) {
		const before = await read(entity, id);
		const answer = await st.patch(entity, id, body);
		const after = await read(entity, id);
		return { before, answer, after };
	}

	const later = (a: StRecord, b: StRecord): boolean => compareStTimestamps(String(a.modifiedOn), String(b.modifiedOn)) > 0;

	it('changes nothing by default: values are stored as sent', async () => {
		expect(s.sim.control.quirks().patch).toEqual({});
		const body = { price: 12.345, displayName: '  Copper   pipe  ', description: '<P>Copper<BR>pipe</P>' };
		const { answer, after } = await patchAndRead('materials', idOf('materials'), { ...body, memberPrice: 1.005 });
		for (const record of [answer, after]) {
			expect(record).toMatchObject({ price: 12.345, memberPrice: 1.005, displayName: '  Copper   pipe  ', description: '<P>Copper<BR>pipe</P>' });
		}
		const empty = await st.patch('materials', idOf('materials'), { displayName: '' });
		expect(empty.displayName).toBe('');
	});

	it('roundMoney: stores money rounded half away from zero (2 decimals by default), for the entity types and fields named', async () => {
		s.sim.control.setQuirks({ patch: { roundMoney: { entities: ['materials'] } } });
		const id = idOf('materials');
		const { before, answer, after } = await patchAndRead('materials', id, {
			price: 12.345,
			memberPrice: 1.005,
			addOnPrice: -2.675,
			addOnMemberPrice: 3.1,
			cost: 7.129999,
			hours: 1.23456,
		});
		for (const record of [answer, after]) {
			expect(record).toMatchObject({ price: 12.35, memberPrice: 1.01, addOnPrice: -2.68, addOnMemberPrice: 3.1, cost: 7.13, hours: 1.23456 });
		}
		expect(later(answer, before)).toBe(true);
		expect(answer.modifiedOn).toBe(after.modifiedOn);
		// Another entity type is stored as sent.
		expect((await st.patch('equipment', idOf('equipment'), { price: 3.333 })).price).toBe(3.333);

		s.sim.control.setQuirks({ patch: { roundMoney: { fields: ['materials.cost'], decimals: 0 } } });
		const whole = await st.patch('materials', id, { cost: 10.5, price: 10.5 });
		expect(whole).toMatchObject({ cost: 11, price: 10.5 });
		expect(await read('materials', id)).toMatchObject({ cost: 11, price: 10.5 });
	});

	it('trimText and stripHtml: stores text trimmed with whitespace runs collapsed, and HTML normalized or stripped', async () => {
		s.sim.control.setQuirks({ patch: { trimText: {}, stripHtml: { entities: ['materials'] } } });
		const id = idOf('materials');
		const { answer, after } = await patchAndRead('materials', id, {
			displayName: '  Copper   pipe\t 1/2"  ',
			description: '<P class="x">Copper<BR>pipe<br /><IMG src="a.png"></P>',
		});
		for (const record of [answer, after]) {
			expect(record).toMatchObject({ displayName: 'Copper pipe 1/2"', description: '<p class="x">Copper<br/>pipe<br/><img src="a.png"/></p>' });
		}

		s.sim.control.setQuirks({ patch: { stripHtml: { mode: 'strip', fields: ['description'] } } });
		const category = idOf('categories');
		const stripped = await patchAndRead('categories', category, { description: '<p>Fittings &amp; valves</p><br/>In stock', name: '<b>Fittings</b>' });
		for (const record of [stripped.answer, stripped.after])
			expect(record).toMatchObject({ description: 'Fittings & valvesIn stock', name: '<b>Fittings</b>' });
	});

	it("emptyAsNull: stores '' as null in nullable text fields", async () => {
		s.sim.control.setQuirks({ patch: { emptyAsNull: { entities: ['services'] } } });
		const id = idOf('services');
		const { answer, after } = await patchAndRead('services', id, { displayName: '', crossSaleGroup: '' });
		for (const record of [answer, after]) expect(record).toMatchObject({ displayName: null, crossSaleGroup: null });
		// Together with trimText, whitespace alone becomes '' and then null.
		s.sim.control.setQuirks({ patch: { emptyAsNull: {}, trimText: {} } });
		expect((await st.patch('materials', idOf('materials'), { displayName: '   ' })).displayName).toBeNull();
		// A required field still answers 400 for ''.
		expect((await caught(st.patch('services', id, { code: '' }))).status).toBe(400);
	});

	it('ignoreFields: answers 200 but keeps the stored value; the answer shows it, or echoes the value sent', async () => {
		const id = idOf('materials', 1);
		s.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['cost'] } } });
		const plain = await patchAndRead('materials', id, { cost: 99.99, price: 50 });
		expect(plain.answer).toMatchObject({ cost: plain.before.cost, price: 50 });
		expect(plain.after).toMatchObject({ cost: plain.before.cost, price: 50 });
		expect(later(plain.answer, plain.before)).toBe(true);

		s.sim.control.setQuirks({ patch: { ignoreFields: { fields: ['materials.cost', 'categories.name'], echo: true } } });
		const echoed = await patchAndRead('materials', id, { cost: 77.77, price: 51 });
		expect(echoed.answer).toMatchObject({ cost: 77.77, price: 51 });
		expect(echoed.after).toMatchObject({ cost: echoed.before.cost, price: 51 });
		expect(echoed.before.cost).not.toBe(77.77);

		const category = idOf('categories');
		const renamed = await patchAndRead('categories', category, { name: 'Renamed by the sync', position: 3 });
		expect(renamed.answer).toMatchObject({ name: 'Renamed by the sync', position: 3 });
		expect(renamed.after).toMatchObject({ name: renamed.before.name, position: 3 });
	});

	it('refuseFields: answers 400 naming the field, and stores nothing', async () => {
		s.sim.control.setQuirks({ patch: { refuseFields: { fields: ['price'], entities: ['services'] } } });
		const id = idOf('services', 1);
		const before = await read('services', id);
		const error = await caught(st.patch('services', id, { price: 10, displayName: 'Not stored' }));
		expect(error).toMatchObject({ kind: 'validation', status: 400, errors: { price: ['The price field cannot be changed.'] } });
		expect(await read('services', id)).toEqual(before);
		// Other entity types and fields are stored as usual.
		expect((await st.patch('services', id, { displayName: 'Stored' })).displayName).toBe('Stored');
		expect((await st.patch('materials', idOf('materials'), { price: 10 })).price).toBe(10);

		s.sim.control.setQuirks({ patch: { refuseFields: { fields: ['active'], message: 'Use the deactivate endpoint.' } } });
		const both = await caught(st.patch('materials', idOf('materials'), { active: false, categories: [999999999] }));
		expect(Object.keys(both.errors ?? {}).sort()).toEqual(['active', 'categories']);
		expect(both.errors?.active).toEqual(['Use the deactivate endpoint.']);
	});

	it("concurrentEdit: another user's edit lands first as its own modification; the answer and later GETs show both", async () => {
		const id = idOf('materials', 2);
		const other = idOf('materials', 3);
		s.sim.control.setQuirks({ patch: { concurrentEdit: [{ entity: 'materials', id, changes: { description: 'Edited in ST' } }] } });
		const untouched = await st.patch('materials', other, { price: 5 });
		expect(untouched.description).not.toBe('Edited in ST');

		const { before, answer, after } = await patchAndRead('materials', id, { price: 42 });
		for (const record of [answer, after]) expect(record).toMatchObject({ description: 'Edited in ST', price: 42 });
		expect(later(answer, before)).toBe(true);
		expect(s.sim.control.quirks().patch.concurrentEdit).toEqual([]);
		// Spent: the next PATCH is not edited over, and our value of a field both wrote wins.
		expect(await st.patch('materials', id, { description: 'Ours' })).toMatchObject({ description: 'Ours', price: 42 });

		s.sim.control.setQuirks({ patch: { concurrentEdit: [{ changes: { name: 'Renamed in ST' }, entity: 'categories', times: 2 }] } });
		const category = idOf('categories');
		expect(await st.patch('categories', category, { position: 7 })).toMatchObject({ name: 'Renamed in ST', position: 7 });
		expect(s.sim.control.quirks().patch.concurrentEdit).toEqual([{ changes: { name: 'Renamed in ST' }, entity: 'categories', times: 1 }]);
		expect(await st.patch('categories', category, { name: 'Ours again' })).toMatchObject({ name: 'Ours again' });
		expect(s.sim.control.quirks().patch.concurrentEdit).toEqual([]);
	});

	it('delayMs: answers PATCHes late, having stored the change on arrival, so a client that gives up loses an applied PATCH', async () => {
		const id = idOf('materials', 4);
		s.sim.control.setQuirks({ patch: { delayMs: { materials: 1500 } } });
		const impatient = s.client({ timeoutMs: 200, maxRetries: 0 });
		const error = await caught(impatient.patch('materials', id, { price: 123.45 }));
		expect(error.kind).toBe('timeout');
		expect((await read('materials', id)).price).toBe(123.45);
		// Reads and other entity types answer on time.
		const started = Date.now();
		await st.patch('equipment', idOf('equipment'), { price: 1 });
		expect(Date.now() - started).toBeLessThan(1000);

		s.sim.control.setQuirks({ patch: { delayMs: 300 } });
		const patient = Date.now();
		expect((await st.patch('materials', id, { price: 124 })).price).toBe(124);
		expect(Date.now() - patient).toBeGreaterThanOrEqual(290);
	});

	it('is set over HTTP with PUT /__sim/quirks {"patch": ...}', async () => {
		const res = await fetch(`${s.sim.url}/__sim/quirks`, {
			method: 'PUT',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ patch: { roundMoney: { decimals: 1 } } }),
		});
		expect(res.status).toBe(200);
		expect(((await res.json()) as { patch: unknown }).patch).toEqual({ roundMoney: { decimals: 1 } });
		expect((await st.patch('materials', idOf('materials'), { price: 9.96 })).price).toBe(10);
	});

	it('sent only responses that follow the OpenAPI document', () => {
		expect(s.contract.violations()).toEqual([]);
		expect(s.contract.responsesChecked()).toBeGreaterThan(40);
	});
});
