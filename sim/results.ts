import type { SimEntity } from './data';
import { randomHex, type Rng } from './random';

/** An API answer before it becomes HTTP: status and JSON body. */
export interface SimResult {
	status: number;
	body?: unknown;
}

/** An RFC 7807 body as ST sends it (ApiErrorResponse: every field required). */
export function problem(status: number, title: string, rng: Rng, errors: Record<string, string[]> = {}): SimResult {
	const types: Record<number, string> = {
		400: 'https://tools.ietf.org/html/rfc7231#section-6.5.1',
		401: 'https://tools.ietf.org/html/rfc7235#section-3.1',
		404: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
	};
	return {
		status,
		body: {
			type: types[status] ?? 'about:blank',
			title,
			status,
			traceId: `00-${randomHex(rng, 16)}-${randomHex(rng, 8)}-00`,
			errors,
			data: {},
		},
	};
}

/** Thrown anywhere below an API operation for what ST answers with 400; the operation turns it into one. */
export class BadRequest extends Error {
	constructor(readonly errors: Record<string, string[]>) {
		super('One or more validation errors occurred.');
	}
}

/** The 400 answer for a BadRequest; anything else is a simulator bug and is thrown on. */
export function badRequestAnswer(error: unknown, rng: Rng): SimResult {
	if (error instanceof BadRequest) return problem(400, error.message, rng, error.errors);
	throw error;
}

export function notFound(entity: SimEntity, id: number, rng: Rng): SimResult {
	const noun = { services: 'Service', materials: 'Material', equipment: 'Equipment', categories: 'Category' }[entity];
	return problem(404, `${noun} with id ${id} was not found.`, rng);
}
