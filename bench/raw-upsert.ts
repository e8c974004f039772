import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Client } from 'pg';
import type { Db } from '../lib/db/connection';

/**
 * The database's own limit for the rows a full sync writes: COPY them into a temporary table, then one
 * `INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE` into the real table (its indexes and triggers included).
 * No validation, no comparison, no ledger: the fastest a bulk upsert of those rows can be on this server.
 */
export async function copyTableOut(db: Db, table: string): Promise<Buffer> {
	const connection = await db.connect();
	try {
		const chunks: Buffer[] = [];
		const stream = (connection.client as unknown as Client).query(copyTo(`COPY (SELECT * FROM ${quoteIdent(table)} ORDER BY id) TO STDOUT`));
		for await (const chunk of stream) chunks.push(chunk as Buffer);
		return Buffer.concat(chunks);
	} finally {
		connection.done();
	}
}

export async function rawUpsert(db: Db, table: string, copy: Buffer): Promise<{ ms: number; rows: number }> {
	const columns = (
		await db.any<{ column_name: string }>(
			`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
			[table],
		)
	).map((r) => quoteIdent(r.column_name));
	const updates = columns
		.filter((c) => c !== '"id"')
		.map((c) => `${c} = EXCLUDED.${c}`)
		.join(', ');
	const connection = await db.connect();
	const client = connection.client as unknown as Client;
	try {
		const start = process.hrtime.bigint();
		await client.query('BEGIN');
		// The baseline writes what the engine writes, as the engine: a person's INSERT would be a new item (migration 0011).
		await client.query(`SELECT set_config('pricebook_sync.origin', 'engine', true)`);
		await client.query(`CREATE TEMP TABLE bench_stage (LIKE ${quoteIdent(table)} INCLUDING DEFAULTS) ON COMMIT DROP`);
		await pipeline(Readable.from([copy]), client.query(copyFrom('COPY bench_stage FROM STDIN')));
		const result = await client.query(
			`INSERT INTO ${quoteIdent(table)} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM bench_stage ON CONFLICT (id) DO UPDATE SET ${updates}`,
		);
		await client.query('COMMIT');
		return { ms: Number(process.hrtime.bigint() - start) / 1e6, rows: result.rowCount ?? 0 };
	} catch (error) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw error;
	} finally {
		connection.done();
	}
}

function quoteIdent(name: string): string {
	return `"${name.replace(/"/g, '""')}"`;
}
