import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { embeddedDatabaseUrl, startEmbeddedPostgres } from '../lib';
import { ConfigurationError } from './context';

/** The database the pricebook lives in, inside the embedded cluster (its `postgres` database stays the admin's). */
const DATABASE = 'pricebook';

export interface LocalDatabase {
	url: string;
	stop(): Promise<void>;
}

/** Where a data folder keeps its embedded cluster. */
export function clusterDirOf(dataFolder: string): string {
	return path.join(dataFolder, 'postgres');
}

export function hasLocalDatabase(dataFolder: string): boolean {
	return existsSync(path.join(clusterDirOf(dataFolder), 'PG_VERSION'));
}

/** What a command without DATABASE_URL says when there is no embedded database to fall back on. */
export function noDatabaseHere(dataFolder: string, cwd: string): ConfigurationError {
	const where = path.relative(cwd, clusterDirOf(dataFolder)) || clusterDirOf(dataFolder);
	return new ConfigurationError(
		`DATABASE_URL is not set, and there is no embedded database here (${where}, made by pricebook-sync start): ` +
			'point DATABASE_URL at the pricebook database, e.g. postgres://user:password@host:5432/pricebook, or run npm start (pricebook-sync start) in this folder first',
	);
}

/**
 * Starts the embedded PostgreSQL of a data folder for one command (the caller holds the folder's lock), making the
 * cluster when it has none yet. stop() stops it again, also when it was found running: a server left behind by a
 * killed command would otherwise run on with nobody to stop it.
 */
export async function startLocalDatabase(dataFolder: string, onNotice: (line: string) => void): Promise<LocalDatabase> {
	const server = await startEmbeddedPostgres({ dataDir: clusterDirOf(dataFolder), persistent: true, stopReused: true, onNotice });
	try {
		return { url: await embeddedDatabaseUrl(server, DATABASE), stop: () => server.stop() };
	} catch (error) {
		await server.stop();
		throw error;
	}
}
