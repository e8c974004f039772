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

/**
 * Whether a 404 body is ServiceTitan's own not-found answer: its RFC 7807 problem (`type, title, status,
 * traceId, errors, data`) with status 404. A gateway's page, an empty body or another service's JSON is not.
 */
export function isStNotFound(body: string): boolean {
	const parsed = tryParseJson(body);
	if (!isObject(parsed)) return false;
	return parsed.status === 404 && typeof parsed.title === 'string' && (typeof parsed.traceId === 'string' || typeof parsed.type === 'string');
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

/** How a page's items become records (flattening, depth limit, the id check); see PricebookApi. */
export type ToRecords = (items: unknown[], call: CallLabel) => StRecord[];

export function toPage(value: unknown, call: CallLabel, toRecords: ToRecords): StPage {
	if (!isObject(value) || !Array.isArray(value.data) || typeof value.hasMore !== 'boolean') {
		throw malformed(call, 'expected {page, pageSize, hasMore, data}');
	}
	const page: StPage = {
		page: typeof value.page === 'number' ? value.page : 0,
		pageSize: typeof value.pageSize === 'number' ? value.pageSize : value.data.length,
		hasMore: value.hasMore,
		listed: value.data.length,
		data: toRecords(value.data, call),
	};
	if (typeof value.totalCount === 'number' || value.totalCount === null) page.totalCount = value.totalCount;
	return page;
}

export function toExportPage(value: unknown, call: CallLabel, toRecords: ToRecords): StExportPage {
	if (!isObject(value) || !Array.isArray(value.data) || typeof value.hasMore !== 'boolean' || typeof value.continueFrom !== 'string') {
		throw malformed(call, 'expected {hasMore, continueFrom, data}');
	}
	return {
		hasMore: value.hasMore,
		continueFrom: value.continueFrom,
		data: toRecords(value.data, call),
	};
}
