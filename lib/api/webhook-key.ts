import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The check of the key header on the pricebook webhooks (the Pricebook Webhook trigger node calls it). Pure, so
 * the rules are testable without n8n: the configured header must be present exactly once and equal the
 * configured value, compared in constant time. An unconfigured key (empty name or value) refuses every call
 * rather than letting an empty header through.
 */
export interface WebhookKey {
	/** The header's name (any case: Node.js hands request headers on lower-cased). */
	name: string;
	value: string;
}

export type WebhookKeyCheck =
	| { ok: true }
	| {
			ok: false;
			/** 403 for the caller's key (missing or wrong), 500 for a key n8n has not been given. */
			statusCode: 403 | 500;
			/** Safe to send to the caller: names the header, never a value. */
			message: string;
	  };

type Headers = Record<string, string | string[] | undefined>;

// Hashing first makes both sides the same length, so timingSafeEqual neither throws nor tells the length.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function checkWebhookKey(headers: Headers, key: Partial<WebhookKey> | undefined): WebhookKeyCheck {
	const name = typeof key?.name === 'string' ? key.name.trim() : '';
	const expected = typeof key?.value === 'string' ? key.value : '';
	if (!name || !expected) {
		return {
			ok: false,
			statusCode: 500,
			message: 'the webhook key is not set up in n8n: its Header Auth credential needs a header name and a value',
		};
	}
	const sent = headers[name.toLowerCase()];
	if (sent === undefined || sent === '') return { ok: false, statusCode: 403, message: `the ${name} header is missing` };
	// Node.js joins most repeated headers into one string; an array means a header sent twice: refused, not guessed.
	if (typeof sent !== 'string' || !timingSafeEqual(digest(sent), digest(expected))) {
		return { ok: false, statusCode: 403, message: `the ${name} header does not match the key set up in n8n` };
	}
	return { ok: true };
}
