import { inspect } from 'node:util';
import { StApiError, type StPage, type StRecord } from '../../lib/servicetitan';

/** A clock the client reads (`now`) and sleeps on (`sleep`), moved only by those sleeps or by `advance`. */
export function fakeTime(start = Date.parse('2026-03-01T08:00:00Z')) {
	let t = start;
	const slept: number[] = [];
	return {
		now: () => t,
		sleep: async (ms: number) => {
			slept.push(ms);
			t += ms;
		},
		advance: (ms: number) => {
			t += ms;
		},
		slept,
	};
}

/** The StApiError a call fails with; anything else (or success) fails the test. */
export async function caught(promise: Promise<unknown>): Promise<StApiError> {
	try {
		await promise;
	} catch (error: unknown) {
		if (error instanceof StApiError) return error;
		throw new Error(`expected an StApiError, got ${inspect(error)}`);
	}
	throw new Error('expected the call to fail');
}

export async function collect(pages: AsyncIterable<StPage>): Promise<StRecord[]> {
	const out: StRecord[] = [];
	for await (const p of pages) out.push(...p.data);
	return out;
}
