import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { errorMessage, failureKindOf } from '../../lib';
import { toNodeError } from './errors';

export interface Routed {
	/** Output index (0 for single-output nodes). */
	output: number;
	json: IDataObject;
}

/**
 * Runs `handle` for each input item and routes the results to the node's outputs, with n8n's conventions:
 * pairedItem on every result, errors as NodeApiError/NodeOperationError with the item index, and
 * "Continue On Fail" turning a failure into an item carrying `error` (on the first output; with the error output
 * setting n8n moves it there and adds the input item's fields, the run reference among them).
 *
 * That item holds `error` and nothing else, as n8n only moves such items to the error output: the message n8n
 * shows, what to do, the failure kind, and the cause as the run ledger records it (Fail Sync Run records it).
 */
export async function perItem(
	ctx: IExecuteFunctions,
	outputs: number,
	handle: (itemIndex: number, item: INodeExecutionData) => Promise<Routed[]>,
): Promise<INodeExecutionData[][]> {
	const result: INodeExecutionData[][] = Array.from({ length: outputs }, () => []);
	const items = ctx.getInputData();
	for (let i = 0; i < items.length; i++) {
		try {
			for (const r of await handle(i, items[i])) result[r.output].push({ json: r.json, pairedItem: { item: i } });
		} catch (error) {
			const nodeError = toNodeError(ctx.getNode(), error, i);
			if (!ctx.continueOnFail()) throw nodeError;
			const failure: IDataObject = {
				message: nodeError.message,
				...(nodeError.description ? { description: nodeError.description } : {}),
				failureKind: failureKindOf(error),
				cause: errorMessage(error),
			};
			result[0].push({ json: { error: failure }, pairedItem: { item: i } });
		}
	}
	return result;
}
