import type { RunProgressEvent } from '../lib';

/**
 * Progress of running syncs: on a terminal one bar per entity type redrawn in place; elsewhere (CI, logs) plain
 * lines, one per page. Every write is one or more whole lines.
 */
export class Progress {
	private readonly state = new Map<string, RunProgressEvent>();
	private drawn = 0;

	constructor(
		private readonly write: (text: string) => void,
		private readonly tty: boolean,
	) {}

	update(event: RunProgressEvent): void {
		this.state.set(event.entityType, event);
		if (!this.tty) {
			this.write(
				event.editsPushed !== undefined
					? `${event.entityType}: local edits pushed ${event.editsPushed} of ${event.editsToPush}\n`
					: `${event.entityType}: page ${event.pagesRead}, ${event.itemsSeen}${total(event) ? ` of ${total(event)}` : ''} items\n`,
			);
			return;
		}
		const lines = [...this.state.values()].map((e) =>
			e.editsPushed !== undefined
				? `\x1b[2K  ${e.entityType.padEnd(10)} ${bar(e.editsPushed, e.editsToPush ?? null)} ${e.editsPushed}/${e.editsToPush} local edits pushed\n`
				: `\x1b[2K  ${e.entityType.padEnd(10)} ${bar(e.itemsSeen, total(e))} ${e.itemsSeen}${total(e) ? `/${total(e)}` : ''} items, ${e.pagesRead} page(s)\n`,
		);
		// One write that ends a line, moving up over the old bars first: so a writer that prints whole lines
		// (the CLI's stdout) passes the redraw through unchanged.
		this.write(`${this.drawn > 0 ? `\x1b[${this.drawn}A` : ''}${lines.join('')}`);
		this.drawn = lines.length;
	}

	/** Ends the bars so the next output starts below them. */
	done(): void {
		this.drawn = 0;
		this.state.clear();
	}
}

function bar(done: number, total: number | null): string {
	const width = 24;
	const share = total ? Math.min(1, done / total) : 1;
	const full = Math.round(share * width);
	return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** ServiceTitan counts nested categories by their top level only: a total below what was read is no total. */
function total(e: RunProgressEvent): number | null {
	return e.totalCount !== null && e.totalCount >= e.itemsSeen ? e.totalCount : null;
}
