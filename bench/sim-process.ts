/**
 * The simulator in a process of its own (forked by the benchmark): it holds every record in memory, so it must
 * not count towards the sync's peak RSS, and its CPU work (rendering pages) must not run on the sync's event loop.
 * Options arrive as JSON in argv[2]; the parent talks to it over IPC (see sim-handle.ts).
 */
import { startSimulator } from '../sim';
import type { SimulatorHandle, SimulatorOptions } from '../sim';
import type { SimReady, SimRequest, SimResponse } from './sim-handle';

async function main(): Promise<void> {
	const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
	const started = Date.now();
	// No request bodies kept: the log would only grow with the benchmark's PATCH calls.
	const sim: SimulatorHandle = await startSimulator({ host: '127.0.0.1', port: 0, logBodies: false, ...options });
	const ready: SimReady = {
		type: 'ready',
		startMs: Date.now() - started,
		url: sim.url,
		tokenUrl: sim.tokenUrl,
		apiBaseUrl: sim.apiBaseUrl,
		tenantId: sim.tenantId,
		clientId: sim.clientId,
		clientSecret: sim.clientSecret,
		appKey: sim.appKey,
		counts: { materials: sim.control.listIds('materials').length },
	};
	process.send!(ready);
	process.on('message', (message: SimRequest) => {
		const reply = (response: Omit<SimResponse, 'seq'>): void => void process.send!({ ...response, seq: message.seq });
		try {
			switch (message.type) {
				case 'ids':
					reply({ type: 'ok', ids: sim.control.listIds(message.entity) });
					break;
				case 'stats':
					reply({ type: 'ok', stats: sim.control.requestCounts() });
					break;
				case 'resetStats':
					sim.control.resetStats();
					reply({ type: 'ok' });
					break;
				case 'field':
					reply({ type: 'ok', values: message.ids.map((id) => sim.control.getItem(message.entity, id)?.[message.field] ?? null) });
					break;
				case 'stop':
					void sim.stop().then(() => {
						reply({ type: 'ok' });
						process.exit(0);
					});
					break;
			}
		} catch (error: unknown) {
			reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
		}
	});
	process.on('disconnect', () => void sim.stop().finally(() => process.exit(0)));
}

void main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
