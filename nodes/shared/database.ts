import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { closeDb, connectDb, migrate, type Db, type DbConfig } from '../../lib';

export const DATABASE_CREDENTIAL = 'pricebookDatabase';

export function dbConfigFromCredential(credential: ICredentialDataDecryptedObject): DbConfig {
	const ssl =
		credential.ssl === 'require' ? { rejectUnauthorized: true } : credential.ssl === 'allowUnauthorized' ? { rejectUnauthorized: false } : undefined;
	if (typeof credential.connectionString === 'string' && credential.connectionString.trim() !== '') {
		return { connectionString: credential.connectionString.trim(), ssl, applicationName: 'pricebook-sync-n8n' };
	}
	return {
		host: String(credential.host ?? 'localhost'),
		port: Number(credential.port ?? 5432),
		database: String(credential.database ?? ''),
		user: String(credential.user ?? ''),
		password: String(credential.password ?? ''),
		ssl,
		applicationName: 'pricebook-sync-n8n',
	};
}

// Per process, the first use of a database migrates it (advisory-locked, so parallel workers are safe); later
// executions skip the round trip. Nothing else is kept between executions.
const migrated = new WeakSet<Db>();

export async function openDatabase(credential: ICredentialDataDecryptedObject): Promise<Db> {
	const db = connectDb(dbConfigFromCredential(credential));
	if (!migrated.has(db)) {
		await migrate(db);
		migrated.add(db);
	}
	return db;
}

/** Closes the pool opened for a credential (process shutdown, tests). */
export async function closeDatabase(credential: ICredentialDataDecryptedObject): Promise<void> {
	await closeDb(connectDb(dbConfigFromCredential(credential)));
}
