import * as path from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { observeCli, refusedCli } from './hostile/cli';
import { tried } from './hostile/figures';
import { hostileInputFile, openConflicts, useRefusalWorld } from './hostile/harness';
import { fingerprintOf, stWrites } from './hostile/untouched';
import { callWebhook, expectWebhookRefuses, workflow, type WebhookCase } from './hostile/webhook';

/**
 * Hostile inputs, to webhooks and commands alike, that got through validation when the hostile-input suite was
 * written: names of JavaScript built-ins, extra arguments, times that are not ISO-8601, NUL characters. Each
 * must now be refused like any other bad input, with nothing written.
 */
hostileInputFile('regressions');

describe('hostile input is refused, naming the problem, and changes nothing', () => {
	const world = useRefusalWorld();

	// Inputs that got through when this suite was written. Each test lists every input with what happened, so one
	// failure shows them all; they have a file (and so a database) of their own because some of them did write.
	describe('inputs that once slipped through validation', () => {
		it('names of JavaScript built-ins (constructor, __proto__, toString) are unknown names like any other', async () => {
			const feed = `--file=${path.join(world.dir, 'feed.csv')}`;
			const cases: Array<[string[], string]> = [
				[['vendor-prices', 'import', '--vendor=constructor', feed], 'unknown vendor'],
				[['vendor-prices', 'import', '--vendor=__proto__', feed], 'unknown vendor'],
				[['full', '--dry-run', '--entity=materials', '--constructor=1'], 'unknown option --constructor'],
				[['status', '--toString=1'], 'unknown option --toString'],
				[['migrate', '--hasOwnProperty', 'x'], 'unknown option --hasOwnProperty'],
			];
			const seen = [];
			for (const [argv, mentions] of cases) seen.push(await observeCli(world.h, 'cli built-in names', argv, mentions));
			expect(seen).toEqual(cases.map(([argv]) => refusedCli(argv)));
		});

		it('every command refuses arguments it does not take (as full and incremental do)', async () => {
			const cases: string[][] = [
				['migrate', 'now'],
				['status', 'materials'],
				['logs', 'materials'],
				['conflicts', String(world.conflictId)],
				['status', "'; DROP TABLE sync_runs; --"],
			];
			const seen = [];
			for (const argv of cases) seen.push(await observeCli(world.h, 'cli extra arguments', argv, `unexpected argument ${argv[1]}`));
			expect(seen).toEqual(cases.map(refusedCli));
		});

		it('--since and --until take ISO-8601 times, on the command line as on the webhook', async () => {
			// Date.parse reads all of these (as 2001-01-01, 2001-12-01, 1999-01-01, ...); the webhook refuses them.
			const values = ['1', '12', '99', '-1', 'x 1', 'pump 7', '12/10/2024', 'Dec 10 2024'];
			const cases: Array<[string[], string]> = values.flatMap((v): Array<[string[], string]> => [
				[['incremental', '--dry-run', '--entity=materials', `--since=${v}`], '--since must be an ISO-8601 time'],
				[['logs', `--since=${v}`], '--since must be an ISO-8601 time'],
				[['logs', `--until=${v}`], '--until must be an ISO-8601 time'],
			]);
			for (const since of values) {
				const c: WebhookCase = {
					defect: 'not ISO-8601',
					body: { entityType: 'materials', since },
					status: 400,
					field: 'since',
					mentions: 'since must be an ISO-8601 time',
				};
				await expectWebhookRefuses(world.h, 'webhook incremental', workflow.incremental, c);
			}
			const seen = [];
			for (const [argv, mentions] of cases) seen.push(await observeCli(world.h, 'cli non-ISO times', argv, mentions));
			expect(seen).toEqual(cases.map(([argv]) => refusedCli(argv)));
		});

		it('a NUL character (which PostgreSQL text cannot hold) is refused before ServiceTitan is changed', async () => {
			// A conflict of its own for every input, all opened first: what one input did (a NUL stored in
			// ServiceTitan) cannot change what the next one sees.
			const conflicts = (await openConflicts(world.h, world.materialIds.slice(10, 14))).map(String);
			const webhookCases: Array<[IDataObject, string]> = [
				[{ resolution: 'use_local', resolvedBy: 'ann\u0000@perfectcatch' }, 'resolvedBy'],
				[{ resolution: 'merged', resolvedBy: 'ann', mergedData: { price: 320, display_name: 'Pump\u0000 seal' } }, 'display_name'],
				[{ resolution: 'merged', resolvedBy: 'ann', mergedData: '{"price": 321, "description": "\\u0000"}' }, 'description'],
			];
			const seen = [];
			for (const [i, [body, mentions]] of webhookCases.entries()) {
				const params = { id: conflicts[i] };
				tried('webhook resolve-conflict (NUL)');
				const before = await fingerprintOf(world.h);
				const writes = stWrites(world.h);
				const answer = await callWebhook(world.h, workflow.resolve, { params, body });
				seen.push({
					body,
					refusedAs4xx: answer.statusCode >= 400 && answer.statusCode < 500,
					namesField: String(answer.body.error).includes(mentions),
					stChanged: stWrites(world.h) > writes,
					dbChanged: JSON.stringify(await fingerprintOf(world.h)) !== JSON.stringify(before),
				});
			}
			// On the command line JSON can carry the NUL as \u0000 (argv itself cannot).
			const argv = [
				'resolve',
				conflicts[webhookCases.length],
				'--resolution=merged',
				'--by=ann',
				'--merged-data={"price": 322, "display_name": "\\u0000"}',
			];
			seen.push(await observeCli(world.h, 'cli resolve (NUL)', argv, 'display_name'));
			expect(seen).toEqual([
				...webhookCases.map(([body]) => ({ body, refusedAs4xx: true, namesField: true, stChanged: false, dbChanged: false })),
				refusedCli(argv),
			]);
		});
	});
});
