import type { EmbeddedPostgres } from '../../lib/db/embedded';

export default async function globalTeardown(): Promise<void> {
	const server = (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres;
	if (server) await server.stop();
}
