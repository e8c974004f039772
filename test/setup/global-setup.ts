import { startEmbeddedPostgres } from '../../lib/db/embedded';

/**
 * Integration tests need a PostgreSQL server. CI (and anyone with a server) sets TEST_DATABASE_URL; without it,
 * one embedded server is started for the whole test run and every test file creates its own database on it.
 */
export default async function globalSetup(): Promise<void> {
	if (process.env.TEST_DATABASE_URL) return;
	const server = await startEmbeddedPostgres({ persistent: false });
	process.env.TEST_DATABASE_URL = server.url;
	process.env.PRICEBOOK_TEST_EMBEDDED = '1';
	(globalThis as { __embeddedPostgres?: typeof server }).__embeddedPostgres = server;
	// Also stop on Ctrl-C; a leftover server would hold the port and the data folder.
	process.once('SIGINT', () => void server.stop().finally(() => process.exit(130)));
}
