/**
 * What started an n8n execution: n8n's execution mode (IExecuteFunctions.getMode(): 'manual', 'trigger',
 * 'webhook', 'retry', 'integrated', ...) and, when n8n names it, the type of the node the execution started from.
 * Plain strings, so lib/ stays free of n8n.
 */
export interface ExecutionOrigin {
	mode: string | undefined;
	triggerNodeType?: string;
}

/** n8n's schedule triggers: today's Schedule Trigger and the Cron and Interval nodes it replaced. */
const SCHEDULE_TRIGGERS: ReadonlySet<string> = new Set(['n8n-nodes-base.scheduleTrigger', 'n8n-nodes-base.cron', 'n8n-nodes-base.interval']);

/**
 * The run ledger's `trigger` for a run an n8n node starts, taken from the execution rather than from a parameter,
 * so a run someone starts from the editor is never logged as the schedule's:
 * - `manual`: started in the editor (Execute workflow, Execute step, or a test webhook call);
 * - `schedule`: an active workflow's Schedule Trigger ('trigger' mode; also when n8n does not name the node);
 * - `trigger`: an active workflow's other trigger node (e.g. a Postgres or email trigger);
 * - `webhook`: a production webhook call (the Pricebook Webhook flows Retool calls);
 * - `sub-workflow`: called by another workflow's Execute Workflow node;
 * - `n8n-<mode>` for n8n's other modes (`n8n-retry` for a retried execution, `n8n-error`, `n8n-cli`, ...), and
 *   `n8n` when the mode is unknown.
 */
export function runTriggerOf(origin: ExecutionOrigin): string {
	switch (origin.mode) {
		case 'manual':
		case 'webhook':
			return origin.mode;
		case 'trigger':
			return origin.triggerNodeType === undefined || SCHEDULE_TRIGGERS.has(origin.triggerNodeType) ? 'schedule' : 'trigger';
		case 'integrated':
			return 'sub-workflow';
		case undefined:
		case '':
			return 'n8n';
		default:
			return `n8n-${origin.mode}`;
	}
}
