import { createRng, type Rng } from './random';
import type { SimEntity } from './data';
import type { FaultAction, ScriptedFault, SimFaults } from './types';

export interface FaultRequest {
	target: 'api' | 'token';
	method: string;
	/** Below `/pricebook/v2/tenant/{tenant}` for API requests. */
	path: string;
	/** For listings: which entity and page. */
	listing?: { entity: SimEntity; page: number };
}

export type FaultDecision = FaultAction | { kind: 'rate_limit' } | undefined;

/**
 * Decides, request by request, which injected failure (if any) to answer with. Deterministic: scripted faults
 * in order, random ones from a PRNG seeded with `faults.seed`, rate limiting from the real-time request count.
 */
export class FaultInjector {
	private config: SimFaults = {};
	private queue: Array<ScriptedFault & { left: number }> = [];
	private rng: Rng = createRng(1);
	private recent: number[] = [];
	private listingFailed = false;

	constructor(
		initial: SimFaults | undefined,
		private readonly realNow: () => number = Date.now,
	) {
		this.set(initial ?? {});
	}

	set(faults: SimFaults): void {
		this.config = { ...faults };
		this.queue = (faults.next ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
		this.rng = createRng(faults.seed ?? 1);
		this.listingFailed = false;
	}

	add(fault: ScriptedFault): void {
		this.queue.push({ ...fault, left: fault.times ?? 1 });
	}

	latencyMs(): number {
		return this.config.latencyMs ?? 0;
	}

	decide(request: FaultRequest): FaultDecision {
		const scripted = this.takeScripted(request);
		if (scripted) return scripted;
		if (request.target !== 'api') return undefined;

		const listingFault = this.listingFault(request);
		if (listingFault) return listingFault;

		const limit = this.config.rateLimit;
		if (limit) {
			const now = this.realNow();
			const windowMs = limit.windowMs ?? 1000;
			this.recent = this.recent.filter((t) => t > now - windowMs);
			if (this.recent.length >= limit.budget) return { kind: 'rate_limit' };
			this.recent.push(now);
		}
		// One draw per kind and request keeps the sequence stable when a rate is changed to or from 0.
		const draws = [this.rng(), this.rng(), this.rng(), this.rng()];
		if (draws[0] < (this.config.errorRate ?? 0)) return { kind: 'status', status: this.config.errorStatus ?? 503 };
		if (draws[1] < (this.config.timeoutRate ?? 0)) return { kind: 'timeout' };
		if (draws[2] < (this.config.resetRate ?? 0)) return { kind: 'reset' };
		if (draws[3] < (this.config.malformedRate ?? 0)) return { kind: 'malformed' };
		return undefined;
	}

	private takeScripted(request: FaultRequest): FaultAction | undefined {
		const index = this.queue.findIndex((f) => {
			const m = f.match ?? {};
			if ((m.target ?? 'api') !== request.target) return false;
			if (m.method && m.method.toUpperCase() !== request.method) return false;
			if (m.path && !request.path.includes(m.path)) return false;
			return true;
		});
		if (index < 0) return undefined;
		const fault = this.queue[index];
		fault.left -= 1;
		if (fault.left <= 0) this.queue.splice(index, 1);
		return fault.action;
	}

	private listingFault(request: FaultRequest): FaultAction | undefined {
		const rule = this.config.failListingPage;
		if (!rule || !request.listing || request.listing.entity !== rule.entity) return undefined;
		if (request.listing.page === rule.page) {
			this.listingFailed = true;
			return rule.action ?? { kind: 'status', status: 500 };
		}
		if (request.listing.page === 1 && this.listingFailed) {
			// A new listing has started after the failed one: the fault is spent.
			this.config = { ...this.config, failListingPage: undefined };
			this.listingFailed = false;
		}
		return undefined;
	}
}
