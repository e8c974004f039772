/**
 * A small RFC 4180 CSV reader: quoted fields (with "" for a quote, and delimiters and line breaks inside quotes),
 * CRLF or LF line ends, a UTF-8 BOM, and the delimiter sniffed from the header line. Written here rather than
 * taken from npm so the package gains no runtime dependency for ~100 lines.
 */
export interface CsvRecord {
	/** The physical line (1-based) the record starts on, for error messages an operator can find in the file. */
	line: number;
	fields: string[];
}

export class CsvFormatError extends Error {}

export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

export function stripBom(text: string): string {
	return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Counts each candidate outside quotes on the first line; the most frequent wins (comma on a tie or none). */
export function sniffDelimiter(text: string): string {
	const counts = new Map<string, number>(CSV_DELIMITERS.map((d) => [d, 0]));
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c === '"') quoted = !quoted;
		else if (!quoted && (c === '\n' || c === '\r')) break;
		else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
	}
	let best = ',';
	for (const d of CSV_DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
	return best;
}

/** The index of the first line end outside quotes, or -1 when the text holds none (yet). */
function firstLineEnd(text: string): number {
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c === '"') quoted = !quoted;
		else if (!quoted && (c === '\n' || c === '\r')) return i;
	}
	return -1;
}

/**
 * Reads CSV records as the text arrives, so a feed of any size is never held whole: push() each piece of text (in
 * order), end() after the last. Records come out complete, in order, with the line they start on. The delimiter is
 * sniffed once the header line is complete, unless given.
 */
export class CsvReader {
	private delimiter: string | null;
	private head = '';
	private carry = '';
	private started = false;
	private fields: string[] = [];
	private field = '';
	private line = 1;
	private recordLine = 1;
	private quoted = false;
	private fieldWasQuoted = false;
	private out: CsvRecord[] = [];

	constructor(delimiter?: string) {
		this.delimiter = delimiter ?? null;
	}

	push(chunk: string): CsvRecord[] {
		if (!this.started) {
			chunk = stripBom(chunk);
			this.started = chunk !== '';
		}
		if (this.delimiter === null) {
			// The delimiter is sniffed from the whole header line, which may span pieces.
			this.head += chunk;
			if (firstLineEnd(this.head) === -1) return [];
			this.delimiter = sniffDelimiter(this.head);
			chunk = this.head;
			this.head = '';
		}
		this.scan(this.carry + chunk, false);
		return this.take();
	}

	end(): CsvRecord[] {
		if (this.delimiter === null) {
			this.delimiter = sniffDelimiter(this.head);
			this.scan(this.head, true);
		} else this.scan(this.carry, true);
		this.carry = '';
		if (this.quoted) throw new CsvFormatError(`a quoted field opened on line ${this.recordLine} is never closed`);
		if (this.field !== '' || this.fields.length > 0 || this.fieldWasQuoted) this.endRecord();
		return this.take();
	}

	private take(): CsvRecord[] {
		const out = this.out;
		this.out = [];
		return out;
	}

	private endField(): void {
		this.fields.push(this.field);
		this.field = '';
		this.fieldWasQuoted = false;
	}

	private endRecord(): void {
		const wasQuoted = this.fieldWasQuoted;
		this.endField();
		// Blank lines (one empty unquoted field) are not records: feeds often end with several.
		if (!(this.fields.length === 1 && this.fields[0] === '' && !wasQuoted)) this.out.push({ line: this.recordLine, fields: this.fields });
		this.fields = [];
	}

	private scan(text: string, final: boolean): void {
		this.carry = '';
		const delimiter = this.delimiter;
		for (let i = 0; i < text.length; i++) {
			const c = text[i];
			// A quote or CR as the last character of a piece needs the next character to be read: keep it for then.
			if (!final && i === text.length - 1 && (c === '\r' || (c === '"' && this.quoted))) {
				this.carry = c;
				return;
			}
			if (this.quoted) {
				if (c === '"') {
					if (text[i + 1] === '"') {
						this.field += '"';
						i++;
					} else this.quoted = false;
				} else {
					if (c === '\n') this.line++;
					this.field += c;
				}
				continue;
			}
			if (c === '"' && this.field.trim() === '') {
				// A quote opens a quoted field only at its start (leading spaces tolerated); elsewhere it is literal.
				this.field = '';
				this.quoted = true;
				this.fieldWasQuoted = true;
			} else if (c === delimiter) this.endField();
			else if (c === '\r' || c === '\n') {
				if (c === '\r' && text[i + 1] === '\n') i++;
				this.endRecord();
				this.line++;
				this.recordLine = this.line;
			} else this.field += c;
		}
	}
}

export function parseCsv(input: string, delimiter?: string): CsvRecord[] {
	const reader = new CsvReader(delimiter);
	return [...reader.push(input), ...reader.end()];
}
