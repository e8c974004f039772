import type { IDataObject } from 'n8n-workflow';
import { failureOfAnswer, isFailureKind, type StepFailure } from '../../lib';
import { readRunRef } from './run-ref';

/** A failure an item carries, as Fail Sync Run reads it. */
export interface ItemFailure extends StepFailure {
	/** The message n8n showed for it, and what to do, when the failed node said. */
	shown: string;
	description?: string;
	/** An item of an error output (its execution's runs are closed), not a webhook answer (its run closed itself). */
	fromErrorOutput: boolean;
}

const isObject = (v: unknown): v is IDataObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The failure in an item, if any: an item of a node's error output (`error`: this package's object, see
 * perItem, or another node's message, beside the failed item's own fields and so its run reference), or a
 * webhook answer (`statusCode`, `body`) reporting a failure for the people who run the sync.
 */
export function failureOfItem(json: IDataObject): ItemFailure | undefined {
	if (json.error !== undefined && json.error !== null) {
		const detail: IDataObject = isObject(json.error) ? json.error : { message: String(json.error) };
		const shown = typeof detail.message === 'string' ? detail.message : JSON.stringify(json.error);
		const run = runOf(json);
		return {
			...(run ? { run } : {}),
			message: typeof detail.cause === 'string' ? detail.cause : shown,
			failureKind: isFailureKind(detail.failureKind) ? detail.failureKind : 'internal',
			shown,
			...(typeof detail.description === 'string' ? { description: detail.description } : {}),
			fromErrorOutput: true,
		};
	}
	if (typeof json.statusCode === 'number' && isObject(json.body)) {
		const failure = failureOfAnswer({ statusCode: json.statusCode, body: json.body });
		return failure && { message: failure.message, failureKind: failure.kind, shown: failure.message, fromErrorOutput: false };
	}
	return undefined;
}

/** The run the failed item belonged to: its run reference, when it has one (Start Sync Run's input has none). */
function runOf(json: IDataObject): StepFailure['run'] {
	try {
		const { runId, entityType } = readRunRef(json);
		return { runId, entityType };
	} catch {
		return undefined;
	}
}
