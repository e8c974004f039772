import { readFileSync } from 'node:fs';

/**
 * Reads KEY=VALUE lines from a .env file into the environment, never overriding variables already set (the
 * real environment wins, as operators expect). Missing file: nothing happens.
 */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): string[] {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch {
		return [];
	}
	const loaded: string[] = [];
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (!line || line.startsWith('#')) continue;
		const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
		if (!match) continue;
		let value = match[2];
		if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
			value = value.slice(1, -1);
		}
		if (env[match[1]] === undefined) {
			env[match[1]] = value;
			loaded.push(match[1]);
		}
	}
	return loaded;
}
