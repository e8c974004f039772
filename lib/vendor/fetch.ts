import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createWriteStream, promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SyncValidationError } from '../sync/errors';

/**
 * Downloads a vendor feed to a temporary file (imports then read it piece by piece: a feed is never held in memory)
 * under rules a hostile or compromised vendor site cannot talk its way around:
 * - one deadline for the whole download, redirects and body included (a server trickling a byte a second must not
 *   hold the 03:00 run forever, which a timeout on idleness allowed);
 * - a size cap, checked as the bytes arrive;
 * - the secret headers go only to the origin of the URL given: a redirect to another origin is followed without
 *   them (as curl and browsers do with Authorization), and a redirect from https to http is refused outright;
 * - a redirect may not lead to a loopback, private, link-local or otherwise internal address unless the URL given
 *   was itself at one (on-prem feeds and tests live there), so a vendor site cannot point the download at the
 *   network it runs in. Names are resolved once per hop and the connection goes to the address checked.
 */
export interface FetchFeedOptions {
	/** Milliseconds for the whole download, redirects and body included; 0 for no limit. Default 60 s. */
	timeoutMs?: number;
	/** Request headers holding a secret (a vendor portal's API key): sent only to the origin of the URL given, never logged. */
	headers?: Record<string, string>;
	/** Default 100 MB. */
	maxBytes?: number;
	/** Default 5. */
	maxRedirects?: number;
	/** Extra certificate authority to trust (an on-prem portal with a private CA), PEM. */
	ca?: string | Buffer;
	/** Which resolved addresses count as internal (default: isInternalAddress). Tests stand a loopback server in for a public one. */
	isInternal?: (address: string) => boolean;
}

export interface DownloadedFeed {
	file: string;
	bytes: number;
	/** Deletes the file (and its directory); call when the import is done. */
	remove(): Promise<void>;
}

export class FeedFetchError extends Error {}

export const DEFAULT_FEED_TIMEOUT_MS = 60_000;
export const DEFAULT_FEED_MAX_BYTES = 100 * 1024 * 1024;

const INTERNAL = new BlockList();
for (const [net, prefix] of [
	['0.0.0.0', 8],
	['10.0.0.0', 8],
	['100.64.0.0', 10],
	['127.0.0.0', 8],
	['169.254.0.0', 16],
	['172.16.0.0', 12],
	['192.0.0.0', 24],
	['192.168.0.0', 16],
	['198.18.0.0', 15],
	['224.0.0.0', 3],
] as const)
	INTERNAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
	['::', 127],
	['64:ff9b::', 96],
	['fc00::', 7],
	['fe80::', 10],
	['ff00::', 8],
] as const)
	INTERNAL.addSubnet(net, prefix, 'ipv6');
// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) need no rule: BlockList checks them against the IPv4 rules.

/** Loopback, private, link-local, carrier-grade NAT, multicast, reserved, unspecified or NAT64 (IPv4 or IPv6, mapped included). */
export function isInternalAddress(address: string): boolean {
	const family = isIP(address);
	if (family === 0) return true; // not an address at all: never trusted
	return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function shown(u: URL): string {
	return `${u.origin}${u.pathname}`;
}

async function resolve(host: string): Promise<LookupAddress[]> {
	const bare = host.replace(/^\[|\]$/g, '');
	const family = isIP(bare);
	if (family !== 0) return [{ address: bare, family }];
	return new Promise((ok, fail) => dnsLookup(bare, { all: true }, (error, addresses) => (error ? fail(error) : ok(addresses))));
}

/** A lookup that answers with the address already checked, so a second DNS answer cannot swap it. */
function pinned(address: LookupAddress): LookupFunction {
	return (_host, options, callback) => {
		if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [address]);
		else callback(null, address.address, address.family);
	};
}

function get(u: URL, address: LookupAddress, headers: Record<string, string>, signal: AbortSignal, ca: FetchFeedOptions['ca']): Promise<http.IncomingMessage> {
	return new Promise((ok, fail) => {
		const options = { method: 'GET', headers, signal, lookup: pinned(address), ...(ca ? { ca } : {}) };
		const req = u.protocol === 'https:' ? https.request(u, options, ok) : http.request(u, options, ok);
		req.on('error', fail);
		req.end();
	});
}

export async function downloadFeed(url: string, options: FetchFeedOptions = {}): Promise<DownloadedFeed> {
	let first: URL;
	try {
		first = new URL(url);
	} catch {
		throw new SyncValidationError('url', `feed URL ${JSON.stringify(url)} is not a URL`);
	}
	// A bad URL is bad input (nothing was fetched); failures of the fetch itself stay FeedFetchError.
	if (!/^https?:$/.test(first.protocol)) throw new SyncValidationError('url', 'feed URL must be http:// or https://');
	const timeoutMs = options.timeoutMs ?? DEFAULT_FEED_TIMEOUT_MS;
	const maxBytes = options.maxBytes ?? DEFAULT_FEED_MAX_BYTES;
	const maxRedirects = options.maxRedirects ?? 5;
	const isInternal = options.isInternal ?? isInternalAddress;
	const abort = new AbortController();
	const timer = timeoutMs > 0 ? setTimeout(() => abort.abort(), timeoutMs) : undefined;
	const dir = await fs.mkdtemp(path.join(tmpdir(), 'vendor-feed-'));
	const file = path.join(dir, 'feed');
	const remove = () => fs.rm(dir, { recursive: true, force: true });
	let current = first;
	try {
		let internalAllowed = false;
		let response: http.IncomingMessage;
		for (let hop = 0; ; hop++) {
			const addresses = await resolve(current.hostname);
			if (hop === 0) internalAllowed = addresses.some((a) => isInternal(a.address));
			else if (!internalAllowed && addresses.some((a) => isInternal(a.address))) {
				throw new FeedFetchError(
					`the feed ${shown(first)} redirects to ${shown(current)}, an internal address (${addresses.map((a) => a.address).join(', ')}); refused so a vendor site cannot reach this network. If the feed really lives there, give that URL directly`,
				);
			}
			const sameOrigin = current.origin === first.origin;
			response = await get(current, addresses[0], sameOrigin ? (options.headers ?? {}) : {}, abort.signal, options.ca);
			const location = response.headers.location;
			if (response.statusCode === undefined || response.statusCode < 300 || response.statusCode >= 400 || !location) break;
			response.resume();
			if (hop >= maxRedirects) throw new FeedFetchError(`fetching the feed ${shown(first)} failed: more than ${maxRedirects} redirects`);
			const next = new URL(location, current);
			if (!/^https?:$/.test(next.protocol))
				throw new FeedFetchError(`the feed ${shown(first)} redirects to a ${next.protocol} URL; only http and https are fetched`);
			if (current.protocol === 'https:' && next.protocol === 'http:') {
				throw new FeedFetchError(
					`the feed ${shown(first)} redirects from https to http (${shown(next)}); refused so the download and any secret header do not travel unencrypted. Ask the vendor for the https address`,
				);
			}
			current = next;
		}
		const status = response.statusCode ?? 0;
		if (status < 200 || status >= 300) {
			response.resume();
			throw new FeedFetchError(`fetching the feed ${shown(first)} failed: HTTP ${status}`);
		}
		const tooBig = () =>
			new FeedFetchError(
				`the feed ${shown(first)} is larger than ${Math.round(maxBytes / 1024 / 1024)} MB; refused (a vendor feed is a few MB: is this the right URL?)`,
			);
		if (Number(response.headers['content-length']) > maxBytes) {
			response.destroy();
			throw tooBig();
		}
		let bytes = 0;
		const counter = new Transform({
			transform(chunk: Buffer, _encoding, callback) {
				bytes += chunk.length;
				callback(bytes > maxBytes ? tooBig() : null, chunk);
			},
		});
		await pipeline(response, counter, createWriteStream(file, { mode: 0o600 }), { signal: abort.signal });
		return { file, bytes, remove };
	} catch (error) {
		await remove();
		if (error instanceof FeedFetchError) throw error;
		if (abort.signal.aborted) {
			throw new FeedFetchError(
				`fetching the feed ${shown(first)} timed out: the whole download must finish within ${timeoutMs / 1000} s (raise the timeout if the feed is large or the site slow)`,
			);
		}
		const e = error as { code?: string; message?: string };
		throw new FeedFetchError(`fetching the feed ${shown(first)} failed: ${e.code ?? e.message ?? String(error)}`);
	} finally {
		clearTimeout(timer);
	}
}
