import * as path from 'node:path';
import { closeDatabase } from '../../nodes/shared/database';
import { closeServiceTitanClients } from '../../nodes/shared/servicetitan';
import { SyncEngine } from '../../lib/sync/engine';
import { runCliCaptured } from '../support/cli';
import { credentialsFor, WEBHOOK_KEY, WEBHOOK_KEY_HEADER } from '../support/n8n-credentials';
import { callWebhook, loadWorkflow, runWorkflow, shutdownN8n } from '../support/n8n-harness';
import { retoolUpdate, startHarness, type SyncHarness } from '../support/sync-harness';

jest.setTimeout(120_000);

/**
 * Secrets (client secret, access token, app key, the webhooks' key) never appear in logs, run records, error rows, CLI output or
 * n8n output: every error path is forced, then everything the system wrote or printed is searched for them.
 */
let h: SyncHarness;
const collected: string[] = [];
beforeAll(async () => {
	h = await startHarness();
});
afterAll(async () => {
	shutdownN8n();
	await closeDatabase(credentialsFor(h).pricebookDatabase);
	closeServiceTitanClients();
	await h.close();
});

const WRONG_SECRET = 'wrong-client-secret-7d1f0c9b2a';
const DB_PASSWORD = 'db-password-5e6a1b77';

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
	const run = await runCliCaptured(argv, env);
	collected.push(run.stdout, run.stderr);
	return run;
}

it('no error path leaks a secret into any output or record', async () => {
	const logLines: string[] = [];
	const engine = new SyncEngine({
		db: h.t.db,
		st: h.client,
		log: (level, message, fields) => logLines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
	});
	await engine.runMany('full', ['categories', 'materials']);

	// ServiceTitan 500s on every call, during a run and a push.
	await retoolUpdate(h.t, 'pricebook_materials', h.sim.control.listIds('materials')[0], { price: 3 });
	h.sim.control.setFaults({ errorRate: 1, errorStatus: 500 });
	const failed = await engine.run({ kind: 'incremental', entityType: 'materials' });
	expect(failed.status).toBe('failed');
	collected.push(JSON.stringify(failed));
	h.sim.control.clearFaults();
	// The CLI and the n8n nodes use production retry timing; a 403 fails them at once (it is not retried).
	h.sim.control.setFaults({ errorRate: 1, errorStatus: 403 });
	await cli(['incremental', '--entity', 'materials', '--json'], h.env);
	h.sim.control.clearFaults();

	// Revoked tokens (401 → renewed), then a 400 on a push, then malformed JSON answers.
	h.sim.control.revokeTokens();
	await cli(['incremental', '--entity', 'materials'], h.env);
	await retoolUpdate(h.t, 'pricebook_materials', h.sim.control.listIds('materials')[1], { price: 4 });
	h.sim.control.failNext({ action: { kind: 'status', status: 400 }, match: { method: 'PATCH' } });
	await cli(['incremental', '--entity', 'materials'], h.env);
	h.sim.control.failNext({ action: { kind: 'malformed' }, match: { method: 'GET' } });
	await cli(['entity', 'materials', String(h.sim.control.listIds('materials')[2])], h.env);
	h.sim.control.clearFaults();

	// Wrong ServiceTitan credentials, and a database that is down (its URL carries a password).
	await cli(['full', '--entity', 'materials', '--json'], { ...h.env, ST_CLIENT_SECRET: WRONG_SECRET });
	await cli(['full'], { ...h.env, DATABASE_URL: `postgres://pricebook:${DB_PASSWORD}@127.0.0.1:1/pricebook` });
	await cli(['status', '--json'], { ...h.env, DATABASE_URL: `postgres://pricebook:${DB_PASSWORD}@127.0.0.1:1/pricebook` });

	// n8n: a webhook flow and a scheduled flow while ServiceTitan fails; the whole execution data is searched.
	h.sim.control.setFaults({ errorRate: 1, errorStatus: 403 });
	const credentials = credentialsFor(h);
	const webhook = await callWebhook(loadWorkflow(path.resolve(__dirname, '../../workflows/pricebook-webhook-full.json')), {
		credentials,
		node: 'Webhook',
		request: { method: 'POST', headers: { [WEBHOOK_KEY_HEADER]: WEBHOOK_KEY }, params: {}, query: {}, body: { entityType: 'materials' } },
	});
	const scheduled = await runWorkflow(loadWorkflow(path.resolve(__dirname, '../../workflows/pricebook-incremental-sync.json')), {
		credentials,
		trigger: { node: 'Schedule', items: [{}] },
	});
	for (const run of [webhook.execution!, scheduled]) {
		collected.push(JSON.stringify(run.run), String(run.error?.message ?? ''), JSON.stringify(run.error ?? {}));
	}
	h.sim.control.clearFaults();

	// Everything the database recorded.
	for (const table of ['sync_runs', 'sync_error_log', 'sync_change_log', 'sync_conflicts', 'sync_state']) {
		collected.push(JSON.stringify(await h.t.db.any('SELECT * FROM $1:name', [table])));
	}
	collected.push(...logLines);

	const secrets = [h.sim.clientSecret, h.sim.appKey, WRONG_SECRET, DB_PASSWORD, WEBHOOK_KEY, ...h.sim.control.issuedTokens()];
	expect(h.sim.control.issuedTokens().length).toBeGreaterThan(1);
	const haystack = collected.join('\n');
	expect(haystack.length).toBeGreaterThan(10_000);
	for (const secret of secrets) expect({ secret, found: haystack.includes(secret) }).toEqual({ secret, found: false });
	// The error paths really ran: their traces are in what was searched.
	expect(haystack).toMatch(/answered 500/);
	expect(haystack).toMatch(/answered 403/);
	expect(haystack).toMatch(/cannot connect to PostgreSQL/);
	expect(haystack).toMatch(/rejected/);
});
