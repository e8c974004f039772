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

export function parseCsv(input: string, delimiter = sniffDelimiter(stripBom(input))): CsvRecord[] {
	const text = stripBom(input);
	const records: CsvRecord[] = [];
	let fields: string[] = [];
	let field = '';
	let line = 1;
	let recordLine = 1;
	let quoted = false;
	let fieldWasQuoted = false;
	const endField = () => {
		fields.push(field);
		field = '';
		fieldWasQuoted = false;
	};
	const endRecord = () => {
		const wasQuoted = fieldWasQuoted;
		endField();
		// Blank lines (one empty unquoted field) are not records: feeds often end with several.
		if (!(fields.length === 1 && fields[0] === '' && !wasQuoted)) records.push({ line: recordLine, fields });
		fields = [];
	};
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (quoted) {
			if (c === '"') {
				if (text[i + 1] === '"') {
					field += '"';
					i++;
				} else quoted = false;
			} else {
				if (c === '\n') line++;
				field += c;
			}
			continue;
		}
		if (c === '"' && field.trim() === '') {
			// A quote opens a quoted field only at its start (leading spaces tolerated); elsewhere it is literal.
			field = '';
			quoted = true;
			fieldWasQuoted = true;
		} else if (c === delimiter) endField();
		else if (c === '\r' || c === '\n') {
			if (c === '\r' && text[i + 1] === '\n') i++;
			endRecord();
			line++;
			recordLine = line;
		} else field += c;
	}
	if (quoted) throw new CsvFormatError(`a quoted field opened on line ${recordLine} is never closed`);
	if (field !== '' || fields.length > 0 || fieldWasQuoted) endRecord();
	return records;
}
