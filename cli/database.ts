import { closeDb, connectDb, migrate, type Db } from '../lib';

/** Every command that reads or writes the pricebook: connect, bring the schema up to date, work, always close. */
export async function withMigratedDb<T>(url: string, maxConnections: number, work: (db: Db) => Promise<T>): Promise<T> {
	const db = connectDb({ connectionString: url, max: maxConnections });
	try {
		await migrate(db);
		return await work(db);
	} finally {
		await closeDb(db);
	}
}
