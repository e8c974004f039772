/**
 * Reads the items of a JSON feed as the text arrives, so a feed of any size is never parsed whole (JSON.parse of a
 * 99 MB array took gigabytes): the elements of a root array, or of the one array property of a root object (some
 * exports wrap the array: {"items": [...]}). Each item is parsed on its own once complete; the text around the
 * items is checked as it goes by, so invalid JSON anywhere still fails the feed.
 */
export class JsonFeedError extends Error {}

export const NOT_AN_ARRAY = 'not the expected feed format: JSON feeds must be an array of price objects';

type Expect = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'commaOrClose' | 'end';

const LITERAL = /[-+.0-9a-zA-Z]/;
const WHITESPACE = /[ \t\n\r]/;

export class JsonItemReader {
	private stack: ('[' | '{')[] = [];
	private expect: Expect = 'value';
	/** The stack depth inside the items' array: 1 for a root array, 2 for an array property of a root object; 0 until known. */
	private itemDepth = 0;
	private arrays = 0;
	private rootKind: 'array' | 'object' | 'scalar' | null = null;
	private inString = false;
	private escaped = false;
	private stringIsKey = false;
	private literal: string | null = null;
	private capturing = false;
	private captureDepth = 0;
	private captured: string[] = [];
	private line = 1;
	private out: unknown[] = [];

	push(text: string): unknown[] {
		let start = this.capturing ? 0 : -1;
		for (let i = 0; i < text.length; i++) {
			const c = text[i];
			if (c === '\n') this.line++;
			if (this.inString) {
				if (this.escaped) {
					if (!'"\\/bfnrtu'.includes(c)) this.fail(`bad escape "\\${c}"`);
					this.escaped = false;
				} else if (c === '\\') this.escaped = true;
				else if (c === '"') {
					this.inString = false;
					if (this.stringIsKey) this.expect = 'colon';
					else if (this.valueDone(text, i, start)) start = -1;
				} else if (c < ' ') this.fail('a control character inside a string');
				continue;
			}
			if (this.literal !== null) {
				if (LITERAL.test(c)) {
					this.literal += c;
					continue;
				}
				this.endLiteral();
				// The literal ends before this character, which is read below in the new state.
				if (this.valueDone(text, i - 1, start)) start = -1;
			}
			if (WHITESPACE.test(c)) continue;
			switch (this.expect) {
				case 'end':
					this.fail(`unexpected "${c}" after the end of the JSON`);
					break;
				case 'colon':
					if (c !== ':') this.fail(`expected ":" but found "${c}"`);
					this.expect = 'value';
					break;
				case 'key':
				case 'keyOrClose':
					if (c === '}' && this.expect === 'keyOrClose') {
						if (this.close(c, text, i, start)) start = -1;
					} else if (c === '"') {
						this.inString = true;
						this.stringIsKey = true;
					} else this.fail(`expected a property name but found "${c}"`);
					break;
				case 'commaOrClose':
					if (c === ',') this.expect = this.stack[this.stack.length - 1] === '[' ? 'value' : 'key';
					else if (c === ']' || c === '}') {
						if (this.close(c, text, i, start)) start = -1;
					} else this.fail(`expected "," or a closing bracket but found "${c}"`);
					break;
				case 'value':
				case 'valueOrClose':
					if (c === ']' && this.expect === 'valueOrClose') {
						if (this.close(c, text, i, start)) start = -1;
						break;
					}
					if (this.beginValue(c)) start = i;
					if (c === '[' || c === '{') {
						this.stack.push(c);
						this.expect = c === '[' ? 'valueOrClose' : 'keyOrClose';
					} else if (c === '"') {
						this.inString = true;
						this.stringIsKey = false;
					} else if (LITERAL.test(c)) this.literal = c;
					else this.fail(`unexpected "${c}"`);
					break;
			}
		}
		if (this.capturing && start !== -1) this.captured.push(text.slice(start));
		const out = this.out;
		this.out = [];
		return out;
	}

	end(): unknown[] {
		if (this.literal !== null) {
			this.endLiteral();
			this.valueDone('', -1, -1);
		}
		if (this.inString || this.stack.length > 0 || this.expect !== 'end') this.fail('the JSON ends too early (a truncated download?)');
		if (this.rootKind !== 'array' && this.arrays !== 1) throw new JsonFeedError(NOT_AN_ARRAY);
		const out = this.out;
		this.out = [];
		return out;
	}

	private fail(what: string): never {
		throw new JsonFeedError(`not valid JSON: ${what} on line ${this.line}`);
	}

	private endLiteral(): void {
		const literal = this.literal as string;
		this.literal = null;
		try {
			JSON.parse(literal);
		} catch {
			this.fail(`"${literal.slice(0, 40)}" is not a JSON value`);
		}
	}

	/** Notes a value starting with `c` at the current depth; true when it is an item, whose text is now captured. */
	private beginValue(c: string): boolean {
		const depth = this.stack.length;
		if (depth === 0) {
			this.rootKind = c === '[' ? 'array' : c === '{' ? 'object' : 'scalar';
			if (c === '[') this.itemDepth = 1;
			return false;
		}
		if (depth === 1 && this.rootKind === 'object' && c === '[') {
			// Never guess between several arrays: a wrapper must hold exactly one.
			if (++this.arrays > 1) throw new JsonFeedError(NOT_AN_ARRAY);
			this.itemDepth = 2;
			return false;
		}
		if (depth === this.itemDepth && this.stack[depth - 1] === '[') {
			this.capturing = true;
			this.captureDepth = depth;
			this.captured = [];
			return true;
		}
		return false;
	}

	/** Closes a container at text[i]; true when that completed an item (whose capture then ended). */
	private close(c: string, text: string, i: number, start: number): boolean {
		const open = this.stack.pop();
		if ((c === ']') !== (open === '[')) this.fail(`"${c}" closes a "${open}"`);
		if (this.stack.length === 0) {
			this.expect = 'end';
			return false;
		}
		return this.valueDone(text, i, start);
	}

	/** A value ended at text[i] (inclusive); emits it when it was an item. True when a capture ended. */
	private valueDone(text: string, i: number, start: number): boolean {
		this.expect = this.stack.length === 0 ? 'end' : 'commaOrClose';
		if (!this.capturing || this.stack.length !== this.captureDepth) return false;
		this.captured.push(text.slice(Math.max(start, 0), i + 1));
		const json = this.captured.join('');
		this.captured = [];
		this.capturing = false;
		try {
			this.out.push(JSON.parse(json));
		} catch (error) {
			this.fail((error as Error).message);
		}
		return true;
	}
}
