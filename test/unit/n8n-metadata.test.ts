import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { anchorsOf } from '../support/markdown-anchors';
import { editorFindsNode } from '../support/n8n-node-search';

/**
 * What n8n's editor shows of the package besides the nodes' parameters: the node panel's search (codex aliases),
 * the nodes' categories, and the Docs links of nodes and credentials, which must open this repository's docs
 * (the package is not on npm, so n8n's default link to its npm page leads nowhere).
 */
const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
	name: string;
	homepage: string;
	repository: { url: string };
	n8n: { nodes: string[]; credentials: string[] };
};
const REPO = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const DOCS = `${REPO}/blob/main/`;

interface Codex {
	node: string;
	categories: string[];
	alias: string[];
	resources: { primaryDocumentation: { url: string }[]; credentialDocumentation?: { url: string }[] };
}
interface Described {
	description: { name: string; displayName: string; documentationUrl?: string };
}

/** Each node as the package lists it (dist/nodes/X/X.node.js), from its source beside its codex file. */
const nodes = pkg.n8n.nodes.map((file) => {
	const source = path.join(ROOT, file.replace(/^dist\//, '').replace(/\.js$/, ''));
	const className = path.basename(source, '.node');
	// eslint-disable-next-line @typescript-eslint/no-require-imports -- the class named by package.json
	const Node = (require(source) as Record<string, new () => Described>)[className];
	const codexFile = `${source}.json`;
	const codex = existsSync(codexFile) ? (JSON.parse(readFileSync(codexFile, 'utf8')) as Codex) : undefined;
	return { className, description: new Node().description, codex };
});
const credentials = pkg.n8n.credentials.map((file) => {
	const source = path.join(ROOT, file.replace(/^dist\//, '').replace(/\.js$/, ''));
	// eslint-disable-next-line @typescript-eslint/no-require-imports -- the class named by package.json
	const Credential = (require(source) as Record<string, new () => { name: string; documentationUrl: string }>)[path.basename(source, '.credentials')];
	return new Credential();
});

/** The file and heading a repository docs URL points at, or why it points nowhere. */
function landing(url: string): string {
	if (!url.startsWith(DOCS)) return `${url} is not in ${DOCS}`;
	const [file, anchor] = url.slice(DOCS.length).split('#');
	const full = path.join(ROOT, file);
	if (!existsSync(full)) return `${file} does not exist`;
	if (anchor === undefined) return 'ok';
	return anchorsOf(readFileSync(full, 'utf8')).has(anchor) ? 'ok' : `${file} has no heading #${anchor}`;
}

describe("the package's n8n metadata", () => {
	it('names its GitHub repository, and its homepage is the README there', () => {
		expect(REPO).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
		expect(pkg.homepage).toBe(`${REPO}#readme`);
	});

	it('gives every node a codex file beside it, for that node, with categories and a docs link', () => {
		expect(nodes).toHaveLength(15);
		for (const { className, description, codex } of nodes) {
			expect({ className, codex: codex !== undefined }).toEqual({ className, codex: true });
			expect(codex!.node).toBe(`${pkg.name}.${description.name}`);
			expect(codex!.categories.length).toBeGreaterThan(0);
			expect(codex!.resources.primaryDocumentation.length).toBeGreaterThan(0);
		}
	});

	it.each(['ServiceTitan', 'pricebook', 'servicetitan', 'Pricebook', 'service titan'])('is found in whole by the node panel\'s search for "%s"', (typed) => {
		const missed = nodes
			.filter(({ description, codex }) => !editorFindsNode(typed, { displayName: description.displayName, codex }))
			.map((n) => n.className);
		expect(missed).toEqual([]);
	});

	it('names both words as aliases of every node, so finding it does not rest on fuzzy matching', () => {
		for (const { className, codex } of nodes) {
			expect({ className, alias: codex!.alias }).toEqual({ className, alias: expect.arrayContaining(['ServiceTitan', 'Pricebook']) });
		}
	});

	it('gives every node one Docs link, the same in its description (which the editor prefers) and its codex', () => {
		for (const { className, description, codex } of nodes) {
			expect({ className, url: description.documentationUrl }).toEqual({ className, url: codex!.resources.primaryDocumentation[0].url });
		}
	});

	it('points every Docs link of nodes, codex files and credentials at a heading that exists in the repository docs', () => {
		const urls = [
			...nodes.flatMap(({ description, codex }) => [
				description.documentationUrl ?? 'no documentationUrl',
				...codex!.resources.primaryDocumentation.map((d) => d.url),
				...(codex!.resources.credentialDocumentation ?? []).map((d) => d.url),
			]),
			...credentials.map((c) => c.documentationUrl),
		];
		expect(credentials).toHaveLength(3);
		const broken = [...new Set(urls)].map((url) => ({ url, lands: landing(url) })).filter((l) => l.lands !== 'ok');
		expect(broken).toEqual([]);
	});
});
