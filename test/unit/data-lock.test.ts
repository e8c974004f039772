import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { lockDataFolder, LOCK_FILE } from '../../cli/data-lock';
import { failureKindOf } from '../../lib';

/** The data folder's lock (cli/data-lock.ts): one command at a time, and nothing stuck after a crash. */
describe('the data folder lock', () => {
	let dir: string;
	beforeEach(() => {
		dir = mkdtempSync(path.join(tmpdir(), 'pricebook-lock-'));
	});
	afterEach(() => rmSync(dir, { recursive: true, force: true }));
	const lockFile = () => path.join(dir, LOCK_FILE);

	it('names its holder, and release removes it', async () => {
		const lock = await lockDataFolder(dir, { command: 'status' });
		expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid, command: 'status' });
		lock.release();
		expect(existsSync(lockFile())).toBe(false);
	});

	it('a second one waits for a live holder, says whom it waits for, and gives up as busy', async () => {
		const first = await lockDataFolder(dir, { command: 'start' });
		const heard: string[] = [];
		const second = lockDataFolder(dir, { command: 'status', waitMs: 300, onWait: (line) => heard.push(line) });
		await expect(second).rejects.toThrow(/pricebook-sync start \(pid \d+, since .*\) is still using .*: run this again when it has finished/);
		expect(failureKindOf(await second.catch((error: unknown) => error))).toBe('busy');
		expect(heard).toEqual([expect.stringMatching(/^waiting for pricebook-sync start \(pid \d+/)]);
		first.release();
		(await lockDataFolder(dir, { command: 'status' })).release();
	});

	it('takes over the lock of a holder that is gone, or a damaged lock file', async () => {
		const gone = spawn(process.execPath, ['-e', '0']);
		const deadPid = await new Promise<number>((resolve) => gone.on('exit', () => resolve(gone.pid as number)));
		writeFileSync(lockFile(), JSON.stringify({ pid: deadPid, command: 'incremental', since: 'then', token: 'old' }));
		const heard: string[] = [];
		const lock = await lockDataFolder(dir, { command: 'status', onWait: (line) => heard.push(line) });
		expect(heard).toEqual([]);
		expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
		lock.release();

		writeFileSync(lockFile(), 'not json');
		(await lockDataFolder(dir, { command: 'status' })).release();
		expect(existsSync(lockFile())).toBe(false);
	});

	it('release leaves a lock that is no longer its own alone', async () => {
		const lock = await lockDataFolder(dir, { command: 'status' });
		writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, command: 'other', since: 'now', token: 'someone else' }));
		lock.release();
		expect(JSON.parse(readFileSync(lockFile(), 'utf8')).token).toBe('someone else');
	});
});
