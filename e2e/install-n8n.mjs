// Installs real n8n (pinned) + Node 24 (npm package `node@24`) into a cache folder outside the clone.
// Reused when the marker file for the same version exists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const N8N_VERSION = process.env.E2E_N8N_VERSION || '2.41.1';
export const NODE_SPEC = 'node@24';

export function cacheDir(version = N8N_VERSION) {
	const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
	return path.join(base, 'pricebook-sync-e2e', `n8n-${version}`);
}

function run(cmd, args, opts) {
	const started = Date.now();
	console.log(`e2e: install: $ ${cmd} ${args.join(' ')}`);
	const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status ?? r.signal}`);
	console.log(`e2e: install: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

export function paths(dir = cacheDir()) {
	const nm = path.join(dir, 'node_modules');
	const nodePkgDir = path.join(nm, 'node', 'node_modules');
	const platformDir = existsSync(nodePkgDir) ? readdirSync(nodePkgDir).find((d) => d.startsWith('node-linux-') || d.startsWith('node-darwin-')) : undefined;
	return {
		dir,
		nodeBin: path.join(nm, 'node', 'bin', 'node'),
		nodeDir: platformDir ? path.join(nodePkgDir, platformDir) : undefined,
		n8nBin: path.join(nm, 'n8n', 'bin', 'n8n'),
		marker: path.join(dir, '.installed'),
	};
}

export function ensureN8n({ version = N8N_VERSION } = {}) {
	const dir = cacheDir(version);
	let p = paths(dir);
	if (existsSync(p.marker) && readFileSync(p.marker, 'utf8').trim() === version && existsSync(p.n8nBin)) {
		console.log(`e2e: n8n ${version} already installed in ${dir}`);
		return p;
	}
	const started = Date.now();
	console.log(`e2e: installing n8n ${version} + ${NODE_SPEC} into ${dir} (takes several minutes the first time)`);
	if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'pricebook-sync-e2e-n8n', private: true, version: '0.0.0' }, null, 2));
	const opts = { cwd: dir, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' } };
	run('npm', ['install', '--ignore-scripts', '--no-save', '--loglevel=error', `n8n@${version}`, NODE_SPEC], opts);
	run('npm', ['rebuild', 'node', '--loglevel=error'], opts);
	p = paths(dir);
	if (!p.nodeDir) throw new Error('node@24 platform package not found after install');
	run('npm', ['rebuild', 'sqlite3', `--nodedir=${p.nodeDir}`, '--loglevel=error'], opts);
	const v = spawnSync(p.nodeBin, ['--version'], { encoding: 'utf8' });
	console.log(`e2e: node for n8n: ${v.stdout.trim()}`);
	writeFileSync(p.marker, version + '\n');
	console.log(`e2e: n8n ${version} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
	return p;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	try {
		ensureN8n();
	} catch (e) {
		console.error(`e2e: install failed: ${e.message}`);
		process.exit(1);
	}
}
