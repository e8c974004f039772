import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { ConfigError } from '../../lib/servicetitan/config';
import { isStApiError } from '../../lib/servicetitan/errors';
import { SyncValidationError } from '../../lib/sync/errors';

/** n8n's error types: ServiceTitan failures as NodeApiError, everything else as NodeOperationError. */
export function toNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (isStApiError(error)) {
		return new NodeApiError(node, error.toJSON() as JsonObject, {
			message: `ServiceTitan: ${error.message}`,
			description: error.retryable ? 'A temporary failure; the next run retries.' : 'Check the ServiceTitan API credential and the item.',
			httpCode: error.status !== undefined ? String(error.status) : null,
			itemIndex,
		} as ConstructorParameters<typeof NodeApiError>[2]);
	}
	const description =
		error instanceof SyncValidationError
			? `Fix the input field "${error.field}"`
			: error instanceof ConfigError
				? 'Check the ServiceTitan API credential'
				: undefined;
	return new NodeOperationError(node, error as Error, { itemIndex, ...(description ? { description } : {}) });
}

