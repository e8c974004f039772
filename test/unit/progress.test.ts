import { Progress } from '../../cli/progress';

const page = (entityType: 'materials' | 'services', pagesRead: number, itemsSeen: number) => ({
	entityType,
	kind: 'full' as const,
	pagesRead,
	itemsSeen,
	totalCount: 300,
});

describe('the progress display', () => {
	it('redraws its bars on a terminal in whole-line writes, so the CLI’s line-printing stdout passes them through', () => {
		const writes: string[] = [];
		const progress = new Progress((text) => writes.push(text), true);
		progress.update(page('materials', 1, 100));
		progress.update(page('services', 1, 50));
		progress.update(page('materials', 2, 200));
		expect(writes.every((w) => w.endsWith('\n'))).toBe(true);
		// The second and third draws move up over the bars drawn before them, in the same write.
		expect(writes.map((w) => /^\x1b\[(\d)A/.exec(w)?.[1] ?? null)).toEqual([null, '1', '2']);
		expect(writes[2]).toContain('materials  [################........] 200/300 items, 2 page(s)');
	});

	it('prints one plain line per page elsewhere', () => {
		const writes: string[] = [];
		const progress = new Progress((text) => writes.push(text), false);
		progress.update(page('materials', 1, 100));
		expect(writes).toEqual(['materials: page 1, 100 of 300 items\n']);
	});

	it('shows a Retool backlog being pushed after the listing, as a bar on a terminal and a line elsewhere', () => {
		const drawn: string[] = [];
		new Progress((text) => drawn.push(text), true).update({ ...page('materials', 3, 300), editsPushed: 500, editsToPush: 2000 });
		expect(drawn[0]).toContain('materials  [######..................] 500/2000 local edits pushed');
		const lines: string[] = [];
		new Progress((text) => lines.push(text), false).update({ ...page('materials', 3, 300), editsPushed: 500, editsToPush: 2000 });
		expect(lines).toEqual(['materials: local edits pushed 500 of 2000\n']);
	});
});
