import { normalizeStTimestamp } from '../../lib/servicetitan/timestamps';
import { VENDORS } from '../../sim';
import { startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/** The simulator, spoken to over raw HTTP (no client): it must behave as the API facts say. */

interface Answer {
	status: number;
	headers: Headers;
	text: string;
	json: unknown;
}

type Obj = Record<string, unknown>;

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
	const res = await fetch(url, init);
	const text = await res.text();
	let json: unknown;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	return { status: res.status, headers: res.headers, text, json };
}

async function fetchToken(s: CheckedSimulator): Promise<string> {
	const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: s.sim.clientId, client_secret: s.sim.clientSecret });
	const answer = await call(s.sim.tokenUrl, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: body.toString(),
	});
	expect(answer.status).toBe(200);
	return (answer.json as Obj).access_token as string;
}

function apiOf(s: CheckedSimulator, token: string) {
	const base = `${s.sim.apiBaseUrl}/pricebook/v2/tenant/${s.sim.tenantId}`;
	return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
		call(`${base}${path}`, {
			method,
			headers: {
				Authorization: `Bearer ${token}`,
				'ST-App-Key': s.sim.appKey,
				...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
				...headers,
			},
			...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
		});
}

const page = (a: Answer): { page: number; pageSize: number; hasMore: boolean; totalCount: number | null; data: Obj[] } =>
	a.json as { page: number; pageSize: number; hasMore: boolean; totalCount: number | null; data: Obj[] };

describe('ServiceTitan simulator', () => {
	let s: CheckedSimulator;
	let api: ReturnType<typeof apiOf>;
	let clockMs = Date.parse('2026-02-01T12:00:00Z');

	beforeAll(async () => {
		s = await startCheckedSimulator({
			seed: 7,
			counts: { materials: 300, services: 80, equipment: 40, categories: 45 },
			now: () => clockMs,
		});
		api = apiOf(s, await fetchToken(s));
	});

	afterAll(async () => {
		await s.stop();
	});

	/** Moves ST's clock; tokens live 900 s of it, so a fresh one is fetched. */
	async function advance(ms: number): Promise<void> {
		s.sim.control.advanceClock(ms);
		api = apiOf(s, await fetchToken(s));
	}

	describe('auth', () => {
		it('issues 900 s bearer tokens for client credentials and refuses wrong ones', async () => {
			const form = (secret: string) =>
				new URLSearchParams({ grant_type: 'client_credentials', client_id: s.sim.clientId, client_secret: secret }).toString();
			const ok = await call(s.sim.tokenUrl, {
				method: 'POST',
				headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
				body: form(s.sim.clientSecret),
			});
			expect(ok.json).toMatchObject({ expires_in: 900, token_type: 'Bearer' });
			const bad = await call(s.sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form('wrong') });
			expect(bad.status).toBe(400);
			expect(bad.json).toEqual({ error: 'invalid_client' });
		});

		it('answers 401 without a valid token or app key, and accepts the bare token', async () => {
			const token = await fetchToken(s);
			const authed = apiOf(s, token);
			expect((await authed('GET', '/materials?pageSize=1')).status).toBe(200);
			expect((await authed('GET', '/materials?pageSize=1', undefined, { Authorization: token })).status).toBe(200);
			expect((await authed('GET', '/materials?pageSize=1', undefined, { 'ST-App-Key': 'wrong' })).status).toBe(401);
			expect((await apiOf(s, 'not-a-token')('GET', '/materials?pageSize=1')).status).toBe(401);
		});

		it('expires tokens after 900 s of ST time', async () => {
			const authed = apiOf(s, await fetchToken(s));
			s.sim.control.advanceClock(899_000);
			expect((await authed('GET', '/materials?pageSize=1')).status).toBe(200);
			s.sim.control.advanceClock(2_000);
			expect((await authed('GET', '/materials?pageSize=1')).status).toBe(401);
			api = apiOf(s, await fetchToken(s));
		});
	});

	describe('listing', () => {
		it('serves the documented envelope, active items only by default', async () => {
			const all = s.sim.control.listIds('materials', { includeInactive: true }).length;
			const activeIds = s.sim.control.listIds('materials', { includeInactive: false });
			expect(activeIds.length).toBeLessThan(all); // the seed deactivates some
			const first = page(await api('GET', '/materials?includeTotal=true'));
			expect(first).toMatchObject({ page: 1, pageSize: 50, hasMore: true, totalCount: activeIds.length });
			expect(first.data).toHaveLength(50);
			expect(page(await api('GET', '/materials?active=Any&includeTotal=true')).totalCount).toBe(all);
			expect(page(await api('GET', '/materials?active=False&includeTotal=true')).totalCount).toBe(all - activeIds.length);
			expect(page(await api('GET', '/materials?pageSize=10')).totalCount).toBeNull();
		});

		it('pages to the end with hasMore, and caps pageSize at 5000', async () => {
			const seen: number[] = [];
			for (let n = 1; ; n++) {
				const p = page(await api('GET', `/materials?active=Any&pageSize=70&page=${n}`));
				seen.push(...p.data.map((r) => r.id as number));
				if (!p.hasMore) break;
			}
			expect(seen).toEqual(s.sim.control.listIds('materials').sort((a, b) => a - b));
			const tooBig = await api('GET', '/materials?pageSize=5001');
			expect(tooBig.status).toBe(400);
			expect((tooBig.json as Obj).errors).toHaveProperty('pageSize');
			expect(page(await api('GET', '/materials?pageSize=5000')).pageSize).toBe(5000);
		});

		it('filters modifiedOnOrAfter inclusively and modifiedBefore exclusively, at 100 ns precision', async () => {
			const target = s.sim.control.updateItem('materials', s.sim.control.listIds('materials')[3], {}, { modifiedOn: '2026-02-01T11:00:00.1234567Z' });
			const at = encodeURIComponent('2026-02-01T11:00:00.1234567Z');
			const after = encodeURIComponent('2026-02-01T11:00:00.1234568Z');
			const ids = (a: Answer) => page(a).data.map((r) => r.id);
			expect(ids(await api('GET', `/materials?active=Any&modifiedOnOrAfter=${at}`))).toContain(target.id);
			expect(ids(await api('GET', `/materials?active=Any&modifiedOnOrAfter=${after}`))).not.toContain(target.id);
			expect(ids(await api('GET', `/materials?active=Any&modifiedBefore=${at}&pageSize=5000`))).not.toContain(target.id);
			expect(ids(await api('GET', `/materials?active=Any&modifiedBefore=${after}&pageSize=5000`))).toContain(target.id);
			expect((await api('GET', '/materials?modifiedOnOrAfter=yesterday')).status).toBe(400);
		});

		it('looks up by ids, at most 50, including inactive ones with active=Any', async () => {
			const all = s.sim.control.listIds('materials');
			const inactive = all.find((id) => s.sim.control.getItem('materials', id)?.active === false) as number;
			const [a, b] = s.sim.control.listIds('materials', { includeInactive: false });
			const some = [a, b, inactive];
			const found = page(await api('GET', `/materials?active=Any&ids=${some.join(',')}`)).data.map((r) => r.id);
			expect(found.sort()).toEqual([...some].sort());
			expect(page(await api('GET', `/materials?ids=${some.join(',')}`)).data.map((r) => r.id)).not.toContain(inactive);
			const tooMany = await api('GET', `/materials?ids=${all.slice(0, 51).join(',')}`);
			expect(tooMany.status).toBe(400);
			expect((tooMany.json as Obj).errors).toHaveProperty('ids');
		});

		it('shuffles the order when asked to, stably between pages', async () => {
			s.sim.control.setQuirks({ order: 'shuffled' });
			try {
				const first = page(await api('GET', '/materials?active=Any&pageSize=100&sort=%2BId')).data.map((r) => r.id as number);
				const again = page(await api('GET', '/materials?active=Any&pageSize=100')).data.map((r) => r.id as number);
				expect(first).toEqual(again);
				expect(first).not.toEqual([...first].sort((a, b) => a - b));
			} finally {
				s.sim.control.setQuirks({ order: 'id' });
			}
		});

		it('drifts between pages when items change during a listing, unless drift is off', async () => {
			const listTwoPages = async (): Promise<number[]> => {
				const p1 = page(await api('GET', '/materials?active=Any&pageSize=50&page=1&sort=%2BModifiedOn')).data.map((r) => r.id as number);
				// An ST user edits the oldest item between the two page reads: it moves to the end of the order.
				s.sim.control.updateItem('materials', p1[0], { price: 1 });
				const p2 = page(await api('GET', '/materials?active=Any&pageSize=50&page=2&sort=%2BModifiedOn')).data.map((r) => r.id as number);
				return [...p1, ...p2];
			};
			const drifting = await listTwoPages();
			expect(new Set(drifting).size).toBe(100); // nothing repeated, but one row was skipped:
			const truth = page(await api('GET', '/materials?active=Any&pageSize=101&sort=%2BModifiedOn')).data.map((r) => r.id as number);
			expect(truth.filter((id) => !drifting.includes(id)).length).toBeGreaterThan(0);

			s.sim.control.setQuirks({ pageDrift: false });
			try {
				const before = page(await api('GET', '/materials?active=Any&pageSize=100&sort=%2BModifiedOn')).data.map((r) => r.id as number);
				expect(await listTwoPages()).toEqual(before);
			} finally {
				s.sim.control.setQuirks({ pageDrift: true });
			}
		});
	});

	describe('categories', () => {
		it('nests subcategories by default and lists flat when switched', async () => {
			const nested = page(await api('GET', '/categories?active=Any&pageSize=500')).data;
			const total = s.sim.control.listIds('categories').length;
			const count = (list: Obj[]): number => list.reduce((n, c) => n + 1 + count((c.subcategories as Obj[]) ?? []), 0);
			expect(nested.every((c) => c.parentId === null)).toBe(true);
			expect(count(nested)).toBe(total);
			const deep = nested.find((c) => ((c.subcategories as Obj[]) ?? []).some((child) => ((child.subcategories as Obj[]) ?? []).length > 0));
			expect(deep).toBeDefined();

			s.sim.control.setQuirks({ categoriesNested: false });
			try {
				const flat = page(await api('GET', '/categories?active=Any&pageSize=500')).data;
				expect(flat).toHaveLength(total);
				expect(flat.filter((c) => c.parentId !== null).length).toBeGreaterThan(0);
			} finally {
				s.sim.control.setQuirks({ categoriesNested: true });
			}
		});

		it('filters by categoryType', async () => {
			const services = page(await api('GET', '/categories?categoryType=Services&pageSize=500')).data;
			expect(services.length).toBeGreaterThan(0);
			expect(services.every((c) => c.categoryType === 'Services')).toBe(true);
		});
	});

	describe('live tenant shapes (defaults) and the switches back', () => {
		/** Every category of a nested listing, children included, with its depth (roots are 1). */
		const walk = (list: Obj[], depth = 1, parentId: number | null = null): Array<{ c: Obj; depth: number; parentId: number | null }> =>
			list.flatMap((c) => [{ c, depth, parentId }, ...walk((c.subcategories as Obj[]) ?? [], depth + 1, c.id as number)]);

		it('sends categories without createdOn and modifiedOn (roots, nested children, GET, POST, PATCH), the export feed with them', async () => {
			const listed = walk(page(await api('GET', '/categories?active=Any&pageSize=500')).data);
			expect(listed.length).toBe(s.sim.control.listIds('categories').length);
			for (const { c } of listed) {
				expect(c).not.toHaveProperty('createdOn');
				expect(c).not.toHaveProperty('modifiedOn');
			}
			const root = listed.find(({ c }) => ((c.subcategories as Obj[]) ?? []).length > 0)?.c as Obj;
			const got = (await api('GET', `/categories/${root.id}`)).json as Obj;
			for (const { c } of walk([got])) expect(c).not.toHaveProperty('modifiedOn');
			const created = (await api('POST', '/categories', { name: 'Live shape', categoryType: 'Services' })).json as Obj;
			expect(created).not.toHaveProperty('modifiedOn');
			const patched = (await api('PATCH', `/categories/${created.id}`, { name: 'Live shape 2' })).json as Obj;
			expect(patched).toMatchObject({ name: 'Live shape 2' });
			expect(patched).not.toHaveProperty('modifiedOn');
			const feed = (await api('GET', '/export/categories?includeRecentChanges=true')).json as { data: Obj[] };
			expect(feed.data.length).toBeGreaterThan(0);
			for (const c of feed.data) expect(c).toMatchObject({ createdOn: expect.any(String), modifiedOn: expect.any(String) });

			s.sim.control.setQuirks({ categoryTimestamps: true });
			try {
				const withStamps = walk(page(await api('GET', '/categories?active=Any&pageSize=500')).data);
				for (const { c } of withStamps) expect(c).toMatchObject({ createdOn: expect.any(String), modifiedOn: expect.any(String) });
				expect((await api('GET', `/categories/${root.id}`)).json).toHaveProperty('modifiedOn');
			} finally {
				s.sim.control.setQuirks({ categoryTimestamps: false });
			}
		});

		it('ignores modifiedOnOrAfter on categories (the whole tree comes back) unless categories carry timestamps', async () => {
			const future = encodeURIComponent('2099-01-01T00:00:00Z');
			const all = page(await api('GET', '/categories?active=Any&pageSize=500')).data;
			expect(page(await api('GET', `/categories?active=Any&pageSize=500&modifiedOnOrAfter=${future}`)).data).toEqual(all);
			// Materials still honour it.
			expect(page(await api('GET', `/materials?active=Any&modifiedOnOrAfter=${future}`)).data).toEqual([]);
			s.sim.control.setQuirks({ categoryTimestamps: true });
			try {
				expect(page(await api('GET', `/categories?active=Any&pageSize=500&modifiedOnOrAfter=${future}`)).data).toEqual([]);
			} finally {
				s.sim.control.setQuirks({ categoryTimestamps: false });
			}
		});

		it('answers GET /categories/{id} with its whole subtree, parentId set on every nested record', async () => {
			const roots = page(await api('GET', '/categories?active=Any&pageSize=500')).data;
			const root = roots.find((c) => walk([c]).some(({ depth }) => depth >= 3)) as Obj;
			const got = (await api('GET', `/categories/${root.id}`)).json as Obj;
			expect(got).toEqual(root);
			const nodes = walk([got]);
			expect(nodes.length).toBeGreaterThan(3);
			for (const { c, parentId } of nodes.slice(1)) expect(c.parentId).toBe(parentId);
			const child = nodes.find(({ depth }) => depth === 2)?.c as Obj;
			expect((await api('GET', `/categories/${child.id}`)).json).toEqual(child);
		});

		it('sends services with category objects, {duration, description} warranties and null useStaticPrices/calculatedPrice', async () => {
			const services = page(await api('GET', '/services?active=Any&pageSize=5000')).data;
			for (const svc of services) {
				expect(svc).toMatchObject({ useStaticPrices: null, calculatedPrice: null });
				expect(Object.keys(svc.warranty as Obj).sort()).toEqual(['description', 'duration']);
				for (const c of svc.categories as Obj[]) expect(Object.keys(c).sort()).toEqual(['active', 'id', 'name']);
				for (const link of [...(svc.serviceMaterials as Obj[]), ...(svc.serviceEquipment as Obj[])]) {
					expect(Object.keys(link).sort()).toEqual(['quantity', 'skuId']);
				}
			}
			const withMaterials = services.filter((svc) => (svc.serviceMaterials as Obj[]).length > 0).length / services.length;
			expect(withMaterials).toBeGreaterThan(0.25);
			expect(withMaterials).toBeLessThan(0.65);
			expect(services.some((svc) => (svc.serviceEquipment as Obj[]).length > 0)).toBe(true);
			const one = services[0];
			expect((await api('GET', `/services/${one.id}`)).json).toMatchObject({ useStaticPrices: null, calculatedPrice: null });
			const feed = (await api('GET', '/export/services?includeRecentChanges=true')).json as { data: Obj[] };
			expect(feed.data[0]).toMatchObject({ useStaticPrices: null, calculatedPrice: null });
			s.sim.control.setQuirks({ serviceNullPricing: false });
			try {
				const plain = (await api('GET', `/services/${one.id}`)).json as Obj;
				expect(plain).not.toHaveProperty('useStaticPrices');
				expect(plain).not.toHaveProperty('calculatedPrice');
			} finally {
				s.sim.control.setQuirks({ serviceNullPricing: true });
			}
		});

		it('keeps a warranty description written by PATCH', async () => {
			const id = s.sim.control.listIds('services')[4];
			const answer = await api('PATCH', `/services/${id}`, { warranty: { duration: 30, description: '30 days &amp; more' } });
			expect((answer.json as Obj).warranty).toEqual({ duration: 30, description: '30 days &amp; more' });
		});

		it('gives materials and equipment plain category ids, a primary vendor whose cost is theirs, and otherVendors including it', async () => {
			for (const entity of ['materials', 'equipment']) {
				const records = page(await api('GET', `/${entity}?active=Any&pageSize=5000`)).data;
				expect(records.length).toBeGreaterThan(0);
				for (const r of records) {
					for (const c of r.categories as unknown[]) expect(typeof c).toBe('number');
					const primary = r.primaryVendor as Obj;
					expect(Object.keys(primary)).toEqual(expect.arrayContaining(['id', 'vendorName', 'vendorId', 'memo', 'vendorPart', 'cost', 'active']));
					expect(r.cost).toBe(primary.cost);
					expect(r.otherVendors).toContainEqual(primary);
				}
				expect(records.some((r) => (r.otherVendors as Obj[]).length > 1)).toBe(true);
			}
		});

		it('writes descriptions with HTML and entities', async () => {
			const materials = page(await api('GET', '/materials?active=Any&pageSize=5000')).data;
			expect(materials.some((m) => (m.description as string).includes('&reg;') && (m.description as string).includes('<br/>'))).toBe(true);
			const services = page(await api('GET', '/services?active=Any&pageSize=5000')).data;
			expect(services.some((svc) => (svc.description as string).includes('&amp;'))).toBe(true);
		});
	});

	describe('realistic data', () => {
		it('gives materials real vendors and services real material ids', async () => {
			const materials = page(await api('GET', '/materials?active=Any&pageSize=5000')).data;
			const vendorNames = new Set(VENDORS.map((v) => v.vendorName));
			const primaries = materials.map((m) => m.primaryVendor as Obj | null).filter((v): v is Obj => v !== null);
			expect(primaries.length).toBeGreaterThan(materials.length * 0.8);
			expect(primaries.every((v) => vendorNames.has(v.vendorName as string) && typeof v.vendorPart === 'string')).toBe(true);
			expect([...new Set(primaries.map((v) => v.vendorName))]).toEqual(expect.arrayContaining(['CED', 'Pool360', 'Home Depot']));
			expect(materials.some((m) => (m.otherVendors as Obj[]).length > 0)).toBe(true);

			const materialIds = new Set(materials.map((m) => m.id));
			const services = page(await api('GET', '/services?active=Any&pageSize=5000')).data;
			const links = services.flatMap((svc) => svc.serviceMaterials as Array<{ skuId: number }>);
			expect(links.length).toBeGreaterThan(0);
			expect(links.every((l) => materialIds.has(l.skuId))).toBe(true);
			expect(services.every((svc) => (svc.categories as Obj[]).every((c) => typeof c.name === 'string'))).toBe(true);
		});

		it('writes timestamps with 3 to 7 fractional digits, trailing zeros dropped, as a live tenant does', async () => {
			const materials = page(await api('GET', '/materials?active=Any&pageSize=5000')).data;
			const fractions = materials.flatMap((m) => [m.modifiedOn as string, m.createdOn as string]).map((t) => /\.(\d+)Z$/.exec(t)?.[1] ?? '');
			expect([...new Set(fractions.map((f) => f.length))].sort()).toEqual([3, 4, 5, 6, 7]);
			expect(fractions.some((f) => f.endsWith('0'))).toBe(false);
			// Later changes too.
			for (let i = 0; i < 20; i++) {
				const changed = (await api('PATCH', `/materials/${materials[i].id}`, { hours: 1 })).json as Obj;
				expect(changed.modifiedOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{2,6}[1-9]Z$/);
			}
		});

		it('is deterministic for a seed', async () => {
			const other = await startCheckedSimulator({
				seed: 7,
				counts: { materials: 300, services: 80, equipment: 40, categories: 45 },
				now: () => Date.parse('2026-02-01T12:00:00Z'),
			});
			try {
				expect(other.sim.clientSecret).toBe(s.sim.clientSecret);
				const id = other.sim.control.listIds('materials')[10];
				const mine = s.sim.control.getItem('materials', id);
				expect(other.sim.control.getItem('materials', id)).toMatchObject({ code: mine?.code, price: mine?.price, createdOn: mine?.createdOn });
			} finally {
				await other.stop();
			}
		});
	});

	describe('writes', () => {
		it('PATCH returns the full entity, bumps modifiedOn, replaces arrays and ignores unknown and read-only fields', async () => {
			const svc = s.sim.control
				.listIds('services')
				.map((id) => s.sim.control.getItem('services', id))
				.find((x) => (x?.serviceMaterials as unknown[]).length >= 2);
			expect(svc).toBeDefined();
			const id = svc?.id as number;
			const before = page(await api('GET', `/services?ids=${id}&active=Any`)).data[0];
			clockMs += 5_000;
			const material = s.sim.control.listIds('materials')[0];
			const answer = await api('PATCH', `/services/${id}`, {
				price: 199.5,
				serviceMaterials: [{ skuId: material, quantity: 2 }],
				id: 1,
				modifiedOn: '2000-01-01T00:00:00Z',
				somethingNew: true,
			});
			expect(answer.status).toBe(200);
			const after = answer.json as Obj;
			expect(after).toMatchObject({ id, price: 199.5, serviceMaterials: [{ skuId: material, quantity: 2 }], code: before.code });
			expect(after).not.toHaveProperty('somethingNew');
			expect(normalizeStTimestamp(after.modifiedOn as string) > normalizeStTimestamp(before.modifiedOn as string)).toBe(true);
			expect((await api('GET', `/services/${id}`)).json).toEqual(after);
		});

		it('answers 400 with an RFC 7807 errors map for invalid values, changing nothing', async () => {
			const id = s.sim.control.listIds('materials')[1];
			const before = s.sim.control.getItem('materials', id);
			const answer = await api('PATCH', `/materials/${id}`, { price: 'cheap', primaryVendor: { vendorId: 999, cost: 1, active: true } });
			expect(answer.status).toBe(400);
			expect(answer.json).toMatchObject({ status: 400, title: expect.any(String), traceId: expect.any(String), data: {} });
			expect(Object.keys((answer.json as Obj).errors as Obj).sort()).toEqual(['price', 'primaryVendor']);
			expect(s.sim.control.getItem('materials', id)).toBe(before);
			expect((await api('PATCH', `/materials/${id}`, '{not json')).status).toBe(400);
		});

		it('maps a vendor written by id to its name', async () => {
			const id = s.sim.control.listIds('materials')[2];
			const answer = await api('PATCH', `/materials/${id}`, { primaryVendor: { vendorId: 102, vendorPart: 'P360-1', cost: 10, active: true } });
			expect((answer.json as Obj).primaryVendor).toMatchObject({ vendorId: 102, vendorName: 'Pool360', vendorPart: 'P360-1', cost: 10 });
		});

		it('answers 404 for unknown ids', async () => {
			const missing = await api('GET', '/materials/1');
			expect(missing.status).toBe(404);
			expect(missing.json).toMatchObject({ status: 404, errors: {}, data: {} });
			expect((await api('PATCH', '/equipment/1', { price: 1 })).status).toBe(404);
			expect((await api('DELETE', '/categories/1')).status).toBe(404);
		});

		it('creates with POST → 201, requiring code and description', async () => {
			const created = await api('POST', '/materials', { code: 'NEW-1', description: 'New thing', price: 5, categories: [] });
			expect(created.status).toBe(201);
			const record = created.json as Obj;
			expect(record).toMatchObject({ code: 'NEW-1', price: 5, active: true });
			expect((await api('GET', `/materials/${record.id}`)).status).toBe(200);
			const invalid = await api('POST', '/materials', { code: 'X' });
			expect(invalid.status).toBe(400);
			expect((invalid.json as Obj).errors).toHaveProperty('description');
			const category = await api('POST', '/categories', { name: 'Lights', categoryType: 'Materials', parentId: null });
			expect(category.status).toBe(201);
		});

		it('deletes hard (404 after) or by deactivation, as switched', async () => {
			const [a, b] = s.sim.control.listIds('equipment', { includeInactive: false });
			expect((await api('DELETE', `/equipment/${a}`)).status).toBe(204);
			expect((await api('GET', `/equipment/${a}`)).status).toBe(404);
			s.sim.control.setQuirks({ deleteMode: 'deactivate' });
			try {
				expect((await api('DELETE', `/equipment/${b}`)).status).toBe(204);
				const after = await api('GET', `/equipment/${b}`);
				expect(after.status).toBe(200);
				expect((after.json as Obj).active).toBe(false);
				expect(page(await api('GET', `/equipment?ids=${b}`)).data).toHaveLength(0);
			} finally {
				s.sim.control.setQuirks({ deleteMode: 'hard' });
			}
		});
	});

	describe("ServiceTitan's clock", () => {
		it('every answer carries a Date header read from its clock, which may jump ahead and step back', async () => {
			const date = async () => Date.parse((await api('GET', '/materials?pageSize=1')).headers.get('date')!);
			const now = s.sim.control.now();
			expect(Math.abs((await date()) - now)).toBeLessThan(1000);
			const [a, b] = s.sim.control.listIds('materials');
			s.sim.control.stepClock(3 * 3600_000);
			expect((await date()) - now).toBeGreaterThan(3 * 3600_000 - 1000);
			const ahead = s.sim.control.updateItem('materials', a, { price: 44 }).modifiedOn;
			s.sim.control.stepClock(-3 * 3600_000);
			expect(Math.abs((await date()) - now)).toBeLessThan(1000);
			// A stamp written after the step back follows the clock: before the one written while it was ahead.
			const back = s.sim.control.updateItem('materials', b, { price: 45 }).modifiedOn;
			expect(normalizeStTimestamp(back) < normalizeStTimestamp(ahead)).toBe(true);
			// Time passing (advanceClock) keeps stamps increasing.
			await advance(1000);
			const next = s.sim.control.updateItem('materials', b, { price: 46 }).modifiedOn;
			expect(normalizeStTimestamp(next) > normalizeStTimestamp(back)).toBe(true);
			// No stamp from the future is left for the tests after this one.
			s.sim.control.updateItem('materials', a, { price: 47 });
		});
	});

	describe('export feed', () => {
		it('walks every record once, resumes from continueFrom, and shows later changes only after the delay', async () => {
			s.sim.control.setQuirks({ exportBatchSize: 100 });
			try {
				const seen = new Map<number, string>();
				let from: string | undefined;
				let pages = 0;
				for (;;) {
					const q: string = from ? `&from=${encodeURIComponent(from)}` : '';
					const p = (await api('GET', `/export/materials?includeRecentChanges=true${q}`)).json as {
						hasMore: boolean;
						continueFrom: string;
						data: Obj[];
					};
					for (const r of p.data) {
						expect(seen.has(r.id as number)).toBe(false);
						seen.set(r.id as number, r.modifiedOn as string);
					}
					from = p.continueFrom;
					pages += 1;
					if (!p.hasMore) break;
				}
				expect(pages).toBeGreaterThan(2);
				expect(seen.size).toBe(s.sim.control.listIds('materials').length);
				// A fresh change is held back for ~15 minutes unless recent changes are asked for.
				const id = s.sim.control.listIds('materials')[5];
				s.sim.control.updateItem('materials', id, { price: 42 });
				const held = (await api('GET', `/export/materials?from=${encodeURIComponent(from as string)}`)).json as { data: Obj[] };
				expect(held.data.map((r) => r.id)).not.toContain(id);
				const recent = (await api('GET', `/export/materials?includeRecentChanges=true&from=${encodeURIComponent(from as string)}`)).json as {
					data: Obj[];
				};
				expect(recent.data.map((r) => r.id)).toContain(id);
				await advance(16 * 60_000);
				const later = (await api('GET', `/export/materials?from=${encodeURIComponent(from as string)}`)).json as { data: Obj[] };
				expect(later.data.map((r) => r.id)).toContain(id);
			} finally {
				s.sim.control.setQuirks({ exportBatchSize: 500 });
			}
		});

		it('starts at a date-time given as `from` (on or after it)', async () => {
			const id = s.sim.control.listIds('materials')[7];
			await advance(60_000);
			const before = new Date(s.sim.control.now()).toISOString();
			await advance(60_000);
			s.sim.control.updateItem('materials', id, { price: 43 });
			const p = (await api('GET', `/export/materials?includeRecentChanges=true&from=${encodeURIComponent(before)}`)).json as { data: Obj[] };
			expect(p.data.map((r) => r.id)).toEqual([id]);
		});

		it('keeps hard-deleted records in the feed as inactive', async () => {
			const id = s.sim.control.listIds('services', { includeInactive: false })[0];
			s.sim.control.deleteItem('services', id);
			await advance(16 * 60_000);
			const p = (await api('GET', '/export/services?from=2020-01-01&includeRecentChanges=true')).json as { data: Obj[]; hasMore: boolean };
			const all: Obj[] = [...p.data];
			expect(all.find((r) => r.id === id)).toMatchObject({ active: false });
		});
	});

	describe('faults', () => {
		it('fails page N of the next listing on every attempt, until a new listing starts', async () => {
			s.sim.control.setFaults({ failListingPage: { entity: 'materials', page: 2 } });
			try {
				expect((await api('GET', '/materials?page=1&pageSize=50')).status).toBe(200);
				expect((await api('GET', '/materials?page=2&pageSize=50')).status).toBe(500);
				expect((await api('GET', '/materials?page=2&pageSize=50')).status).toBe(500);
				expect((await api('GET', '/materials?page=1&pageSize=50')).status).toBe(200);
				expect((await api('GET', '/materials?page=2&pageSize=50')).status).toBe(200);
			} finally {
				s.sim.control.clearFaults();
			}
		});

		it('answers 429 over a request budget, with or without Retry-After', async () => {
			s.sim.control.setFaults({ rateLimit: { budget: 2, windowMs: 60_000 } });
			try {
				await api('GET', '/categories?pageSize=1');
				await api('GET', '/categories?pageSize=1');
				const limited = await api('GET', '/categories?pageSize=1');
				expect(limited.status).toBe(429);
				expect(limited.headers.get('retry-after')).toBe('1');
				s.sim.control.setQuirks({ retryAfter: 'date', retryAfterSeconds: 30 });
				const dated = await api('GET', '/categories?pageSize=1');
				expect(Date.parse(dated.headers.get('retry-after') as string)).toBeGreaterThan(Date.now());
				s.sim.control.setQuirks({ retryAfter: 'none' });
				expect((await api('GET', '/categories?pageSize=1')).headers.get('retry-after')).toBeNull();
			} finally {
				s.sim.control.clearFaults();
				s.sim.control.setQuirks({ retryAfter: 'seconds', retryAfterSeconds: 1 });
			}
		});

		it('injects 5xx, malformed bodies and resets deterministically under a seed', async () => {
			const run = async (): Promise<string[]> => {
				s.sim.control.setFaults({ seed: 99, errorRate: 0.3, malformedRate: 0.3 });
				const out: string[] = [];
				for (let i = 0; i < 12; i++) {
					const a = await api('GET', '/categories?pageSize=1');
					out.push(a.status !== 200 ? String(a.status) : a.json === undefined ? 'malformed' : 'ok');
				}
				return out;
			};
			try {
				const first = await run();
				expect(first).toContain('503');
				expect(first).toContain('malformed');
				expect(first).toContain('ok');
				expect(await run()).toEqual(first);
				s.sim.control.setFaults({ next: [{ action: { kind: 'reset' } }] });
				await expect(api('GET', '/categories?pageSize=1')).rejects.toThrow();
			} finally {
				s.sim.control.clearFaults();
			}
		});

		it('adds latency to API answers', async () => {
			s.sim.control.setFaults({ latencyMs: 150 });
			try {
				const started = Date.now();
				expect((await api('GET', '/categories?pageSize=1')).status).toBe(200);
				expect(Date.now() - started).toBeGreaterThanOrEqual(140);
			} finally {
				s.sim.control.clearFaults();
			}
		});

		it('serves the admin routes over HTTP', async () => {
			const stats = await call(`${s.sim.url}/__sim/stats`);
			expect(stats.json).toMatchObject({ api: expect.any(Number), token: expect.any(Number) });
			const id = s.sim.control.listIds('materials')[7];
			const patched = await call(`${s.sim.url}/__sim/items/materials/${id}`, { method: 'PATCH', body: JSON.stringify({ displayName: 'Edited in ST' }) });
			expect(patched.json).toMatchObject({ id, displayName: 'Edited in ST' });
			const clock = await call(`${s.sim.url}/__sim/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 1000 }) });
			expect((clock.json as Obj).now).toBe(s.sim.control.now());
		});
	});

	describe('control interface', () => {
		it('creates, deactivates and reads items as an ST user would, bumping modifiedOn', async () => {
			const created = s.sim.control.createItem('materials', { code: 'CTL-1', description: 'Made by a test', price: 3 });
			const listed = page(await api('GET', `/materials?ids=${created.id}`)).data;
			expect(listed).toEqual([expect.objectContaining({ id: created.id, code: 'CTL-1', price: 3, active: true })]);
			clockMs += 1_000;
			const deactivated = s.sim.control.deactivate('materials', created.id);
			expect(deactivated.active).toBe(false);
			expect(normalizeStTimestamp(deactivated.modifiedOn) > normalizeStTimestamp(created.modifiedOn)).toBe(true);
			expect(page(await api('GET', `/materials?ids=${created.id}`)).data).toEqual([]);
			expect(s.sim.control.getItem('materials', created.id)).toBe(deactivated);
		});

		it('counts requests per route and status, and resets the counts', async () => {
			s.sim.control.resetStats();
			await api('GET', '/materials?pageSize=1');
			await api('GET', '/materials/1');
			const counts = s.sim.control.requestCounts();
			expect(counts).toMatchObject({ api: 2, byRoute: { 'GET /materials': 1, 'GET /materials/{id}': 1 }, byStatus: { 200: 1, 404: 1 } });
			expect(s.sim.control.requests).toHaveLength(2);
		});
	});

	it('logs requests with method, path, query and body', async () => {
		s.sim.control.resetStats();
		await api('PATCH', `/materials/${s.sim.control.listIds('materials')[0]}`, { price: 12 });
		await api('GET', '/materials?pageSize=5000&active=Any');
		await fetchToken(s);
		const [patch, list, token] = s.sim.control.requests;
		expect(patch).toMatchObject({
			method: 'PATCH',
			path: expect.stringMatching(/^\/pricebook\/v2\/tenant\/\d+\/materials\/\d+$/),
			body: { price: 12 },
			status: 200,
		});
		expect(list).toMatchObject({ method: 'GET', query: { pageSize: '5000', active: 'Any' }, status: 200 });
		expect(token).toMatchObject({ method: 'POST', target: 'token', status: 200 });
		expect(JSON.stringify(s.sim.control.requests)).not.toContain(s.sim.clientSecret);
	});

	it('sent only responses that follow the OpenAPI document', () => {
		expect(s.contract.violations()).toEqual([]);
		expect(s.contract.responsesChecked()).toBeGreaterThan(50);
	});
});

describe('ServiceTitan simulator: generated tenants', () => {
	type Node = { c: Obj; depth: number };
	const walk = (list: Obj[], depth = 1): Node[] => list.flatMap((c) => [{ c, depth }, ...walk((c.subcategories as Obj[]) ?? [], depth + 1)]);

	async function readAll(api: ReturnType<typeof apiOf>, path: string, pageSize: number): Promise<Obj[][]> {
		const pages: Obj[][] = [];
		for (let n = 1; ; n++) {
			const p = page(await api('GET', `${path}${path.includes('?') ? '&' : '?'}pageSize=${pageSize}&page=${n}`));
			pages.push(p.data);
			if (!p.hasMore) return pages;
		}
	}

	describe('the perfect-catch preset (a live tenant: size and shape)', () => {
		let s: CheckedSimulator;
		let api: ReturnType<typeof apiOf>;

		beforeAll(async () => {
			s = await startCheckedSimulator({ tenant: 'perfect-catch', seed: 3, now: () => Date.parse('2025-12-15T12:00:00Z') });
			api = apiOf(s, await fetchToken(s));
		});

		afterAll(async () => {
			await s.stop();
		});

		it('holds about 1,160 categories (12 roots, nested up to 6 levels), 2,161 services, 205 equipment and 5,000 materials', () => {
			const ids = (e: 'categories' | 'services' | 'equipment' | 'materials') => s.sim.control.listIds(e).length;
			expect([ids('categories'), ids('services'), ids('equipment'), ids('materials')]).toEqual([1_160, 2_161, 205, 5_000]);
		});

		it('pages categories by roots: pageSize counts roots, each with its whole tree, 6 levels at most', async () => {
			const pages = await readAll(api, '/categories?active=Any', 5);
			expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
			const nodes = walk(pages.flat());
			expect(nodes.filter((n) => n.depth === 1)).toHaveLength(12);
			expect(nodes.length).toBe(1_160);
			expect(Math.max(...nodes.map((n) => n.depth))).toBe(6);
			for (const { c } of nodes) expect(c).not.toHaveProperty('modifiedOn');
			// Literal "Null" strings are data.
			expect(nodes.filter(({ c }) => c.description === 'Null').length).toBeGreaterThan(10);
		});

		it('links services to existing materials (about 43% have some) and equipment', async () => {
			const materials = new Set(s.sim.control.listIds('materials'));
			const equipment = new Set(s.sim.control.listIds('equipment'));
			const services = s.sim.control.listIds('services').map((id) => s.sim.control.getItem('services', id) as Obj);
			const withMaterials = services.filter((svc) => (svc.serviceMaterials as Obj[]).length > 0).length;
			expect(withMaterials / services.length).toBeGreaterThan(0.4);
			expect(withMaterials / services.length).toBeLessThan(0.47);
			expect(services.flatMap((svc) => svc.serviceMaterials as Array<{ skuId: number }>).every((l) => materials.has(l.skuId))).toBe(true);
			const equipmentLinks = services.flatMap((svc) => svc.serviceEquipment as Array<{ skuId: number }>);
			expect(equipmentLinks.length).toBeGreaterThan(100);
			expect(equipmentLinks.every((l) => equipment.has(l.skuId))).toBe(true);
			expect(services.filter((svc) => (svc.price as number) > 0).length / services.length).toBeGreaterThan(0.7);
			expect(services.filter((svc) => (svc.cost as number) > 0).length).toBeLessThan(60);
		});

		it('holds literal "Null" units of measure', async () => {
			const materials = page(await api('GET', '/materials?active=Any&pageSize=5000')).data;
			expect(materials).toHaveLength(5_000);
			expect(materials.filter((m) => m.unitOfMeasure === 'Null').length).toBeGreaterThan(100);
		});

		it('is deterministic for a seed', async () => {
			const other = await startCheckedSimulator({ tenant: 'perfect-catch', seed: 3, now: () => Date.parse('2025-12-15T12:00:00Z') });
			try {
				const otherApi = apiOf(other, await fetchToken(other));
				expect(page(await otherApi('GET', '/categories?active=Any&pageSize=2')).data).toEqual(
					page(await api('GET', '/categories?active=Any&pageSize=2')).data,
				);
				const id = s.sim.control.listIds('services')[1234];
				expect(other.sim.control.getItem('services', id)).toEqual(s.sim.control.getItem('services', id));
				expect(other.contract.violations()).toEqual([]);
			} finally {
				await other.stop();
			}
		});

		it('sent only responses that follow the OpenAPI document (with the live deviations)', () => {
			expect(s.contract.violations()).toEqual([]);
			expect(s.contract.responsesChecked()).toBeGreaterThan(3);
		});
	});

	it('switches back to the older shapes: 0 to 7 fractional digits, no "Null" strings, counts override the preset', async () => {
		const s = await startCheckedSimulator({
			tenant: 'perfect-catch',
			seed: 3,
			counts: { materials: 800, services: 50, equipment: 10 },
			quirks: { timestampDigits: 'any', nullStrings: false, categoryTimestamps: true },
		});
		try {
			const api = apiOf(s, await fetchToken(s));
			const materials = page(await api('GET', '/materials?active=Any&pageSize=5000')).data;
			expect(materials).toHaveLength(800);
			const digits = new Set(materials.map((m) => (/\.(\d+)Z$/.exec(m.modifiedOn as string)?.[1] ?? '').length));
			expect([...digits].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
			expect(materials.some((m) => m.unitOfMeasure === 'Null')).toBe(false);
			const nodes = walk(page(await api('GET', '/categories?active=Any&pageSize=500')).data);
			expect(nodes).toHaveLength(1_160);
			expect(nodes.some(({ c }) => c.description === 'Null')).toBe(false);
			for (const { c } of nodes) expect(c).toMatchObject({ createdOn: expect.any(String), modifiedOn: expect.any(String) });
			expect(s.contract.violations()).toEqual([]);
		} finally {
			await s.stop();
		}
	});
});
