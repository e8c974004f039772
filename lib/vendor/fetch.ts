import axios from 'axios';
import { SyncValidationError } from '../sync/errors';

export interface FetchFeedOptions {
	/** Milliseconds for the whole request; a vendor site that hangs must not hold the 03:00 run. */
	timeoutMs?: number;
	/** Extra request headers (e.g. a vendor portal's API key); never logged. */
	headers?: Record<string, string>;
	maxBytes?: number;
}

export class FeedFetchError extends Error {}

/** Downloads a feed as UTF-8 text. Errors name the URL without its query string (which may hold a token). */
export async function fetchFeed(url: string, options: FetchFeedOptions = {}): Promise<string> {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new SyncValidationError('url', `feed URL ${JSON.stringify(url)} is not a URL`);
	}
	// A bad URL is bad input (nothing was fetched); failures of the fetch itself stay FeedFetchError.
	if (!/^https?:$/.test(parsed.protocol)) throw new SyncValidationError('url', 'feed URL must be http:// or https://');
	const shown = `${parsed.origin}${parsed.pathname}`;
	try {
		const response = await axios.get<ArrayBuffer>(url, {
			responseType: 'arraybuffer',
			timeout: options.timeoutMs ?? 60_000,
			headers: options.headers,
			maxContentLength: options.maxBytes ?? 100 * 1024 * 1024,
			// Take the body as sent: decoding below is always UTF-8.
			transformResponse: (data: unknown) => data,
			validateStatus: () => true,
		});
		if (response.status < 200 || response.status >= 300) throw new FeedFetchError(`fetching the feed ${shown} failed: HTTP ${response.status}`);
		return Buffer.from(response.data).toString('utf8');
	} catch (error) {
		if (error instanceof FeedFetchError) throw error;
		const e = error as { code?: string; message?: string };
		if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') throw new FeedFetchError(`fetching the feed ${shown} timed out`);
		throw new FeedFetchError(`fetching the feed ${shown} failed: ${e.code ?? e.message ?? String(error)}`);
	}
}
