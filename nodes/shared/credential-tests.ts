import type { ICredentialTestFunctions, ICredentialsDecrypted, INodeCredentialTestResult } from 'n8n-workflow';
import { closeDb, connectDb, ServiceTitanClient } from '../../lib';
import { dbConfigFromCredential } from './database';
import { stConfigFromCredential } from './servicetitan';

/** Credential tests shared by every node (n8n asks the node that uses a credential to test it). */
export const credentialTest = {
	async pricebookDatabaseTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
		const db = connectDb({ ...dbConfigFromCredential(credential.data ?? {}), max: 1, applicationName: 'pricebook-sync-credential-test' });
		try {
			await db.one('SELECT 1 AS ok');
			return { status: 'OK', message: 'Connected to the pricebook database' };
		} catch (error) {
			return { status: 'Error', message: `Cannot connect: ${(error as Error).message}` };
		} finally {
			await closeDb(db);
		}
	},

	async serviceTitanApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
		try {
			// A fresh client, so the test proves these values (not a token cached for earlier ones).
			const client = new ServiceTitanClient(stConfigFromCredential(credential.data ?? {}), { maxRetries: 1 });
			try {
				await client.testConnection();
			} finally {
				client.close();
			}
			return { status: 'OK', message: 'ServiceTitan accepted the credentials and answered a pricebook request' };
		} catch (error) {
			return { status: 'Error', message: (error as Error).message };
		}
	},
};
