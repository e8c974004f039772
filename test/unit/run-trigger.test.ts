import { runTriggerOf } from '../../lib/sync/run-trigger';

describe('runTriggerOf: the run ledger trigger of an n8n execution', () => {
	it.each([
		[{ mode: 'manual', triggerNodeType: 'n8n-nodes-base.scheduleTrigger' }, 'manual'],
		[{ mode: 'trigger', triggerNodeType: 'n8n-nodes-base.scheduleTrigger' }, 'schedule'],
		[{ mode: 'trigger', triggerNodeType: 'n8n-nodes-base.cron' }, 'schedule'],
		[{ mode: 'trigger' }, 'schedule'],
		[{ mode: 'trigger', triggerNodeType: 'n8n-nodes-base.postgresTrigger' }, 'trigger'],
		[{ mode: 'webhook', triggerNodeType: 'n8n-nodes-perfectcatch-pricebook.pricebookWebhook' }, 'webhook'],
		[{ mode: 'integrated' }, 'sub-workflow'],
		[{ mode: 'retry' }, 'n8n-retry'],
		[{ mode: 'cli' }, 'n8n-cli'],
		[{ mode: undefined }, 'n8n'],
	])('%o → %s', (origin, trigger) => {
		expect(runTriggerOf(origin)).toBe(trigger);
	});
});
