import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { ConfigurationError } from './context';

/**
 * Why a .env file may not be trusted, or undefined when it may: it holds DATABASE_URL and ServiceTitan secrets, so
 * whoever can write it can point the sync at their own server or tenant. Like ssh with its config, accept only a
 * file owned by the user running the command (or root) that nobody else can write. Checked on the open file, so
 * the file judged is the file read.
 */
export function envFileProblem(file: string, stat: { uid: number; mode: number }, uid = process.getuid?.()): string | undefined {
	if (uid === undefined) return undefined; // Windows: no POSIX owner or mode to judge.
	if (stat.uid !== uid && stat.uid !== 0) {
		return `${file} belongs to another user (uid ${stat.uid}), who could change the settings this command trusts: make it yours (chown $(id -u) ${file}) or remove it`;
	}
	if ((stat.mode & 0o022) !== 0) {
		const who = (stat.mode & 0o002) !== 0 ? 'every user' : 'its group';
		return `${file} can be changed by ${who}, who could change the settings this command trusts: run chmod go-w ${file} (or chmod 600 ${file}, as it holds secrets)`;
	}
	return undefined;
}

/**
 * Reads KEY=VALUE lines from a .env file into the environment, never overriding variables already set (the
 * real environment wins, as operators expect). Missing file: nothing happens. A file others could have written
 * is refused (ConfigurationError, exit 2) rather than read.
 */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): string[] {
	let fd: number;
	try {
		fd = openSync(file, 'r');
	} catch {
		return [];
	}
	let text: string;
	try {
		const problem = envFileProblem(file, fstatSync(fd));
		if (problem) throw new ConfigurationError(problem);
		text = readFileSync(fd, 'utf8');
	} finally {
		closeSync(fd);
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
