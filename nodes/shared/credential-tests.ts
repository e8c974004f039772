import type { ICredentialTestFunctions, ICredentialsDecrypted, INodeCredentialTestResult } from 'n8n-workflow';
import { closeDb, connectDb, connectionTestAdvice, ServiceTitanClient, type SettingLabels, type StSetting } from '../../lib';
import { ServiceTitanApi } from '../../credentials/ServiceTitanApi.credentials';
import { dbConfigFromCredential } from './database';
import { stConfigFromCredential } from './servicetitan';

// The credential's own field labels (its properties are named after the settings), so a message names exactly
// the field the person sees in n8n's credential form.
const ST_FIELD_LABELS = Object.fromEntries(new ServiceTitanApi().properties.map((p) => [p.name as StSetting, p.displayName])) as SettingLabels;

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
			return { status: 'Error', message: connectionTestAdvice(error, ST_FIELD_LABELS) };
		}
	},
};
