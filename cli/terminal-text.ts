/**
 * Text from outside (ServiceTitan names and error bodies, vendor feeds, rows people typed in Retool) reaches the
 * terminal in the human-readable output. Control characters in it would be obeyed by the terminal: ESC sequences
 * can rewrite the screen, set the window title, hide or fake lines, and on some terminals write files or answer
 * back as typed input. So every control character but newline and tab (C0, DEL, C1, whose 0x9b is a one-byte ESC
 * '[') and the bidirectional overrides that reorder what is shown are replaced by a visible \uXXXX.
 * JSON output needs none of this (JSON.stringify escapes C0; C1 stays data there) and CSV is data for a spreadsheet.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
	return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
