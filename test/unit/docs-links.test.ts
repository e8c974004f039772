import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { anchorsOf } from '../support/markdown-anchors';

/** Links between the docs that name a section (`[text](operating.md#the-nodes)`) land on a heading that exists. */
const ROOT = path.resolve(__dirname, '../..');
const DOC_FILES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).map((f) => path.join('docs', f))].filter((f) => f.endsWith('.md'));

function sectionLinks(file: string): { file: string; target: string; anchor: string }[] {
	const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
	return [...text.matchAll(/\]\(([^)\s#]*)#([^)\s]+)\)/g)]
		.filter(([, target]) => !/^[a-z]+:/i.test(target))
		.map(([, target, anchor]) => ({ file, target: target === '' ? file : path.join(path.dirname(file), target), anchor }));
}

describe('links to a section of the docs', () => {
	const links = DOC_FILES.flatMap(sectionLinks);

	it('are found (the check below has something to check)', () => {
		expect(links.length).toBeGreaterThan(20);
	});

	it('land on a heading that exists', () => {
		const broken = links.filter(
			({ target, anchor }) => !existsSync(path.join(ROOT, target)) || !anchorsOf(readFileSync(path.join(ROOT, target), 'utf8')).has(anchor),
		);
		expect(broken).toEqual([]);
	});
});
