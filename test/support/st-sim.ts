import { ServiceTitanClient, type StClientOptions } from '../../lib/servicetitan';
import { startSimulator, type SimExchange, type SimulatorHandle, type SimulatorOptions } from '../../sim';
import { pricebookContract } from './openapi';

/** The client's User-Agent: requests carrying it are the client's, and must be ones the document allows. */
export const CLIENT_USER_AGENT = 'n8n-nodes-perfectcatch-pricebook';

export interface ContractLog {
	exchanges: SimExchange[];
	/** Validates everything seen so far: every response, and every request the client made. */
	violations(): string[];
	responsesChecked(): number;
	clientRequestsChecked(): number;
}

export interface CheckedSimulator {
	sim: SimulatorHandle;
	contract: ContractLog;
	/** A client wired to this simulator; options default to fast, deterministic retries. */
	client(options?: StClientOptions): ServiceTitanClient;
	stop(): Promise<void>;
}

/**
 * A simulator whose every exchange is recorded and checked against the OpenAPI document afterwards, so the
 * checking does not slow down (or time) the exchange itself.
 */
export async function startCheckedSimulator(options: SimulatorOptions = {}): Promise<CheckedSimulator> {
	const exchanges: SimExchange[] = [];
	const sim = await startSimulator({ ...options, onExchange: (x) => exchanges.push(x) });
	const clients: ServiceTitanClient[] = [];
	let checked = 0;
	let responses = 0;
	let requests = 0;
	const problems: string[] = [];
	const contract: ContractLog = {
		exchanges,
		violations() {
			const spec = pricebookContract();
			for (; checked < exchanges.length; checked++) {
				const x = exchanges[checked];
				if (x.target !== 'api') continue;
				if (x.userAgent === CLIENT_USER_AGENT) {
					requests += 1;
					problems.push(...spec.validateRequest({ method: x.method, path: x.path, query: x.query, body: x.requestBody }));
				}
				// A deliberately broken answer (fault) is not expected to follow the document.
				if (x.fault || x.status === 0) continue;
				responses += 1;
				problems.push(...spec.validateResponse({ method: x.method, path: x.path, status: x.status, body: x.responseBody }));
			}
			return [...problems];
		},
		responsesChecked: () => responses,
		clientRequestsChecked: () => requests,
	};
	return {
		sim,
		contract,
		client(clientOptions: StClientOptions = {}) {
			const client = new ServiceTitanClient(sim.stConfig(), { backoffBaseMs: 1, backoffMaxMs: 20, userAgent: CLIENT_USER_AGENT, ...clientOptions });
			clients.push(client);
			return client;
		},
		async stop() {
			for (const client of clients) client.close();
			await sim.stop();
		},
	};
}
