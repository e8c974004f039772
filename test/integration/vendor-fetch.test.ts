import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { downloadFeed, FeedFetchError, isInternalAddress } from '../../lib/vendor/fetch';

jest.setTimeout(20_000);

const servers: Server[] = [];
const seen: { server: string; url: string; headers: IncomingHttpHeaders }[] = [];

async function serve(name: string, handler: RequestListener, host = '127.0.0.1', tls?: { key: Buffer; cert: Buffer }): Promise<string> {
	const listener: RequestListener = (req, res) => {
		seen.push({ server: name, url: req.url ?? '', headers: req.headers });
		handler(req, res);
	};
	const server = tls ? createHttpsServer(tls, listener) : createServer(listener);
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(0, host, resolve));
	return `${tls ? 'https' : 'http'}://${host}:${(server.address() as AddressInfo).port}`;
}

const FEED = 'Catalog Number,Net Price\nCED-1,1.00\n';
const secret = { 'X-Api-Key': 'k3y' };
let feedHost: string; // the vendor's site: serves /feed.csv, redirects elsewhere on request
let otherHost: string; // another origin (another port) serving the same feed
let internalHost: string; // 127.0.0.2: stands in for an internal address
let trickle: string;

function redirecting(to: () => string): RequestListener {
	return (req, res) => {
		if (req.url === '/feed.csv') res.writeHead(200).end(FEED);
		else if (req.url?.startsWith('/go')) res.writeHead(302, { location: `${to()}/feed.csv` }).end();
		else res.writeHead(404).end();
	};
}

beforeAll(async () => {
	feedHost = await serve('vendor', (req, res) => {
		if (req.url === '/to-other') res.writeHead(302, { location: `${otherHost}/feed.csv` }).end();
		else if (req.url === '/to-internal') res.writeHead(301, { location: `${internalHost}/feed.csv` }).end();
		else if (req.url === '/same-origin') res.writeHead(302, { location: '/feed.csv' }).end();
		else if (req.url === '/huge') {
			// No content-length: the cap must hold as the bytes arrive.
			res.writeHead(200);
			for (let i = 0; i < 50; i++) res.write('x'.repeat(1024));
			res.end();
		} else redirecting(() => feedHost)(req, res);
	});
	otherHost = await serve(
		'other',
		redirecting(() => otherHost),
	);
	internalHost = await serve(
		'internal',
		redirecting(() => internalHost),
		'127.0.0.2',
	);
	trickle = await serve('trickle', (_req, res) => {
		// Headers at once, then one byte every 100 ms, forever: never idle, never done.
		res.writeHead(200, { 'content-type': 'text/csv' });
		const timer = setInterval(() => res.write('x'), 100);
		res.on('close', () => clearInterval(timer));
	});
});
afterAll(async () => {
	for (const s of servers) {
		s.closeAllConnections();
		await new Promise((resolve) => s.close(resolve));
	}
});

async function text(url: string, options: Parameters<typeof downloadFeed>[1] = {}): Promise<string> {
	const feed = await downloadFeed(url, options);
	try {
		return readFileSync(feed.file, 'utf8');
	} finally {
		await feed.remove();
	}
}

describe('vendor feed downloads', () => {
	it('gives up on a server that trickles bytes once the whole download passes its deadline', async () => {
		// An idle timeout never fired here: a byte every 100 ms held the import forever.
		await expect(downloadFeed(`${trickle}/feed.csv`, { timeoutMs: 1_000 })).rejects.toThrow(/timed out: the whole download must finish within 1 s/);
	});

	it('sends the secret header to the origin given and never to another one a redirect leads to', async () => {
		seen.length = 0;
		expect(await text(`${feedHost}/same-origin`, { headers: secret })).toBe(FEED);
		expect(seen.map((s) => [s.server, s.headers['x-api-key']])).toEqual([
			['vendor', 'k3y'],
			['vendor', 'k3y'],
		]);
		seen.length = 0;
		expect(await text(`${feedHost}/to-other`, { headers: secret })).toBe(FEED);
		expect(seen.map((s) => [s.server, s.headers['x-api-key']])).toEqual([
			['vendor', 'k3y'],
			['other', undefined],
		]);
	});

	it('refuses a redirect to an internal address unless the URL given was at one', async () => {
		// The vendor's loopback server plays a public site: only 127.0.0.2 counts as internal here.
		const onlyDotTwo = (a: string) => a === '127.0.0.2';
		seen.length = 0;
		await expect(downloadFeed(`${feedHost}/to-internal`, { headers: secret, isInternal: onlyDotTwo })).rejects.toThrow(
			/redirects to http:\/\/127\.0\.0\.2:\d+\/feed\.csv, an internal address \(127\.0\.0\.2\); refused/,
		);
		expect(seen.map((s) => s.server)).toEqual(['vendor']);
		// Given an internal URL (an on-prem feed), internal redirects are followed (without the secret: another origin).
		expect(await text(`${feedHost}/to-internal`, { headers: secret })).toBe(FEED);
		expect(await text(`${internalHost}/go`, { isInternal: onlyDotTwo })).toBe(FEED);
	});

	it('refuses a redirect from https to http, sending nothing over http', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'vendor-tls-'));
		const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
		execFileSync(
			'openssl',
			[
				'req',
				'-x509',
				'-newkey',
				'rsa:2048',
				'-nodes',
				'-keyout',
				key,
				'-out',
				cert,
				'-days',
				'1',
				'-subj',
				'/CN=127.0.0.1',
				'-addext',
				'subjectAltName=IP:127.0.0.1',
			],
			{
				stdio: 'ignore',
			},
		);
		const tls = { key: readFileSync(key), cert: readFileSync(cert) };
		const secure = await serve(
			'secure',
			redirecting(() => otherHost),
			'127.0.0.1',
			tls,
		);
		expect(secure).toMatch(/^https:/);
		seen.length = 0;
		await expect(downloadFeed(`${secure}/go`, { headers: secret, ca: tls.cert })).rejects.toThrow(/redirects from https to http .*; refused/);
		expect(seen.map((s) => s.server)).toEqual(['secure']);
		expect(await text(`${secure}/feed.csv`, { headers: secret, ca: tls.cert })).toBe(FEED);
	});

	it('stops a feed larger than the cap as the bytes arrive', async () => {
		await expect(downloadFeed(`${feedHost}/huge`, { maxBytes: 10_000 })).rejects.toThrow(FeedFetchError);
		await expect(downloadFeed(`${feedHost}/huge`, { maxBytes: 10_000 })).rejects.toThrow(/larger than/);
		expect((await text(`${feedHost}/huge`)).length).toBe(50 * 1024);
	});

	it('counts loopback, private, link-local, CGNAT, mapped and unique-local addresses as internal', () => {
		for (const a of [
			'127.0.0.1',
			'10.1.2.3',
			'172.20.0.1',
			'192.168.1.1',
			'169.254.169.254',
			'100.64.0.1',
			'0.0.0.0',
			'::1',
			'::',
			'fe80::1',
			'fd00::1',
			'::ffff:7f00:1',
			'not-an-ip',
		])
			expect([a, isInternalAddress(a)]).toEqual([a, true]);
		for (const a of ['8.8.8.8', '203.0.113.9', '::ffff:808:808', '2001:4860:4860::8888']) expect([a, isInternalAddress(a)]).toEqual([a, false]);
	});
});
