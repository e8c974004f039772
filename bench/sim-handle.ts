import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { SimEntity, SimStats, SimulatorOptions } from '../sim';
import type { StConfig } from '../lib/servicetitan';

/** The simulator's answer once it listens: where it is and the throwaway credentials derived from its seed. */
export interface SimReady {
	type: 'ready';
	startMs: number;
	url: string;
	tokenUrl: string;
	apiBaseUrl: string;
	tenantId: string;
	clientId: string;
	clientSecret: string;
	appKey: string;
	counts: { materials: number };
}

/** Edits and latency changes go through the simulator's admin routes over HTTP (see worker.ts); these are the rest. */
export type SimCommand =
	| { type: 'ids'; entity: SimEntity }
	| { type: 'stats' }
	| { type: 'resetStats' }
	/** One field of the given items as ServiceTitan holds it (null for an item it does not have). */
	| { type: 'field'; entity: SimEntity; ids: number[]; field: string }
	| { type: 'stop' };

export type SimRequest = SimCommand & { seq: number };

export interface SimResponse {
	seq: number;
	type: 'ok' | 'error';
	message?: string;
	ids?: number[];
	stats?: SimStats;
	values?: unknown[];
}

/** The parent's handle on a simulator process. */
export class SimProcess {
	private seq = 0;
	private readonly waiting = new Map<number, { resolve: (r: SimResponse) => void; reject: (e: Error) => void }>();

	/** Every simulator process still running, so a failing benchmark can end them all. */
	private static readonly running = new Set<SimProcess>();

	static killAll(): void {
		for (const sim of SimProcess.running) sim.kill();
	}

	private constructor(
		private readonly child: ChildProcess,
		readonly ready: SimReady,
	) {
		SimProcess.running.add(this);
		child.once('exit', () => SimProcess.running.delete(this));
		child.on('message', (message: SimResponse) => {
			const w = this.waiting.get(message.seq);
			if (!w) return;
			this.waiting.delete(message.seq);
			if (message.type === 'error') w.reject(new Error(`simulator: ${message.message}`));
			else w.resolve(message);
		});
		child.on('exit', (code) => {
			for (const w of this.waiting.values()) w.reject(new Error(`simulator process exited (${code})`));
			this.waiting.clear();
		});
	}

	static async start(options: SimulatorOptions): Promise<SimProcess> {
		const child = fork(path.join(__dirname, 'sim-process.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		const ready = await new Promise<SimReady>((resolve, reject) => {
			child.once('message', (m: SimReady) => resolve(m));
			child.once('exit', (code) => reject(new Error(`simulator process exited before it listened (${code})`)));
			child.once('error', reject);
		});
		return new SimProcess(child, ready);
	}

	/** Client configuration pointing at this simulator. */
	stConfig(): StConfig {
		const r = this.ready;
		return {
			clientId: r.clientId,
			clientSecret: r.clientSecret,
			appKey: r.appKey,
			tenantId: r.tenantId,
			environment: 'integration',
			authUrl: r.tokenUrl,
			apiBaseUrl: r.apiBaseUrl,
		};
	}

	private request(body: SimCommand): Promise<SimResponse> {
		const seq = ++this.seq;
		return new Promise((resolve, reject) => {
			this.waiting.set(seq, { resolve, reject });
			this.child.send({ ...body, seq });
		});
	}

	async ids(entity: SimEntity): Promise<number[]> {
		return (await this.request({ type: 'ids', entity })).ids ?? [];
	}

	/** What the simulator counted since it started or since resetStats (requests by status, the busiest second, ...). */
	async stats(): Promise<SimStats> {
		const { stats } = await this.request({ type: 'stats' });
		if (!stats) throw new Error('the simulator sent no stats');
		return stats;
	}

	async resetStats(): Promise<void> {
		await this.request({ type: 'resetStats' });
	}

	async field(entity: SimEntity, ids: number[], field: string): Promise<unknown[]> {
		return (await this.request({ type: 'field', entity, ids, field })).values ?? [];
	}

	async stop(): Promise<void> {
		if (this.child.exitCode !== null) return;
		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		await this.request({ type: 'stop' }).catch(() => undefined);
		await exited;
	}

	kill(): void {
		if (this.child.exitCode === null) this.child.kill('SIGKILL');
	}
}
