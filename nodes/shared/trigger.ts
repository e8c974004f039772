import type { IExecuteFunctions } from 'n8n-workflow';
import { runTriggerOf } from '../../lib';

/** The run ledger's trigger for runs this execution starts: from n8n's execution mode and trigger node (lib decides). */
export function runTrigger(ctx: IExecuteFunctions): string {
	// Older n8n versions have no execution context; the mode alone still tells manual, schedule and webhook apart.
	const context = typeof ctx.getExecutionContext === 'function' ? ctx.getExecutionContext() : undefined;
	return runTriggerOf({ mode: ctx.getMode(), triggerNodeType: context?.triggerNode?.type });
}
