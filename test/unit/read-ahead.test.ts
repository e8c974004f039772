import { readAhead } from '../../lib/util/read-ahead';

/** A source that records when each element is asked for, and can fail at one of them. */
function pages(count: number, failAt?: number) {
	const asked: number[] = [];
	let closed = false;
	async function* source() {
		try {
			for (let i = 1; i <= count; i++) {
				asked.push(i);
				await new Promise((r) => setTimeout(r, 5));
				if (i === failAt) throw new Error(`page ${i} did not arrive`);
				yield i;
			}
		} finally {
			closed = true;
		}
	}
	return { source: source(), asked, closed: () => closed };
}

describe('reading the next page ahead', () => {
	it('asks for the next page while the current one is worked on, and hands them out in order', async () => {
		const p = pages(3);
		const seen: { page: number; askedWhileWorking: number[] }[] = [];
		for await (const page of readAhead(p.source)) {
			await new Promise((r) => setTimeout(r, 20));
			seen.push({ page, askedWhileWorking: [...p.asked] });
		}
		expect(seen.map((s) => s.page)).toEqual([1, 2, 3]);
		// Page 2 was already asked for while page 1 was being worked on; never more than one ahead.
		expect(seen[0].askedWhileWorking).toEqual([1, 2]);
		expect(seen[1].askedWhileWorking).toEqual([1, 2, 3]);
	});

	it('fails on a page that did not arrive only after the pages before it were worked on', async () => {
		const p = pages(4, 3);
		const done: number[] = [];
		await expect(
			(async () => {
				for await (const page of readAhead(p.source)) done.push(page);
			})(),
		).rejects.toThrow('page 3 did not arrive');
		expect(done).toEqual([1, 2]);
	});

	it('closes the source when the caller stops early, without an unhandled failure of the page read ahead', async () => {
		const p = pages(4, 2);
		for await (const page of readAhead(p.source)) {
			expect(page).toBe(1);
			break;
		}
		await new Promise((r) => setTimeout(r, 30));
		expect(p.closed()).toBe(true);
	});
});
