import { StApiError } from './errors';
import type { StExportPage, StPage, StRecord } from './types';

/** What ST's RFC 7807 error body (documented for 400 and 404) tells, when the body is one. */
export interface StProblem {
	title?: string;
	traceId?: string;
	errors?: Record<string, string[]>;
}

/** undefined for a body that is not JSON (error bodies other than 400/404 may be HTML or empty). */
export function tryParseJson(body: string): unknown {
	try {
		return JSON.parse(body);
	} catch {
		return undefined;
	}
}

export function parseProblem(body: string): StProblem {
	const parsed = tryParseJson(body);
	if (!isObject(parsed)) return {};
	const problem: StProblem = {};
	if (typeof parsed.title === 'string') problem.title = parsed.title;
	if (typeof parsed.traceId === 'string') problem.traceId = parsed.traceId;
	if (isObject(parsed.errors)) {
		const errors: Record<string, string[]> = {};
		for (const [field, messages] of Object.entries(parsed.errors)) {
			errors[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
		}
		problem.errors = errors;
	}
	return problem;
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which call a body belongs to, for error messages. */
export interface CallLabel {
	method: string;
	path: string;
}

function malformed(call: CallLabel, what: string): StApiError {
	return new StApiError(`ServiceTitan ${call.method} ${call.path} answered with a malformed body: ${what}`, {
		kind: 'malformed_response',
		retryable: true,
		method: call.method,
		path: call.path,
	});
}

export function parseJson(body: string, call: CallLabel): unknown {
	try {
		return JSON.parse(body);
	} catch {
		throw malformed(call, 'not JSON');
	}
}

/**
 * Checks only what the client relies on (envelope, numeric ids). Field-level validation of a record is the
 * entity layer's job, so one odd record is skipped there instead of failing a whole page here.
 */
export function toRecord(value: unknown, call: CallLabel): StRecord {
	if (!isObject(value) || !Number.isSafeInteger(value.id)) throw malformed(call, 'a record without a numeric id');
	return value as StRecord;
}

export function toPage(value: unknown, call: CallLabel): StPage {
	if (!isObject(value) || !Array.isArray(value.data) || typeof value.hasMore !== 'boolean') {
		throw malformed(call, 'expected {page, pageSize, hasMore, data}');
	}
	const page: StPage = {
		page: typeof value.page === 'number' ? value.page : 0,
		pageSize: typeof value.pageSize === 'number' ? value.pageSize : value.data.length,
		hasMore: value.hasMore,
		data: value.data.map((item) => toRecord(item, call)),
	};
	if (typeof value.totalCount === 'number' || value.totalCount === null) page.totalCount = value.totalCount;
	return page;
}

export function toExportPage(value: unknown, call: CallLabel): StExportPage {
	if (!isObject(value) || !Array.isArray(value.data) || typeof value.hasMore !== 'boolean' || typeof value.continueFrom !== 'string') {
		throw malformed(call, 'expected {hasMore, continueFrom, data}');
	}
	return {
		hasMore: value.hasMore,
		continueFrom: value.continueFrom,
		data: value.data.map((item) => toRecord(item, call)),
	};
}
