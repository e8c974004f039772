#!/usr/bin/env node
// `npm run n8n:install -- [--user-folder DIR] [--tarball FILE]`: installs this package into a self-hosted n8n
// the way n8n's own community-package installer (Settings > Community Nodes > Install) does, which cannot be used
// for it because that installer downloads packages from the npm registry and this one is not published there.
//
// What n8n 2.x does, and so what this does (n8n's CommunityPackagesService.downloadPackage):
//   1. unpack the package into <N8N_USER_FOLDER>/.n8n/nodes/node_modules/<name> (n8n loads every n8n-nodes-*
//      folder there at start, on the main instance and on each queue-mode worker);
//   2. drop its devDependencies, peerDependencies and optionalDependencies, then run `npm install` inside it with
//      --install-strategy=shallow --ignore-scripts --bin-links=false --package-lock=false: only the runtime
//      dependencies land, in the package's own node_modules. n8n-workflow (a peer) is never installed: n8n puts
//      its own modules on the resolution path, and a second copy would not be the n8n-workflow n8n runs;
//   3. record the version in <N8N_USER_FOLDER>/.n8n/nodes/package.json.
// From a clone it first builds (when dist/ is older than the sources) and packs; with --tarball it installs a
// packed file instead and needs nothing but Node and npm, so it can be copied alone to a worker's machine.
// Steps 1-2 happen in a staging folder that replaces the installed copy only once npm succeeded: a failed run
// leaves n8n's folder as it was. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ME = 'n8n-install';
const CLONE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm run n8n:install -- [--user-folder DIR] [--tarball FILE]
  Installs n8n-nodes-perfectcatch-pricebook into a self-hosted n8n (not published on npm, so n8n's
  Settings > Community Nodes > Install cannot fetch it). Run it once per n8n: the main instance and, in queue
  mode, every worker with its own folder; then restart that n8n.
  --user-folder DIR  the N8N_USER_FOLDER of that n8n: it keeps its data in DIR/.n8n and loads community
                     packages from DIR/.n8n/nodes (default: $N8N_USER_FOLDER, else your home folder)
  --tarball FILE     install this packed package (from \`npm pack\`) instead of building and packing the clone
exit codes: 0 installed, 1 the build or npm failed, 2 bad usage or a folder problem (the message says what to do)`;

/** A failure the admin can act on: one line saying what happened and what to do, and the exit code. */
class Stop extends Error {
	constructor(message, code) {
		super(message);
		this.code = code;
	}
}
const usage = (msg) => new Stop(`${msg} (see --help)`, 2);
const setup = (msg) => new Stop(msg, 2);
const failed = (msg) => new Stop(msg, 1);
const say = (msg) => console.log(`${ME}: ${msg}`);

function parseArgs(argv) {
	const opts = { userFolder: process.env.N8N_USER_FOLDER || homedir(), tarball: null, help: false };
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
		const value = () => {
			const v = inline ?? argv[++i];
			if (v === undefined || v === '') throw usage(`${flag} needs a value`);
			return v;
		};
		if (flag === '--help' || flag === '-h') opts.help = true;
		else if (flag === '--user-folder') opts.userFolder = value();
		else if (flag === '--tarball') opts.tarball = value();
		else throw usage(`unknown argument ${argv[i]}`);
	}
	// `--user-folder=~/x` reaches us unexpanded (the shell expands ~ only at the start of a word).
	const home = (p) => (p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p);
	return { ...opts, userFolder: path.resolve(home(opts.userFolder)), tarball: opts.tarball && path.resolve(home(opts.tarball)) };
}

const isDir = (p) => existsSync(p) && statSync(p).isDirectory();

/**
 * n8n's folders for a user folder, as n8n derives them (N8N_USER_FOLDER, then `.n8n`, then `nodes`), checked so
 * that a typo or a wrong user fails here rather than as nodes missing after a restart.
 */
function n8nFolders(userFolder) {
	const n8nFolder = path.join(userFolder, '.n8n');
	const nodesDir = path.join(n8nFolder, 'nodes');
	if (!isDir(userFolder)) {
		throw setup(
			`${userFolder} does not exist: pass the N8N_USER_FOLDER of your n8n with --user-folder (or, if it does not set one, the home folder of the user n8n runs as)`,
		);
	}
	if (!isDir(n8nFolder)) {
		if (path.basename(userFolder) === '.n8n') {
			throw setup(`${userFolder} is n8n's own folder, not its user folder: pass the folder that contains it, --user-folder ${path.dirname(userFolder)}`);
		}
		throw setup(
			`${userFolder} has no .n8n folder, so no n8n has run with it: check --user-folder (it is n8n's N8N_USER_FOLDER, or the home folder of the user n8n runs as), or start n8n once so it creates ${n8nFolder}`,
		);
	}
	const writable = isDir(nodesDir) ? nodesDir : n8nFolder;
	try {
		accessSync(writable, constants.W_OK);
		if (isDir(path.join(nodesDir, 'node_modules'))) accessSync(path.join(nodesDir, 'node_modules'), constants.W_OK);
	} catch {
		const owner = statSync(writable).uid;
		throw setup(
			`cannot write to ${writable} (owned by uid ${owner}; this command runs as uid ${process.getuid?.() ?? '?'}): run it as the user n8n runs as (e.g. sudo -u <that user> npm run n8n:install -- --user-folder ${userFolder}), or give that folder back to that user`,
		);
	}
	return { n8nFolder, nodesDir };
}

/** Runs a command, echoing it; answers its result with the output kept for the error message. */
function exec(cmd, args, { cwd, quiet = false } = {}) {
	say(`$ ${cmd} ${args.join(' ')}${cwd ? `   (in ${cwd})` : ''}`);
	const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', shell: process.platform === 'win32', maxBuffer: 64 * 1024 * 1024 });
	if (r.error) return { ok: false, output: String(r.error.message), status: r.error.code };
	if (!quiet || r.status !== 0) process.stdout.write(r.stdout ?? '');
	process.stderr.write(r.stderr ?? '');
	return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, status: r.status ?? r.signal, stdout: r.stdout ?? '' };
}

function files(dir) {
	if (!isDir(dir)) return [];
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * Whether dist/ must be built: a file n8n or the CLI loads is missing, or a source is newer than the oldest of
 * them. Building takes a while and `npm pack` must not ship a stale dist/.
 */
function needsBuild(pkg) {
	const outputs = [pkg.main, ...Object.values(pkg.bin ?? {}), ...pkg.n8n.nodes, ...pkg.n8n.credentials].map((f) => path.join(CLONE, f));
	if (outputs.some((f) => !existsSync(f))) return true;
	const builtAt = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
	const inputs = [
		...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'gulpfile.js'].map((f) => path.join(CLONE, f)),
		...['lib', 'nodes', 'credentials', 'cli', 'sim'].flatMap((d) => files(path.join(CLONE, d))),
	].filter((f) => existsSync(f));
	return inputs.some((f) => statSync(f).mtimeMs > builtAt);
}

/** Builds the clone if needed and packs it; answers the tarball's path (in a temp folder the caller removes). */
function packClone(tmp) {
	const pkgFile = path.join(CLONE, 'package.json');
	const pkg = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')) : null;
	if (!pkg?.n8n) throw usage(`${CLONE} is not a clone of this package: pass the packed package with --tarball`);
	if (!isDir(path.join(CLONE, 'node_modules'))) throw setup(`the clone has no node_modules: run \`npm ci\` in ${CLONE} first (the build needs it)`);
	if (needsBuild(pkg)) {
		if (!exec('npm', ['run', 'build'], { cwd: CLONE, quiet: true }).ok) throw failed('npm run build failed: fix the error above, then run this again');
	} else say('dist/ is up to date with the sources: not building');
	const packed = exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: CLONE, quiet: true });
	if (!packed.ok) throw failed('npm pack failed: see the error above');
	const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
	return path.join(tmp, info.filename);
}

/** Unpacks a tarball into an empty folder and answers its package.json (name and n8n block checked). */
function unpack(tarball, into) {
	mkdirSync(into, { recursive: true });
	if (!exec('tar', ['-xzf', tarball, '-C', into, '--strip-components=1']).ok) throw failed(`cannot unpack ${tarball}: is it a file made by \`npm pack\`?`);
	const pkgFile = path.join(into, 'package.json');
	const pkg = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')) : null;
	// The name becomes a folder name below n8n's: nothing but what an unscoped package name may hold.
	if (!/^n8n-nodes-[a-z0-9][a-z0-9._-]*$/.test(pkg?.name ?? '') || !pkg.n8n) {
		throw usage(`${tarball} is not an n8n community node package (its package.json needs a name starting with n8n-nodes- and an n8n block)`);
	}
	return pkg;
}

/**
 * Steps 1-3 of the header. The dependencies are installed into a staging folder next to the installed copy (a
 * dot name, which n8n's scan for n8n-nodes-* folders skips), then the folders are swapped.
 */
function install(tarball, nodesDir) {
	const modulesDir = path.join(nodesDir, 'node_modules');
	mkdirSync(modulesDir, { recursive: true });
	const nodesPkgFile = path.join(nodesDir, 'package.json');
	// What n8n writes when the folder is new (CommunityPackagesService.ensurePackageJson).
	if (!existsSync(nodesPkgFile)) writeFileSync(nodesPkgFile, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
	const staging = path.join(modulesDir, `.pricebook-install-${randomBytes(4).toString('hex')}`);
	try {
		const pkg = unpack(tarball, staging);
		const kept = { ...pkg };
		for (const field of ['devDependencies', 'peerDependencies', 'optionalDependencies']) delete kept[field];
		writeFileSync(path.join(staging, 'package.json'), JSON.stringify(kept, null, 2));
		const npm = exec(
			'npm',
			['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'],
			{ cwd: staging },
		);
		if (!npm.ok) {
			throw failed(
				`npm could not install the dependencies of ${pkg.name} (${Object.keys(kept.dependencies ?? {}).join(', ')}; exit ${npm.status}, npm's output is above): check that this machine reaches your npm registry (\`npm ping\`; proxy and registry settings in ~/.npmrc) and run this again; n8n's folder was left as it was`,
			);
		}
		const target = path.join(modulesDir, pkg.name);
		const previous = `${staging}-previous`;
		if (existsSync(target)) renameSync(target, previous);
		try {
			renameSync(staging, target);
		} catch (error) {
			if (existsSync(previous)) renameSync(previous, target);
			throw failed(`cannot move the new copy into ${target} (${error.message}); the installed copy was kept: run this again`);
		}
		rmSync(previous, { recursive: true, force: true });
		const nodesPkg = JSON.parse(readFileSync(nodesPkgFile, 'utf8'));
		nodesPkg.dependencies = { ...nodesPkg.dependencies, [pkg.name]: pkg.version };
		writeFileSync(nodesPkgFile, JSON.stringify(nodesPkg, null, 2));
		return { pkg: kept, target };
	} finally {
		rmSync(staging, { recursive: true, force: true });
	}
}

function main() {
	const opts = parseArgs(process.argv.slice(2));
	if (opts.help) {
		console.log(USAGE);
		return;
	}
	if (opts.tarball && !existsSync(opts.tarball)) throw setup(`${opts.tarball} does not exist: pass the .tgz file \`npm pack\` made`);
	const { nodesDir } = n8nFolders(opts.userFolder);
	const tmp = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-install-'));
	try {
		const tarball = opts.tarball ?? packClone(tmp);
		const { pkg, target } = install(tarball, nodesDir);
		say(`installed ${pkg.name} ${pkg.version} in ${target} (with ${Object.keys(pkg.dependencies ?? {}).join(', ')}; n8n-workflow comes from n8n itself)`);
		const envHint =
			process.env.N8N_USER_FOLDER && path.resolve(process.env.N8N_USER_FOLDER) !== opts.userFolder
				? ` (not ${process.env.N8N_USER_FOLDER}, which this shell has)`
				: '';
		say(
			`done: now restart n8n (in queue mode the main instance and every worker, each after this command ran for its folder). That n8n must run with N8N_USER_FOLDER=${opts.userFolder}${envHint} or as a user whose home it is, without N8N_COMMUNITY_PACKAGES_PREVENT_LOADING=true or community-packages in N8N_DISABLED_MODULES, and with none of the package's nodes in NODES_EXCLUDE.`,
		);
	} finally {
		rmSync(tmp, { recursive: true, force: true });
	}
}

try {
	main();
} catch (error) {
	if (!(error instanceof Stop)) throw error;
	console.error(`${ME}: ${error.message}`);
	process.exit(error.code);
}
