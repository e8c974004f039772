import type { EntityType } from '../entities/types';
import { SyncValidationError } from '../sync/errors';
import type { Resolution } from '../sync/resolve';
import { entityIdOf, entityTypeOf, entityTypesOf, isoTimeOf, jsonOf, positiveIdOf, resolutionOf, resolvedByOf } from './validators';

/**
 * Parsing and validation of the HTTP API's requests (the n8n webhooks Retool calls). Everything a caller sends
 * is checked here, before anything runs: the body's shape here, its values with the validators the CLI uses too
 * (validators.ts). A refusal is a SyncValidationError naming the field (answered as 400).
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
		throw new SyncValidationError(
			unknown[0],
			`unknown field "${unknown[0].slice(0, 50)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (this request takes no body)'}`,
		);
	}
}

function optionalBoolean(body: Json, key: string): boolean {
	const value = body[key];
	if (value === undefined) return false;
	if (typeof value !== 'boolean') throw new SyncValidationError(key, `${key} must be true or false`);
	return value;
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
		entityTypes: entityTypesOf(body.entityType, 'entityType'),
		dryRun: optionalBoolean(body, 'dryRun'),
		confirmMassDelete: optionalBoolean(body, 'confirmMassDelete'),
	};
	if (body.since !== undefined) request.since = isoTimeOf(body.since, 'since');
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
	return { entityType: entityTypeOf(p.type, 'type'), entityId: entityIdOf(p.id, 'id'), dryRun: optionalBoolean(body, 'dryRun') };
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
	const conflictId = positiveIdOf(p.id, 'id');
	const resolution = resolutionOf(body.resolution, 'resolution');
	const resolvedBy = resolvedByOf(body.resolvedBy, 'resolvedBy');
	const mergedData = jsonOf(body.mergedData, 'mergedData');
	return { conflictId, resolution, resolvedBy, ...(mergedData !== undefined ? { mergedData } : {}) };
}

export interface UndoHttpRequest {
	runId: number;
	by: string;
	dryRun: boolean;
}

/** POST .../undo/:runId, body `{ by, dryRun? }`. */
export function parseUndoRequest(params: unknown, rawBody: unknown): UndoHttpRequest {
	const p = (typeof params === 'object' && params !== null ? params : {}) as Json;
	const body = objectBody(rawBody);
	onlyKeys(body, ['by', 'dryRun']);
	return { runId: positiveIdOf(p.runId, 'runId', 'run id'), by: resolvedByOf(body.by, 'by'), dryRun: optionalBoolean(body, 'dryRun') };
}
