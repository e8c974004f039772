import { ENTITY_TYPES, isEntityType } from '../servicetitan/types';
import type { EntityType } from '../entities/types';
import { SyncValidationError } from '../sync/errors';
import { RESOLUTIONS, type Resolution } from '../sync/resolve';

/**
 * Parsing and validation of the HTTP API's requests (the n8n webhooks Retool calls). Everything a caller sends
 * is checked here, once, so every entry point refuses bad input the same way: a SyncValidationError naming the
 * field (answered as 400), before anything runs.
 */
export const MAX_BODY_BYTES = 64 * 1024;

type Json = Record<string, unknown>;

function objectBody(body: unknown): Json {
	if (body === undefined || body === null || body === '') return {};
	if (typeof body === 'string') {
		if (body.length > MAX_BODY_BYTES) throw new SyncValidationError('body', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
		try {
			return objectBody(JSON.parse(body));
		} catch (error) {
			if (error instanceof SyncValidationError) throw error;
			throw new SyncValidationError('body', 'the request body is not valid JSON');
		}
	}
	if (typeof body !== 'object' || Array.isArray(body)) throw new SyncValidationError('body', 'the request body must be a JSON object');
	if (JSON.stringify(body).length > MAX_BODY_BYTES) throw new SyncValidationError('body', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
	return body as Json;
}

function onlyKeys(body: Json, allowed: readonly string[]): void {
	const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
	if (unknown.length > 0) {
		throw new SyncValidationError(unknown[0], `unknown field "${unknown[0].slice(0, 50)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (this request takes no body)'}`);
	}
}

function optionalBoolean(body: Json, key: string): boolean {
	const value = body[key];
	if (value === undefined) return false;
	if (typeof value !== 'boolean') throw new SyncValidationError(key, `${key} must be true or false`);
	return value;
}

function entityTypeOf(value: unknown, field: string, allowAll: boolean): EntityType[] {
	if (value === undefined && allowAll) return [...ENTITY_TYPES];
	if (allowAll && value === 'all') return [...ENTITY_TYPES];
	if (!isEntityType(value)) {
		throw new SyncValidationError(field, `${field} must be ${allowAll ? 'all, ' : ''}services, materials, equipment or categories`);
	}
	return [value];
}

function positiveId(value: unknown, field: string): number {
	const text = typeof value === 'number' ? String(value) : value;
	if (typeof text !== 'string' || !/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new SyncValidationError(field, `${field} must be a positive whole number`);
	return Number(text);
}

/** An ISO-8601 date-time (a date at least, e.g. 2024-12-10T10:00:00Z): not whatever Date.parse happens to accept ("1", "Dec 10"). */
export function isIsoTime(value: unknown): value is string {
	return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value));
}

export interface SyncRequest {
	kind: 'full' | 'incremental';
	entityTypes: EntityType[];
	dryRun: boolean;
	confirmMassDelete: boolean;
	since?: string;
}

/** POST .../full and .../incremental: `{ entityType?: 'all'|type, dryRun?, confirmMassDelete? (full), since? (incremental) }`. */
export function parseSyncRequest(kind: 'full' | 'incremental', rawBody: unknown): SyncRequest {
	const body = objectBody(rawBody);
	onlyKeys(body, kind === 'full' ? ['entityType', 'dryRun', 'confirmMassDelete'] : ['entityType', 'dryRun', 'since']);
	const request: SyncRequest = {
		kind,
		entityTypes: entityTypeOf(body.entityType, 'entityType', true),
		dryRun: optionalBoolean(body, 'dryRun'),
		confirmMassDelete: optionalBoolean(body, 'confirmMassDelete'),
	};
	if (body.since !== undefined) {
		if (!isIsoTime(body.since)) {
			throw new SyncValidationError('since', 'since must be an ISO-8601 time such as 2024-12-10T10:00:00Z');
		}
		request.since = new Date(body.since).toISOString();
	}
	return request;
}

export interface EntitySyncRequest {
	entityType: EntityType;
	entityId: number;
	dryRun: boolean;
}

/** POST .../entity/:type/:id, body `{ dryRun? }`. */
export function parseEntityRequest(params: unknown, rawBody: unknown): EntitySyncRequest {
	const p = (typeof params === 'object' && params !== null ? params : {}) as Json;
	const body = objectBody(rawBody);
	onlyKeys(body, ['dryRun']);
	return { entityType: entityTypeOf(p.type, 'type', false)[0], entityId: positiveId(p.id, 'id'), dryRun: optionalBoolean(body, 'dryRun') };
}

export interface ResolveHttpRequest {
	conflictId: number;
	resolution: Resolution;
	mergedData?: unknown;
	resolvedBy: string;
}

/** POST .../resolve-conflict/:id, body `{ resolution, resolvedBy, mergedData? }` (mergedData: an object or a JSON string). */
export function parseResolveRequest(params: unknown, rawBody: unknown): ResolveHttpRequest {
	const p = (typeof params === 'object' && params !== null ? params : {}) as Json;
	const body = objectBody(rawBody);
	onlyKeys(body, ['resolution', 'resolvedBy', 'mergedData']);
	const conflictId = positiveId(p.id, 'id');
	if (typeof body.resolution !== 'string' || !(RESOLUTIONS as readonly string[]).includes(body.resolution)) {
		throw new SyncValidationError('resolution', `resolution must be one of ${RESOLUTIONS.join(', ')}`);
	}
	if (typeof body.resolvedBy !== 'string' || body.resolvedBy.trim() === '' || body.resolvedBy.length > 200 || body.resolvedBy.includes('\u0000')) {
		throw new SyncValidationError('resolvedBy', 'resolvedBy is required: the name or e-mail of the person who decided (at most 200 characters, no NUL characters)');
	}
	let mergedData = body.mergedData;
	if (typeof mergedData === 'string') {
		try {
			mergedData = JSON.parse(mergedData);
		} catch {
			throw new SyncValidationError('mergedData', 'mergedData is not valid JSON');
		}
	}
	return { conflictId, resolution: body.resolution as Resolution, resolvedBy: body.resolvedBy, ...(mergedData !== undefined ? { mergedData } : {}) };
}
