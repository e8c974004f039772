import { checkWebhookKey } from '../../lib/api/webhook-key';

const KEY = { name: 'X-Pricebook-Key', value: 'f3a1c0de-secret' };

describe('the webhook key check', () => {
	it('accepts the configured header with the configured value, whatever the case of its name', () => {
		expect(checkWebhookKey({ 'x-pricebook-key': KEY.value }, KEY)).toEqual({ ok: true });
		expect(checkWebhookKey({ 'x-pricebook-key': KEY.value }, { ...KEY, name: ' x-PRICEBOOK-key ' })).toEqual({ ok: true });
	});

	it.each([
		['missing', {}, /the X-Pricebook-Key header is missing/],
		['empty', { 'x-pricebook-key': '' }, /missing/],
		['wrong', { 'x-pricebook-key': 'f3a1c0de-secreT' }, /does not match/],
		['a prefix of the key', { 'x-pricebook-key': 'f3a1c0de' }, /does not match/],
		['the key and more', { 'x-pricebook-key': `${KEY.value}x` }, /does not match/],
		['sent twice', { 'x-pricebook-key': [KEY.value, KEY.value] }, /does not match/],
		['in another header', { authorization: KEY.value }, /missing/],
	])('refuses a key that is %s with 403, naming the header and never a value', (_what, headers, words) => {
		const check = checkWebhookKey(headers, KEY);
		expect(check).toMatchObject({ ok: false, statusCode: 403, message: expect.stringMatching(words) });
		expect(JSON.stringify(check)).not.toContain('f3a1c0de');
	});

	it.each([
		['no credential', undefined],
		['no header name', { name: '', value: KEY.value }],
		['no value', { name: KEY.name, value: '' }],
	])('refuses every call with 500 when the key is not set up (%s), even one without the header', (_what, key) => {
		for (const headers of [{}, { 'x-pricebook-key': '' }, { 'x-pricebook-key': KEY.value }]) {
			expect(checkWebhookKey(headers, key)).toMatchObject({ ok: false, statusCode: 500, message: expect.stringMatching(/Header Auth credential/) });
		}
	});
});
