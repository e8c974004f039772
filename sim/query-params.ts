import { BadRequest } from './results';

/** A whole-number parameter; absent or empty is `fallback`, anything else not a whole number is a 400. */
export function intParam(query: URLSearchParams, name: string, fallback: number): number {
	const value = query.get(name);
	if (value === null || value === '') return fallback;
	if (!/^-?\d+$/.test(value)) throw new BadRequest({ [name]: [`The value '${value}' is not valid.`] });
	return Number(value);
}

/** true/false in any case; absent or empty is undefined, anything else a 400. */
export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
	const value = query.get(name);
	if (value === null || value === '') return undefined;
	if (/^true$/i.test(value)) return true;
	if (/^false$/i.test(value)) return false;
	throw new BadRequest({ [name]: [`The value '${value}' is not valid.`] });
}
