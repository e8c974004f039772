import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs, UsageError, type FlagSpec } from '../../cli/args';
import { loadEnvFile } from '../../cli/env-file';

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
});
