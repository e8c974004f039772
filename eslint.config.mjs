// Lint with n8n's own community-node rules. Switched off, each for a stated reason:
// - no-runtime-dependencies: this package targets self-hosted n8n, whose community-package installer installs
//   runtime dependencies (pg-promise, axios); the sync library cannot work without a PostgreSQL driver.
// - the n8n Cloud-only restrictions (no-restricted-globals, no-restricted-imports) are left out by using n8n's
//   own `recommendedWithoutN8nCloudSupport` set: the package is not meant for n8n Cloud (it needs a database).
// Nodes and credentials follow the current rule set (@n8n/eslint-plugin-community-nodes, what `n8n-node lint`
// runs); package.json also gets the classic community-package checks of eslint-plugin-n8n-nodes-base. That
// plugin's older node/credential sets are not used: they contradict the current ones (e.g. `['main']` versus
// `NodeConnectionTypes.Main`).
import n8nCommunityNodes from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const n8nRecommended = n8nCommunityNodes.configs.recommendedWithoutN8nCloudSupport;

// Layer rules: the library knows nothing of n8n or of its two front ends; the sync logic reaches the database
// only through lib/db; the nodes and the CLI use the library only through its public surface (lib/index.ts), so
// the modules behind it can move. Tests and bench may reach inside.
const n8nPackages = { group: ['n8n-workflow', 'n8n-workflow/*', 'n8n-core', 'n8n-core/*'], message: 'lib/ must not depend on n8n: it is shared with the CLI.' };
const frontEnds = {
	group: ['**/nodes/**', '**/cli/**', '**/nodes', '**/cli'],
	message: 'lib/ must not import the n8n nodes or the CLI: they depend on it, not the other way round.',
};
const dbDriver = { group: ['pg-promise', 'pg-promise/*', 'pg', 'pg/*', 'pg-copy-streams'], message: 'lib/sync reaches PostgreSQL only through lib/db.' };
const deepLib = {
	group: ['**/lib/*', '!**/lib/index', '**/lib/*/**'],
	message: 'Import the library through its public surface, lib/index.ts (add the name there if it is missing).',
};
const restrict = (...patterns) => ({ '@typescript-eslint/no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
	...tseslint.configs.recommended.map((config) => ({ ...config, files: ['**/*.ts'] })),
	{
		files: ['**/*.ts'],
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
		},
	},
	{ files: ['lib/**/*.ts'], ignores: ['lib/sync/**'], rules: restrict(n8nPackages, frontEnds) },
	{ files: ['lib/sync/**/*.ts'], rules: restrict(n8nPackages, frontEnds, dbDriver) },
	{ files: ['nodes/**/*.ts', 'cli/**/*.ts'], rules: restrict(deepLib) },
	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'],
		...n8nRecommended,
		rules: {
			...n8nRecommended.rules,
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	// The Pricebook Webhook trigger, and only it: it checks the key against n8n's own Header Auth credential
	// (httpHeaderAuth), the credential the admin already made for the webhooks, chosen per node by the admin (the
	// reuse the rule guards against is a node reaching for credentials nobody gave it). And it is called by Retool
	// at a fixed URL, so there is no third-party webhook to register or delete (n8n's own Webhook node has no
	// webhookMethods either).
	{
		files: ['nodes/PricebookWebhook/**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-credential-reuse': 'off',
			'@n8n/community-nodes/valid-credential-references': 'off',
			'@n8n/community-nodes/webhook-lifecycle-complete': 'off',
		},
	},
	{
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: n8nNodesBase.configs.community.rules,
	},
);
