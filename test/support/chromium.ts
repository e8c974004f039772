import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';

/**
 * The Chromium that browser tests drive, so that `npm ci` is all a fresh machine needs: the npm package
 * @sparticuz/chromium carries a headless Chromium for Linux x64 inside its tarball (brotli-compressed), where
 * playwright-core brings no browser and `playwright install` would download one at run time.
 * CHROMIUM_PATH, when set, names another binary (e.g. Debian's /usr/bin/chromium, or a Chrome on macOS).
 */
export async function chromiumExecutable(): Promise<string> {
	const chosen = process.env.CHROMIUM_PATH;
	if (chosen) {
		if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, which does not exist: point it at a Chromium or Chrome binary, or unset it`);
		return chosen;
	}
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`the bundled Chromium (npm package @sparticuz/chromium) is built for Linux x64 only, not ${process.platform}-${process.arch}: set CHROMIUM_PATH to a Chromium or Chrome binary`,
		);
	}
	return unpackBundled();
}

/**
 * Unpacked once per package version and user into the temp folder, then reused (about 190 MB, 3 s to unpack).
 * Written under a name of its own and renamed into place, so test files or helpers unpacking at the same moment
 * never run a half-written binary. (The package's own executablePath() unpacks to a shared /tmp/chromium and
 * takes any file there as finished.)
 */
async function unpackBundled(): Promise<string> {
	const root = packageRoot();
	const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
	const dir = path.join(tmpdir(), `pricebook-sync-chromium-${version}-${process.getuid?.() ?? 'user'}`);
	const binary = path.join(dir, 'chromium');
	if (existsSync(binary)) return binary;
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const partial = `${binary}.${process.pid}.partial`;
	await pipeline(createReadStream(path.join(root, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(partial, { mode: 0o700 }));
	renameSync(partial, binary);
	return binary;
}

/** The package exports only its JavaScript (not its package.json), so its folder is found from its entry point. */
function packageRoot(): string {
	let entry: string;
	try {
		entry = require.resolve('@sparticuz/chromium');
	} catch {
		throw new Error('the npm package @sparticuz/chromium is not installed: run npm ci (or set CHROMIUM_PATH to a Chromium binary)');
	}
	for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
		const file = path.join(dir, 'package.json');
		if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === '@sparticuz/chromium') return dir;
	}
	throw new Error(`no package.json of @sparticuz/chromium above ${entry}: run npm ci`);
}

/**
 * Headless, and quiet on this machine's closed network: as root Chromium needs --no-sandbox, and without the
 * background-networking flags it keeps trying to reach Google's hosts.
 */
const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
	const executablePath = await chromiumExecutable();
	try {
		return await chromium.launch({ executablePath, args: FLAGS });
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		const libraries = /error while loading shared libraries: (\S+)/.exec(message);
		const hint = libraries
			? `it needs the system library ${libraries[1]} (Debian/Ubuntu: apt-get install libnss3 brings NSS and NSPR, the libraries it links)`
			: 'its output follows';
		throw new Error(`Chromium at ${executablePath} did not start: ${hint}; or set CHROMIUM_PATH to another Chromium binary.\n${message}`);
	}
}
