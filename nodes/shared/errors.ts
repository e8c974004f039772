import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { failureKindOf, isStApiError, SyncFailure, type FailureKind } from '../../lib';

/**
 * What the person looking at the failed n8n execution should do, per failure kind: the one place it is decided.
 * A Record, so a new kind without advice does not compile. `error` lets the advice name the field or say
 * whether ServiceTitan's failure was temporary.
 */
const WHAT_TO_DO: Record<FailureKind, (error: unknown) => string> = {
	configuration: () => 'Check the ServiceTitan API and Pricebook Database credentials: a setting is missing or wrong',
	validation: (error) =>
		error instanceof SyncFailure && error.field !== undefined
			? `Fix the input field "${error.field}"`
			: 'ServiceTitan refused the values: fix the item in ServiceTitan or in the pricebook database',
	not_found: () => 'Check the id: it exists neither in ServiceTitan nor in the pricebook database',
	busy: () => 'Another sync of this entity type is running; run this again when it has finished',
	stale: () => 'The item changed since it was looked at; look at it again before deciding',
	gone_in_st: () => 'The item is gone in ServiceTitan: re-create it there, or resolve with use_st to accept the delete',
	st_unavailable: (error) =>
		isStApiError(error) && !error.retryable ? 'Check the ServiceTitan API credential and the item.' : 'A temporary failure; the next run retries.',
	needs_confirmation: () => 'If ServiceTitan really deleted the items, run the full sync again with Confirm Mass Delete',
	database: () => 'Check that the pricebook PostgreSQL server is reachable and the Pricebook Database credential',
	internal: () => 'An unexpected failure: report it with this message',
};

export function whatToDo(kind: FailureKind, error?: unknown): string {
	return WHAT_TO_DO[kind](error);
}

/** n8n's error types: ServiceTitan failures as NodeApiError (with ServiceTitan's status), everything else as NodeOperationError. */
export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const kind = failureKindOf(error);
	const description = whatToDo(kind, error);
	if (isStApiError(error)) {
		return new NodeApiError(
			node,
			error.toJSON() as JsonObject,
			{
				message: `ServiceTitan: ${error.message}`,
				description,
				httpCode: error.status !== undefined ? String(error.status) : null,
				itemIndex,
			} as ConstructorParameters<typeof NodeApiError>[2],
		);
	}
	if (kind === 'st_unavailable') {
		const message = error instanceof Error ? error.message : String(error);
		return new NodeApiError(
			node,
			{ message } as JsonObject,
			{ message: `ServiceTitan: ${message}`, description, itemIndex } as ConstructorParameters<typeof NodeApiError>[2],
		);
	}
	return new NodeOperationError(node, error as Error, { itemIndex, description });
}
