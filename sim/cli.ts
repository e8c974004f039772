#!/usr/bin/env node
import { startSimulator } from './server';
import { TENANT_PRESETS, type SimCounts, type TenantPresetName } from './data';
import type { SimFaults, SimPatchBehaviour, SimQuirks, SimulatorOptions } from './types';

const USAGE = `Usage: npm run st-sim -- [options]
  --port N              listen port (default 4010; 0 = any free port)
  --host H              listen address (default 127.0.0.1)
  --seed N              data and fault seed (default 1)
  --preset small|perfect-catch   the generated tenant (default small; perfect-catch: a live tenant's size, 1,160
                        nested categories, 2,161 services, 205 equipment, 5,000 materials); counts below override it
  --items N             number of materials (default 500); also sizes equipment (N/10) and services (N/5)
  --materials N --equipment N --services N --categories N   exact counts
  --tenant ID --client-id S --client-secret S --app-key S  fixed credentials (default: derived from the seed)
  --flat-categories     list categories flat instead of nested
  --category-timestamps categories carry createdOn/modifiedOn (a live tenant's do not) and honour modified filters
  --timestamp-digits live|any      fractional digits of timestamps: 3 to 7 (live, default) or 0 to 7
  --no-null-strings     no literal "Null" strings in the generated data
  --no-service-null-pricing        services without useStaticPrices/calculatedPrice (null on a live tenant)
  --order id|shuffled|modifiedOn   listing order (default id)
  --no-page-drift       serve later pages from the ordering taken at page 1
  --delete-mode hard|deactivate    what DELETE does (default hard)
  --retry-after seconds|date|none  how a 429 says when to retry (default seconds)
  --unknown-tenant not_found|unauthorized|forbidden   the answer to a path naming another tenant (default not_found)
  --patch JSON          what ST does with a PATCH (SimPatchBehaviour), e.g. '{"roundMoney":{},"ignoreFields":
                        {"fields":["services.cost"],"echo":true},"delayMs":2000}'; also PUT /__sim/quirks {"patch":...}
  --rate-limit N        answer 429 beyond N API requests per second
  --error-rate R        share of API requests answered 503 (0..1)
  --latency MS          added to every API answer
Admin routes: GET /__sim/health, /__sim/stats, /__sim/requests; PUT /__sim/faults, /__sim/quirks;
  POST /__sim/clock {"advanceMs":N}; GET|PATCH|DELETE /__sim/items/{entity}/{id}; POST /__sim/items/{entity}`;

function parseArgs(argv: string[]): SimulatorOptions {
	const args = new Map<string, string>();
	const flags = new Set<string>();
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
		const [name, inline] = arg.slice(2).split('=', 2);
		if (['flat-categories', 'no-page-drift', 'category-timestamps', 'no-null-strings', 'no-service-null-pricing', 'help'].includes(name)) {
			flags.add(name);
		} else {
			const value = inline ?? argv[++i];
			if (value === undefined) throw new Error(`--${name} needs a value`);
			args.set(name, value);
		}
	}
	if (flags.has('help')) {
		console.log(USAGE);
		process.exit(0);
	}
	const num = (name: string): number | undefined => {
		const value = args.get(name);
		if (value === undefined) return undefined;
		const n = Number(value);
		if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
		return n;
	};
	const oneOf = <T extends string>(name: string, values: readonly T[]): T | undefined => {
		const value = args.get(name);
		if (value === undefined) return undefined;
		if (!(values as readonly string[]).includes(value)) throw new Error(`--${name} must be one of ${values.join(', ')}`);
		return value as T;
	};
	const preset = oneOf('preset', Object.keys(TENANT_PRESETS) as TenantPresetName[]);
	const counts: Partial<SimCounts> = {};
	const items = num('items');
	if (items !== undefined) {
		counts.materials = items;
		counts.equipment = Math.max(100, Math.round(items / 10));
		counts.services = Math.max(200, Math.round(items / 5));
	}
	for (const key of ['materials', 'equipment', 'services', 'categories'] as const) {
		const n = num(key);
		if (n !== undefined) counts[key] = n;
	}
	const quirks: Partial<SimQuirks> = {};
	if (flags.has('flat-categories')) quirks.categoriesNested = false;
	if (flags.has('no-page-drift')) quirks.pageDrift = false;
	if (flags.has('category-timestamps')) quirks.categoryTimestamps = true;
	if (flags.has('no-null-strings')) quirks.nullStrings = false;
	if (flags.has('no-service-null-pricing')) quirks.serviceNullPricing = false;
	const digits = oneOf('timestamp-digits', ['live', 'any'] as const);
	if (digits) quirks.timestampDigits = digits;
	const order = oneOf('order', ['id', 'shuffled', 'modifiedOn'] as const);
	if (order) quirks.order = order;
	const deleteMode = oneOf('delete-mode', ['hard', 'deactivate'] as const);
	if (deleteMode) quirks.deleteMode = deleteMode;
	const retryAfter = oneOf('retry-after', ['seconds', 'date', 'none'] as const);
	if (retryAfter) quirks.retryAfter = retryAfter;
	const unknownTenant = oneOf('unknown-tenant', ['not_found', 'unauthorized', 'forbidden'] as const);
	if (unknownTenant) quirks.unknownTenant = unknownTenant;
	const patch = args.get('patch');
	if (patch !== undefined) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(patch);
		} catch {
			throw new Error('--patch must be a JSON object');
		}
		if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--patch must be a JSON object');
		quirks.patch = parsed as SimPatchBehaviour;
	}
	const faults: SimFaults = {};
	const rateLimit = num('rate-limit');
	if (rateLimit !== undefined) faults.rateLimit = { budget: rateLimit };
	const errorRate = num('error-rate');
	if (errorRate !== undefined) faults.errorRate = errorRate;
	const latency = num('latency');
	if (latency !== undefined) faults.latencyMs = latency;
	const seed = num('seed');
	return {
		port: num('port') ?? 4010,
		host: args.get('host') ?? '127.0.0.1',
		...(seed !== undefined ? { seed, faults: { ...faults, seed } } : { faults }),
		...(preset ? { tenant: preset } : {}),
		counts,
		quirks,
		...(args.has('tenant') ? { tenantId: args.get('tenant') } : {}),
		...(args.has('client-id') ? { clientId: args.get('client-id') } : {}),
		...(args.has('client-secret') ? { clientSecret: args.get('client-secret') } : {}),
		...(args.has('app-key') ? { appKey: args.get('app-key') } : {}),
	};
}

async function main(): Promise<void> {
	let options: SimulatorOptions;
	try {
		options = parseArgs(process.argv.slice(2));
	} catch (error: unknown) {
		console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
		process.exit(2);
	}
	const started = Date.now();
	const sim = await startSimulator(options);
	const counts = Object.fromEntries((['categories', 'materials', 'equipment', 'services'] as const).map((e) => [e, sim.control.listIds(e).length]));
	console.log(`ServiceTitan simulator listening on ${sim.url} (ready in ${Date.now() - started} ms)`);
	console.log(`records: ${JSON.stringify(counts)}`);
	// The simulator's credentials are throwaway values made up from the seed; printing them is the point.
	console.log('Environment for the CLI / n8n:');
	console.log(`ST_ENV=integration`);
	console.log(`ST_AUTH_URL=${sim.tokenUrl}`);
	console.log(`ST_API_BASE_URL=${sim.apiBaseUrl}`);
	console.log(`ST_TENANT_ID=${sim.tenantId}`);
	console.log(`ST_CLIENT_ID=${sim.clientId}`);
	console.log(`ST_CLIENT_SECRET=${sim.clientSecret}`);
	console.log(`ST_APP_KEY=${sim.appKey}`);
	const shutdown = (): void => {
		void sim.stop().then(() => process.exit(0));
	};
	process.once('SIGINT', shutdown);
	process.once('SIGTERM', shutdown);
}

void main();
