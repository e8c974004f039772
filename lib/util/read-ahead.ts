/**
 * Yields what `source` yields, asking it for the next element while the caller works on the current one: the wait for
 * ServiceTitan's next page then overlaps the database work on this one (a full sync spent a quarter of its time
 * waiting for pages). At most one element is held ahead, and elements and errors come out in the source's order: a
 * page that fails to arrive fails when the caller asks for it, after everything before it was applied.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
	const it = source[Symbol.asyncIterator]();
	let ahead = it.next();
	let finished = false;
	try {
		for (;;) {
			const r = await ahead;
			if (r.done) {
				finished = true;
				return;
			}
			ahead = it.next();
			// Awaited on the next turn; if the caller stops before that, its failure has nowhere to go and is dropped.
			ahead.catch(() => undefined);
			yield r.value;
		}
	} catch (error) {
		finished = true;
		throw error;
	} finally {
		// The caller stopped early (a failure of its own): let the source close once the read ahead settles, without
		// holding the caller up for it.
		if (!finished)
			void ahead.then(
				() => it.return?.(),
				() => undefined,
			);
	}
}
