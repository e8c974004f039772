import { parseTicks } from './clock';
import { BadRequest } from './results';

/** A position in the export feed: after the record with this modifiedOn (in ticks) and id. */
export interface ExportCursor {
	ticks: bigint;
	id: number;
}

export function encodeCursor(ticks: bigint, id: number): string {
	return Buffer.from(`v1:${ticks}:${id}`).toString('base64url');
}

/** A continuation token of ours, or a date/time such as `2020-01-01` (start at that moment). */
export function decodeCursor(from: string): ExportCursor {
	const decoded = Buffer.from(from, 'base64url').toString('utf8');
	const m = /^v1:(-?\d+):(\d+)$/.exec(decoded);
	if (m) return { ticks: BigInt(m[1]), id: Number(m[2]) };
	const date = /^\d{4}-\d{2}-\d{2}$/.test(from) ? `${from}T00:00:00Z` : from;
	try {
		// "On or after" the date: start just before it.
		return { ticks: parseTicks(date) - 1n, id: Number.MAX_SAFE_INTEGER };
	} catch {
		throw new BadRequest({ from: [`The value '${from}' is not a valid continuation token or date.`] });
	}
}
