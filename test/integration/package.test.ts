import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

jest.setTimeout(180_000);

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
