import { execFileSync, spawnSync } from 'node:child_process';
import {
	chmodSync,
	copyFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	realpathSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { editorFindsNode } from '../support/n8n-node-search';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
// Loads the unpacked files with Node's own loader, as n8n does (not through jest's transform).
const load = createRequire(__filename);

/**
 * The package as n8n's community-package installer gets it: `npm pack` (which builds first), unpacked; every node
 * and credential listed in package.json's n8n block must be in the tarball, load, and describe itself.
 */
describe('the packed package', () => {
	let dir: string;
	let pkg: { name: string; keywords: string[]; files: string[]; n8n: { n8nNodesApiVersion: number; nodes: string[]; credentials: string[] } };

	beforeAll(() => {
		const out = mkdtempSync(path.join(tmpdir(), 'pricebook-pack-'));
		// What `npm pack` does (prepack builds), with the build's log kept out of pack's JSON.
		execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
		const [info] = JSON.parse(
			execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
				cwd: ROOT,
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'pipe'],
			}),
		) as { filename: string }[];
		execFileSync('tar', ['-xzf', path.join(out, info.filename), '-C', out]);
		dir = path.join(out, 'package');
		// Resolve the runtime dependencies as an installed package would (n8n installs them next to it).
		symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'));
		pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
	});

	it("is a community node package by n8n's conventions", () => {
		expect(pkg.name).toMatch(/^n8n-nodes-/);
		expect(pkg.keywords).toContain('n8n-community-node-package');
		expect(pkg.files).toEqual(['dist']);
		expect(pkg.n8n.n8nNodesApiVersion).toBe(1);
		expect(existsSync(path.join(dir, 'src'))).toBe(false);
		expect(existsSync(path.join(dir, 'test'))).toBe(false);
	});

	it('ships every listed node with its icons, and each loads and describes itself', () => {
		expect(pkg.n8n.nodes.length).toBeGreaterThanOrEqual(10);
		for (const file of pkg.n8n.nodes) {
			const full = path.join(dir, file);
			expect({ file, exists: existsSync(full) }).toEqual({ file, exists: true });
			const mod = load(full) as Record<string, new () => { description: { name: string; displayName: string; icon: { light: string; dark: string } } }>;
			const className = path.basename(file, '.node.js');
			const node = new mod[className]();
			expect(node.description.name).toBeTruthy();
			for (const icon of [node.description.icon.light, node.description.icon.dark]) {
				expect(existsSync(path.join(path.dirname(full), icon.replace(/^file:/, '')))).toBe(true);
			}
		}
	});

	it('ships every listed credential, and each loads', () => {
		for (const file of pkg.n8n.credentials) {
			const full = path.join(dir, file);
			const mod = load(full) as Record<string, new () => { name: string; properties: unknown[]; icon: string }>;
			const credential = new mod[path.basename(file, '.credentials.js')]();
			expect(credential.properties.length).toBeGreaterThan(0);
			expect(existsSync(path.join(path.dirname(full), credential.icon.replace(/^file:/, '')))).toBe(true);
		}
	});

	it('ships the SQL migrations and the command line', () => {
		expect(existsSync(path.join(dir, 'dist/lib/db/migrations/0001_initial_schema.sql'))).toBe(true);
		const help = execFileSync(process.execPath, [path.join(dir, 'dist/cli/main.js'), '--help'], { encoding: 'utf8' });
		expect(help).toMatch(/pricebook-sync/);
	});
});

/**
 * The package installed into an n8n user folder with the documented command, `npm run n8n:install`, as an admin
 * (and the e2e run) does; then loaded from there by n8n's own loader. n8n provides n8n-workflow itself: the install
 * must hold the package's runtime dependencies and nothing else, above all no n8n-workflow.
 */
describe('npm run n8n:install', () => {
	const SCRIPT = path.join(ROOT, 'scripts', 'n8n-install.mjs');
	let userFolder: string;
	let nodesDir: string;
	let installed: string;
	let output: string;
	let pkg: {
		name: string;
		version: string;
		dependencies: Record<string, string>;
		devDependencies: Record<string, string>;
		n8n: { nodes: string[]; credentials: string[] };
	};

	/** Runs the command (as another OS user if asked); answers its exit code and everything it printed. */
	const runInstall = (args: string[], { asUser }: { asUser?: string } = {}) => {
		const id = (flag: string) => execFileSync('id', [flag, asUser!], { encoding: 'utf8' }).trim();
		const [cmd, argv] = asUser
			? ['setpriv', [`--reuid=${id('-u')}`, `--regid=${id('-g')}`, '--clear-groups', process.execPath, ...args]]
			: [process.execPath, args];
		const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8' });
		return { code: r.status, out: `${r.stdout}${r.stderr}` };
	};
	const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';
	/** Every package folder under a node_modules folder, at any depth: name -> paths. */
	const packagesUnder = (dir: string, found = new Map<string, string[]>()) => {
		const modules = path.join(dir, 'node_modules');
		if (!existsSync(modules)) return found;
		for (const entry of readdirSync(modules)) {
			const names = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
			for (const name of names) {
				const at = path.join(modules, name);
				if (!existsSync(path.join(at, 'package.json'))) continue;
				found.set(name, [...(found.get(name) ?? []), at]);
				packagesUnder(at, found);
			}
		}
		return found;
	};

	beforeAll(() => {
		userFolder = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-user-'));
		mkdirSync(path.join(userFolder, '.n8n')); // what n8n's first start leaves
		nodesDir = path.join(userFolder, '.n8n', 'nodes');
		// Exactly the documented command.
		output = execFileSync('npm', ['run', 'n8n:install', '--', '--user-folder', userFolder], {
			cwd: ROOT,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
		installed = path.join(nodesDir, 'node_modules', pkg.name);
	});

	afterAll(() => rmSync(userFolder, { recursive: true, force: true }));

	it('ends with the line saying to restart n8n and which settings it needs', () => {
		expect(lastLine(output)).toMatch(/restart n8n .*every worker/);
		expect(lastLine(output)).toContain(`N8N_USER_FOLDER=${userFolder}`);
		expect(lastLine(output)).toMatch(/N8N_COMMUNITY_PACKAGES_PREVENT_LOADING.*N8N_DISABLED_MODULES.*NODES_EXCLUDE/);
	});

	it("puts the package where n8n loads community packages, as n8n's installer would, and records it", () => {
		expect(readdirSync(path.join(nodesDir, 'node_modules'))).toEqual([pkg.name]); // no staging folder left
		const copy = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
		expect(copy).toMatchObject({ name: pkg.name, version: pkg.version, dependencies: pkg.dependencies, n8n: pkg.n8n });
		expect(copy.devDependencies).toBeUndefined();
		expect(copy.peerDependencies).toBeUndefined();
		expect(JSON.parse(readFileSync(path.join(nodesDir, 'package.json'), 'utf8'))).toEqual({
			name: 'installed-nodes',
			private: true,
			dependencies: { [pkg.name]: pkg.version },
		});
	});

	it('installs the runtime dependencies and what they need, nothing else: no n8n-workflow, no development tool', () => {
		const all = packagesUnder(nodesDir);
		// The package's own node_modules holds its dependencies (--install-strategy=shallow).
		const own = readdirSync(path.join(installed, 'node_modules')).filter((f) => !f.startsWith('.'));
		expect(own).toEqual(expect.arrayContaining(Object.keys(pkg.dependencies)));
		// Everything installed is needed by something installed: its dependencies, optional ones npm takes, and
		// the peers of the dependencies (npm installs those). The package's own peer, n8n-workflow, is not.
		const needed = new Set<string>([pkg.name, ...Object.keys(pkg.dependencies)]);
		for (const [name, paths] of all) {
			if (name === pkg.name) continue;
			for (const at of paths) {
				const p = JSON.parse(readFileSync(path.join(at, 'package.json'), 'utf8'));
				for (const dep of Object.keys({ ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies })) needed.add(dep);
			}
		}
		expect([...all.keys()].filter((name) => !needed.has(name))).toEqual([]);
		expect(all.has('n8n-workflow')).toBe(false);
		const devOnly = Object.keys(pkg.devDependencies).filter((name) => !needed.has(name));
		expect(devOnly.filter((name) => all.has(name))).toEqual([]);
		expect(devOnly).toEqual(expect.arrayContaining(['n8n-core', 'n8n-workflow', 'jest', 'typescript']));
	});

	it("is loaded by n8n's own loader from there: every node with its codex, every credential, n8n-workflow from n8n", () => {
		// n8n's NODE_PATH holds n8n's own modules; here a folder with only n8n-workflow, so that a runtime
		// dependency the install missed cannot be found elsewhere either.
		const n8nModules = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-modules-'));
		symlinkSync(path.join(ROOT, 'node_modules', 'n8n-workflow'), path.join(n8nModules, 'n8n-workflow'));
		const out = execFileSync(process.execPath, [path.join(ROOT, 'test', 'support', 'load-like-n8n.mjs'), installed, ROOT], {
			encoding: 'utf8',
			env: { ...process.env, NODE_PATH: n8nModules, NODE_ENV: 'production' },
		});
		rmSync(n8nModules, { recursive: true, force: true });
		const loaded = JSON.parse(out) as {
			nodes: {
				name: string;
				displayName: string;
				documentationUrl?: string;
				codex?: { alias?: string[]; resources?: { primaryDocumentation?: { url: string }[] } };
			}[];
			credentials: { name: string; documentationUrl?: string }[];
			resolved: Record<string, string>;
		};
		expect(loaded.nodes).toHaveLength(pkg.n8n.nodes.length);
		expect(loaded.credentials).toHaveLength(pkg.n8n.credentials.length);
		for (const typed of ['ServiceTitan', 'pricebook']) {
			expect({ typed, missed: loaded.nodes.filter((n) => !editorFindsNode(typed, n)).map((n) => n.name) }).toEqual({ typed, missed: [] });
		}
		const docs = `${(pkg as unknown as { repository: { url: string } }).repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/blob/main/docs/`;
		for (const n of loaded.nodes) {
			expect({ node: n.name, link: n.documentationUrl?.startsWith(docs), codexLink: n.codex?.resources?.primaryDocumentation?.[0]?.url }).toEqual({
				node: n.name,
				link: true,
				codexLink: n.documentationUrl,
			});
		}
		for (const c of loaded.credentials)
			expect({ credential: c.name, link: c.documentationUrl?.startsWith(docs) }).toEqual({ credential: c.name, link: true });
		expect(loaded.resolved['n8n-workflow'].startsWith(realpathSync(path.join(ROOT, 'node_modules', 'n8n-workflow')) + path.sep)).toBe(true);
		for (const dep of Object.keys(pkg.dependencies))
			expect(loaded.resolved[dep].startsWith(path.join(installed, 'node_modules', dep) + path.sep)).toBe(true);
	});

	it('refuses a folder that does not exist, has no .n8n folder, or is .n8n itself, saying which folder to pass', () => {
		const missing = runInstall([SCRIPT, '--user-folder', path.join(userFolder, 'nope')]);
		expect(missing).toEqual({ code: 2, out: expect.stringMatching(/nope does not exist: pass the N8N_USER_FOLDER of your n8n/) });
		const bare = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-bare-'));
		const noN8n = runInstall([SCRIPT, '--user-folder', bare]);
		expect(noN8n).toEqual({ code: 2, out: expect.stringMatching(/has no \.n8n folder, so no n8n has run with it: check --user-folder/) });
		rmSync(bare, { recursive: true, force: true });
		const inner = runInstall([SCRIPT, '--user-folder', path.join(userFolder, '.n8n')]);
		expect(inner).toEqual({
			code: 2,
			out: expect.stringContaining(`is n8n's own folder, not its user folder: pass the folder that contains it, --user-folder ${userFolder}`),
		});
	});

	it('refuses a user folder it cannot write to, saying to run as the user n8n runs as', () => {
		const folder = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-ro-'));
		mkdirSync(path.join(folder, '.n8n'));
		chmodSync(folder, 0o755);
		// As root every folder is writable: then the command runs as nobody, as an admin logged in as someone else.
		const asRoot = process.getuid?.() === 0;
		const script = path.join(folder, 'n8n-install.mjs'); // readable by that user, wherever the clone is
		copyFileSync(SCRIPT, script);
		if (!asRoot) chmodSync(path.join(folder, '.n8n'), 0o555);
		const r = runInstall([script, '--user-folder', folder, '--tarball', script], asRoot ? { asUser: 'nobody' } : {});
		chmodSync(path.join(folder, '.n8n'), 0o755);
		rmSync(folder, { recursive: true, force: true });
		expect(r).toEqual({ code: 2, out: expect.stringMatching(/cannot write to .*\.n8n .*run it as the user n8n runs as/) });
	});

	it('leaves the installed copy as it was when npm fails, and says so', () => {
		// A package of the same name whose dependency npm cannot get (a tarball that is not there: no network).
		const fixture = mkdtempSync(path.join(tmpdir(), 'pricebook-n8n-broken-'));
		mkdirSync(path.join(fixture, 'package'));
		writeFileSync(
			path.join(fixture, 'package', 'package.json'),
			JSON.stringify({ name: pkg.name, version: '9.9.9', n8n: pkg.n8n, dependencies: { 'missing-fixture': 'file:./missing-fixture.tgz' } }),
		);
		execFileSync('tar', ['-czf', path.join(fixture, 'broken.tgz'), '-C', fixture, 'package']);
		const r = runInstall([SCRIPT, '--user-folder', userFolder, '--tarball', path.join(fixture, 'broken.tgz')]);
		rmSync(fixture, { recursive: true, force: true });
		expect(r.code).toBe(1);
		expect(lastLine(r.out)).toMatch(/npm could not install the dependencies of .*missing-fixture.*n8n's folder was left as it was/);
		expect(JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version).toBe(pkg.version);
		expect(JSON.parse(readFileSync(path.join(nodesDir, 'package.json'), 'utf8')).dependencies).toEqual({ [pkg.name]: pkg.version });
		expect(readdirSync(path.join(nodesDir, 'node_modules'))).toEqual([pkg.name]);
	});
});
