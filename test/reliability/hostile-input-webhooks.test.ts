import fc from 'fast-check';
import { notAnObjectBody } from './hostile/bad-values';
import { figures, tried } from './hostile/figures';
import { check, hostileInputFile, RUNS, useRefusalWorld } from './hostile/harness';
import { hostileText, hugeText, smallJson } from './hostile/text';
import { untouched } from './hostile/untouched';
import { callWebhook, expectWebhookRefuses, workflow } from './hostile/webhook';
import { entityCases, resolveCases, syncCases } from './hostile/webhook-cases';

/**
 * Hostile input to the webhooks, run in n8n's own engine: generated malformed requests (wrong types, missing
 * fields, huge bodies, unknown entity types, bad ids, bad JSON in mergedData, SQL injection, Unicode edge cases).
 * Each must be refused (400/404) with a message naming the problem, before anything is written: the database
 * (every table) and ServiceTitan (not one request) stay as they were. The status webhook takes no input and must
 * go on answering 200, reading only.
 *
 * The command line, the inputs that once slipped through and the round trips of hostile text are in the other
 * hostile-input-*.test.ts files; test/reliability/hostile/ holds what they share.
 */
hostileInputFile('webhooks');

describe('hostile input is refused, naming the problem, and changes nothing', () => {
	const world = useRefusalWorld();

	describe('webhooks', () => {
		it('POST full: bad bodies, unknown fields, bad entityType and flags → 400 naming the field', async () => {
			await check(syncCases('full'), RUNS.webhook, (c) => expectWebhookRefuses(world.h, 'webhook full', workflow.full, c));
		});

		it('POST incremental: bad bodies, unknown fields, bad entityType, dryRun and since → 400 naming the field', async () => {
			await check(syncCases('incremental'), RUNS.webhook, (c) => expectWebhookRefuses(world.h, 'webhook incremental', workflow.incremental, c));
		});

		it('POST entity/:type/:id: unknown types, negative and non-numeric ids, bad bodies → 400 naming the field', async () => {
			await check(entityCases(world.materialIds), RUNS.webhook, (c) => expectWebhookRefuses(world.h, 'webhook entity', workflow.entity, c));
		});

		it('POST resolve-conflict/:id: bad ids, resolutions, resolvedBy and mergedData → 400 naming the field (404 for an unknown conflict)', async () => {
			await check(resolveCases(world.conflictId), RUNS.resolveWebhook, (c) =>
				expectWebhookRefuses(world.h, 'webhook resolve-conflict', workflow.resolve, c),
			);
			expect(await world.h.t.db.one('SELECT status FROM sync_conflicts WHERE id = $1', [world.conflictId])).toEqual({ status: 'open' });
		});

		it('GET status takes no input: hostile query strings and bodies leave it answering 200, reading only', async () => {
			const request = fc.record({
				query: fc.dictionary(
					hostileText.filter((k) => k !== '__proto__'),
					fc.oneof(hostileText, fc.array(hostileText, { maxLength: 2 })),
					{ maxKeys: 3 },
				),
				body: fc.oneof(
					notAnObjectBody,
					hugeText.map((huge) => ({ entityType: huge })),
					smallJson,
				),
			});
			await check(request, RUNS.statusWebhook, async (r) => {
				tried('webhook status');
				const answer = await untouched(world.h, () => callWebhook(world.h, workflow.status, r));
				expect(answer).toMatchObject({
					statusCode: 200,
					body: { health: expect.stringMatching(/^(green|yellow|red)$/), materials: { total: world.materialIds.length } },
				});
				figures.readOnlyUnaffected += 1;
			});
		});
	});
});
