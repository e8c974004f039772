import type { INode } from 'n8n-workflow';
import { exitCodeFor, explainError } from '../../cli/errors';
import { UsageError } from '../../cli/args';
import { ConfigurationError } from '../../cli/context';
import { httpStatusFor } from '../../lib/api/http-status';
import { answerForError, answerForRuns, failureOfAnswer } from '../../lib/api/responses';
import { FAILURE_KINDS, failureKindOf, failureOfRun, needsAttention, SyncFailure, type FailureKind } from '../../lib/failures';
import { ConfigError } from '../../lib/servicetitan/config';
import { StApiError } from '../../lib/servicetitan/errors';
import { SyncNotFoundError, SyncStateError, SyncValidationError } from '../../lib/sync/errors';
import type { RunResult } from '../../lib/sync/run-types';
import { toNodeError, whatToDo } from '../../nodes/shared/errors';

/**
 * Each surface derives its answer from the failure kind in one mapping. These walk every kind, so a kind added
 * to FAILURE_KINDS without a status, an exit code or advice fails here (the Records also fail to compile).
 */

const HTTP: Record<FailureKind, number> = {
	configuration: 500,
	validation: 400,
	not_found: 404,
	busy: 409,
	stale: 409,
	gone_in_st: 409,
	st_unavailable: 502,
	needs_confirmation: 409,
	database: 503,
	internal: 500,
};

const EXIT: Record<FailureKind, number> = {
	configuration: 2,
	validation: 2,
	not_found: 1,
	busy: 3,
	stale: 3,
	gone_in_st: 1,
	st_unavailable: 1,
	needs_confirmation: 1,
	database: 1,
	internal: 1,
};

/** Whose failure it is: the people running the sync (the n8n execution ends failed) or the caller (answered, done). */
const NEEDS_ATTENTION: Record<FailureKind, boolean> = {
	configuration: true,
	validation: false,
	not_found: false,
	busy: false,
	stale: false,
	gone_in_st: false,
	st_unavailable: true,
	needs_confirmation: true,
	database: true,
	internal: true,
};

const node: INode = { id: 'n1', name: 'Node', type: 'test', typeVersion: 1, position: [0, 0], parameters: {} };

function failedRun(entityType: RunResult['entityType'], status: RunResult['status'], failureKind?: FailureKind, message = 'it failed'): RunResult {
	const summary = { newInST: 0, deletedInST: 0, modifiedInSTOnly: 0, modifiedLocalOnly: 0, conflicts: 0, noChange: 0 } as unknown as RunResult['summary'];
	return {
		entityType,
		runId: 1,
		kind: 'entity',
		dryRun: false,
		success: status === 'succeeded',
		status,
		summary,
		itemsSynced: 0,
		itemsPushed: 0,
		pushes: { verified: 0, normalized: 0, ignored: 0 },
		conflictsDetected: 0,
		errors: 0,
		syncedAt: '2024-01-01T00:00:00.000Z',
		message,
		...(failureKind ? { failureKind } : {}),
	};
}

describe('HTTP status per failure kind (lib/api/http-status.ts)', () => {
	it.each([...FAILURE_KINDS])('%s has its status, and answerForError and answerForRuns use it', (kind) => {
		expect(httpStatusFor(kind)).toBe(HTTP[kind]);
		const error = answerForError(new SyncFailure(kind, 'why'));
		expect(error.statusCode).toBe(HTTP[kind]);
		expect(error.body).toMatchObject({ failureKind: kind, ...(HTTP[kind] === 409 ? { reason: kind } : {}) });
		const runs = answerForRuns([failedRun('materials', kind === 'busy' ? 'busy' : 'failed', kind)]);
		expect(runs).toMatchObject({ statusCode: HTTP[kind], body: { failureKind: kind } });
	});

	it('answers runs from their kind, never their message', () => {
		const notFoundWording = 'material 9 exists neither in ServiceTitan nor locally';
		expect(answerForRuns([failedRun('materials', 'failed', 'st_unavailable', notFoundWording)]).statusCode).toBe(502);
		expect(answerForRuns([failedRun('materials', 'failed', 'not_found', 'anything')]).statusCode).toBe(404);
		// A failure decides before a busy run; all succeeded is 200.
		expect(answerForRuns([failedRun('categories', 'busy', 'busy'), failedRun('materials', 'failed', 'database')]).statusCode).toBe(503);
		expect(answerForRuns([failedRun('materials', 'succeeded')])).toEqual({ statusCode: 200, body: { results: [expect.any(Object)] } });
	});

	it('keeps the bodies callers read: field for 400, reason for 409, ServiceTitan kind for 502, a what-to-do line for configuration', () => {
		expect(answerForError(new SyncValidationError('resolvedBy', 'resolvedBy is required'))).toMatchObject({
			statusCode: 400,
			body: { field: 'resolvedBy' },
		});
		expect(answerForError(new SyncNotFoundError('conflict 9 does not exist')).statusCode).toBe(404);
		expect(answerForError(new SyncStateError('stale', 'changed'))).toMatchObject({ statusCode: 409, body: { reason: 'stale' } });
		expect(answerForError(new StApiError('boom', { kind: 'server', status: 503, retryable: true }))).toMatchObject({
			statusCode: 502,
			body: { error: 'ServiceTitan: boom', kind: 'server' },
		});
		expect(answerForError(new ConfigError('ST_CLIENT_ID is missing', ['ST_CLIENT_ID']))).toMatchObject({
			statusCode: 500,
			body: { error: expect.stringMatching(/ask an administrator/) },
		});
		expect(answerForError(new Error('a bug'))).toMatchObject({ statusCode: 500, body: { error: 'a bug', failureKind: 'internal' } });
	});
});

describe('which failures end an n8n execution failed (lib/failures.ts needsAttention)', () => {
	it.each([...FAILURE_KINDS])('%s: the answer to a webhook call, and a failed run, fail the execution only when the sync needs attention', (kind) => {
		expect(needsAttention(kind)).toBe(NEEDS_ATTENTION[kind]);
		const answered = failureOfAnswer(answerForError(new SyncFailure(kind, 'why')));
		expect(answered && { kind: answered.kind, message: answered.message }).toEqual(
			NEEDS_ATTENTION[kind] ? { kind, message: expect.stringMatching(/^why/) } : undefined,
		);
		expect(failureOfRun(failedRun('materials', 'failed', kind, 'why'))).toMatchObject({ kind, message: 'why' });
	});

	it('a success is no failure; an answer of 5xx without a kind is one (internal), a 4xx without one is not', () => {
		expect(failureOfAnswer(answerForRuns([failedRun('materials', 'succeeded')]))).toBeUndefined();
		expect(failureOfRun(failedRun('materials', 'succeeded'))).toBeUndefined();
		expect(failureOfRun(failedRun('materials', 'busy', 'busy'))).toBeUndefined();
		expect(failureOfAnswer({ statusCode: 500, body: { error: 'Workflow could not be started' } })).toMatchObject({
			kind: 'internal',
			message: 'Workflow could not be started',
		});
		expect(failureOfAnswer({ statusCode: 404, body: {} })).toBeUndefined();
	});
});

describe('n8n error per failure kind (nodes/shared/errors.ts)', () => {
	it.each([...FAILURE_KINDS])('%s says what to do', (kind) => {
		expect(whatToDo(kind, new SyncFailure(kind, 'why'))).toMatch(/\w{4,}/);
		const error = toNodeError(node, new SyncFailure(kind, 'why'), 0);
		expect(error.name).toBe(kind === 'st_unavailable' ? 'NodeApiError' : 'NodeOperationError');
		expect(error.description).toBe(whatToDo(kind, new SyncFailure(kind, 'why')));
	});

	it('ServiceTitan failures stay NodeApiError with their status; validation names the field', () => {
		const st = toNodeError(node, new StApiError('forbidden', { kind: 'auth', status: 403, retryable: false }), 2) as {
			name: string;
			httpCode: string | null;
			description?: string | null;
		};
		expect(st).toMatchObject({ name: 'NodeApiError', httpCode: '403', description: expect.stringMatching(/credential/) });
		const refused = toNodeError(node, new StApiError('bad price', { kind: 'validation', status: 400, retryable: false }), 0);
		expect(refused.name).toBe('NodeApiError');
		expect(toNodeError(node, new SyncValidationError('pageSize', 'pageSize must be a whole number'), 0).description).toContain('"pageSize"');
	});
});

describe('CLI exit code per failure kind (cli/errors.ts)', () => {
	it.each([...FAILURE_KINDS])('%s exits with its documented code', (kind) => {
		expect(exitCodeFor(kind)).toBe(EXIT[kind]);
		expect(explainError(new SyncFailure(kind, 'why'))).toMatchObject({ exitCode: EXIT[kind], showUsage: kind === 'validation' });
	});

	it('treats its own usage errors and PostgreSQL it cannot reach as usage/configuration, naming what to fix', () => {
		expect(explainError(new UsageError('unknown option --x'))).toEqual({ exitCode: 2, message: 'unknown option --x', showUsage: true });
		expect(explainError(new ConfigurationError('DATABASE_URL is not set'))).toMatchObject({ exitCode: 2, showUsage: false });
		expect(explainError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
			exitCode: 2,
			message: expect.stringMatching(/cannot connect to PostgreSQL/),
		});
		expect(explainError(Object.assign(new Error('password authentication failed'), { code: '28P01', severity: 'FATAL' })).exitCode).toBe(2);
		expect(explainError(Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' })).exitCode).toBe(1);
		expect(explainError(new SyncValidationError('resolvedBy', '--by is required')).message).toBe('--by is required (field resolvedBy)');
		expect(explainError(new ConfigError('ST_CLIENT_SECRET is missing', ['ST_CLIENT_SECRET'])).message).toMatch(/ST_CLIENT_SECRET is missing \(set them/);
	});
});

describe('failureKindOf', () => {
	it('reads the kind of the named failures and of driver errors', () => {
		expect(failureKindOf(new SyncStateError('gone_in_st', 'gone'))).toBe('gone_in_st');
		expect(failureKindOf(new SyncNotFoundError('no'))).toBe('not_found');
		expect(failureKindOf(Object.assign(new Error('no db'), { code: '3D000', severity: 'FATAL' }))).toBe('configuration');
		expect(failureKindOf(Object.assign(new Error('syntax'), { code: '42601', severity: 'ERROR' }))).toBe('database');
	});
});
