// Loads an installed community package the way n8n does at start, in a process of its own: n8n-core's
// PackageDirectoryLoader (which also reads each node's codex file) on the package's folder, with the package's
// `require('n8n-workflow')` answered from NODE_PATH, where n8n puts its own modules. Prints what n8n would serve the
// editor (names, display names, Docs links, codex) and where each module the package needs was found.
//
//   NODE_PATH=<folder holding only n8n-workflow> node load-like-n8n.mjs <installed package folder> <repo root>
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [packageDir, repoRoot] = process.argv.slice(2);
const { PackageDirectoryLoader } = createRequire(path.join(repoRoot, 'package.json'))('n8n-core');
const loader = new PackageDirectoryLoader(packageDir);
await loader.loadAll();
const fromPackage = createRequire(path.join(packageDir, 'package.json'));
const needs = ['n8n-workflow', ...Object.keys(loader.packageJson.dependencies ?? {})];
console.log(
	JSON.stringify({
		nodes: loader.types.nodes.map(({ name, displayName, documentationUrl, codex }) => ({ name, displayName, documentationUrl, codex })),
		credentials: loader.types.credentials.map(({ name, documentationUrl }) => ({ name, documentationUrl })),
		resolved: Object.fromEntries(needs.map((m) => [m, realpathSync(fromPackage.resolve(m))])),
	}),
);
