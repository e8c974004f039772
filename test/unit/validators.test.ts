import { parseEntityRequest, parseSyncRequest } from '../../lib/api/requests';
import { choiceOf, entityIdOf, entityTypesOf, isoTimeOf, positiveIdOf, wholeNumberOf } from '../../lib/api/validators';
import { SyncValidationError } from '../../lib/sync/errors';

/** The webhooks and the CLI share these checks: one rule, the same words, only the name of the input differs. */
function refusal(check: () => unknown): { field: string; message: string } {
	try {
		check();
	} catch (error) {
		if (error instanceof SyncValidationError) return { field: error.field, message: error.message };
		throw error;
	}
	throw new Error('not refused');
}

describe('shared input validators', () => {
	it('word a refusal the same way for a webhook field and a command-line flag', () => {
		const webhook = refusal(() => parseSyncRequest('full', { entityType: 'widgets' }));
		const cli = refusal(() => entityTypesOf('widgets', 'entityType', '--entity'));
		expect(webhook).toEqual({ field: 'entityType', message: 'entityType must be services, materials, equipment, categories or all' });
		expect(cli).toEqual({ field: 'entityType', message: webhook.message.replace('entityType', '--entity') });
		expect(refusal(() => parseEntityRequest({ type: 'materials', id: '0' }, {}))).toEqual(refusal(() => entityIdOf('0', 'id')));
	});

	it('take a new row’s temporary negative id as an item id, and nothing else that is not ServiceTitan’s', () => {
		expect(parseEntityRequest({ type: 'materials', id: '-7' }, {}).entityId).toBe(-7);
		expect(entityIdOf(-12, 'id')).toBe(-12);
		for (const bad of ['0', '-0', '--7', '-7.5', '- 7', '-1e3', '-', -0, -7.5]) expect(() => entityIdOf(bad, 'id')).toThrow(SyncValidationError);
		expect(() => positiveIdOf('-7', 'id')).toThrow(SyncValidationError);
	});

	it('accept plain digits only, within the range', () => {
		for (const bad of ['-1', '1.5', '1e3', ' 5', '0x10', '١٢', '', 10.5, 1e21])
			expect(() => wholeNumberOf(bad, 'limit', { min: 0, max: 999_999 })).toThrow(SyncValidationError);
		expect(wholeNumberOf('42', 'limit', { min: 0, max: 999_999 })).toBe(42);
		expect(wholeNumberOf(5000, 'pageSize', { min: 1, max: 5000 })).toBe(5000);
		expect(refusal(() => wholeNumberOf('9', 'items', { label: '--items', min: 10, max: 200_000, showRange: true })).message).toBe(
			'--items must be a whole number from 10 to 200000',
		);
		expect(refusal(() => wholeNumberOf('x', 'timeout', { label: '--timeout', min: 0, max: 99_999, unit: 'seconds' })).message).toBe(
			'--timeout must be a whole number of seconds',
		);
	});

	it('list choices and times in the words the callers know', () => {
		expect(refusal(() => choiceOf('xml', 'format', ['csv', 'json'], '--format')).message).toBe('--format must be csv or json');
		expect(isoTimeOf('2024-12-10T10:00:00+01:00', 'since')).toBe('2024-12-10T09:00:00.000Z');
		expect(refusal(() => isoTimeOf('Dec 10', 'since', '--since')).message).toBe('--since must be an ISO-8601 time such as 2024-12-10T10:00:00Z');
	});
});
