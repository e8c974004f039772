import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs, UsageError, type FlagSpec } from '../../cli/args';
import { ConfigurationError } from '../../cli/context';
import { envFileProblem, loadEnvFile } from '../../cli/env-file';

const specs: Record<string, FlagSpec> = {
	json: { type: 'boolean', description: '' },
	entity: { type: 'string', description: '', valueName: 'type' },
};

describe('parseArgs', () => {
	it('reads positionals, boolean flags and string flags in both forms', () => {
		expect(parseArgs(['materials', '9404', '--json', '--entity', 'services'], specs)).toEqual({
			positionals: ['materials', '9404'],
			flags: { json: true, entity: 'services' },
		});
		expect(parseArgs(['--entity=equipment'], specs).flags.entity).toBe('equipment');
	});

	it('refuses unknown options, missing values and values on boolean flags', () => {
		expect(() => parseArgs(['--nope'], specs)).toThrow(new UsageError('unknown option --nope'));
		expect(() => parseArgs(['--entity'], specs)).toThrow(/--entity needs a value \(type\)/);
		expect(() => parseArgs(['--entity', '--json'], specs)).toThrow(/needs a value/);
		expect(() => parseArgs(['--json=yes'], specs)).toThrow(/takes no value/);
	});
});

describe('loadEnvFile', () => {
	it('loads KEY=VALUE lines without overriding the real environment', () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'envfile-'));
		const file = path.join(dir, '.env');
		writeFileSync(file, '# comment\nDATABASE_URL="postgres://a@b/c"\nexport ST_ENV=integration\nST_TENANT_ID=1\nBROKEN LINE\n');
		const env: NodeJS.ProcessEnv = { ST_TENANT_ID: '42' };
		expect(loadEnvFile(file, env)).toEqual(['DATABASE_URL', 'ST_ENV']);
		expect(env).toEqual({ DATABASE_URL: 'postgres://a@b/c', ST_ENV: 'integration', ST_TENANT_ID: '42' });
		expect(loadEnvFile(path.join(dir, 'missing.env'), env)).toEqual([]);
	});

	it('refuses a file others can write, saying what to run, and reads nothing from it', () => {
		const file = path.join(mkdtempSync(path.join(tmpdir(), 'envfile-')), '.env');
		writeFileSync(file, 'DATABASE_URL=postgres://attacker@evil/x\n');
		const env: NodeJS.ProcessEnv = {};
		chmodSync(file, 0o664);
		expect(() => loadEnvFile(file, env)).toThrow(ConfigurationError);
		expect(() => loadEnvFile(file, env)).toThrow(
			`${file} can be changed by its group, who could change the settings this command trusts: run chmod go-w ${file}`,
		);
		chmodSync(file, 0o646);
		expect(() => loadEnvFile(file, env)).toThrow(/can be changed by every user.*chmod go-w/);
		expect(env).toEqual({});
		chmodSync(file, 0o600);
		expect(loadEnvFile(file, env)).toEqual(['DATABASE_URL']);
	});

	it("refuses a file owned by another user (root's files are accepted: CI and containers run as root)", () => {
		const file = path.join(mkdtempSync(path.join(tmpdir(), 'envfile-')), '.env');
		writeFileSync(file, 'ST_ENV=integration\n');
		expect(envFileProblem(file, { uid: 1234, mode: 0o100600 }, 1000)).toMatch(/belongs to another user \(uid 1234\).*chown \$\(id -u\)/);
		expect(envFileProblem(file, { uid: 0, mode: 0o100644 }, 1000)).toBeUndefined();
		expect(envFileProblem(file, { uid: 1000, mode: 0o100644 }, 1000)).toBeUndefined();
		if (process.getuid?.() === 0) {
			// As root, a real file of another user's.
			chownSync(file, 65534, 65534);
			expect(() => loadEnvFile(file, {})).toThrow(/belongs to another user \(uid 65534\)/);
		}
	});
});
