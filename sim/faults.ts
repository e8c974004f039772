import { createRng, type Rng } from './random';
import type { SimEntity } from './data';
import type { FaultAction, ScriptedFault, SimFaults } from './types';

export interface FaultRequest {
	target: 'api' | 'token';
	method: string;
	/** Below `/pricebook/v2/tenant/{tenant}` for API requests. */
	path: string;
	/** For listings: which entity, page and page size. */
	listing?: { entity: SimEntity; page: number; pageSize: number };
}

export type FaultDecision = FaultAction | { kind: 'rate_limit' } | undefined;

const WRITES = new Set(['PATCH', 'POST', 'DELETE']);

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
	/** The first item of the page `failListingPage` hit: a smaller page holding it fails too. */
	private failOffset: number | undefined;

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
		this.failOffset = undefined;
	}

	/** Where 429 answers name their wait (see SimFaults.rateLimitWaitIn). */
	rateLimitWaitIn(): 'header' | 'title' | 'text' {
		return this.config.rateLimitWaitIn ?? 'header';
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

		const gateway = this.config.gateway404;
		if (gateway === true || (typeof gateway === 'object' && gateway !== null && request.path.includes(gateway.path))) return { kind: 'gateway_404' };
		if (this.config.writeScope === false && WRITES.has(request.method)) return { kind: 'status', status: 403 };
		const bySize = this.config.failPageSizeAbove;
		if (
			bySize &&
			request.listing &&
			request.listing.pageSize > bySize.pageSize &&
			(bySize.entity === undefined || bySize.entity === request.listing.entity)
		) {
			return bySize.action ?? { kind: 'timeout' };
		}

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
		if (this.config.patchEmptyBody !== undefined && request.method === 'PATCH') return { kind: 'empty_success', status: this.config.patchEmptyBody };
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
		const { page, pageSize } = request.listing;
		if (this.failOffset === undefined && page === rule.page) this.failOffset = (page - 1) * pageSize;
		// The failing page, and any page asked for in another size that holds its first item.
		if (this.failOffset !== undefined && this.failOffset >= (page - 1) * pageSize && this.failOffset < page * pageSize) {
			this.listingFailed = true;
			return rule.action ?? { kind: 'status', status: 500 };
		}
		if (request.listing.page === 1 && this.listingFailed) {
			// A new listing has started after the failed one: the fault is spent.
			this.config = { ...this.config, failListingPage: undefined };
			this.listingFailed = false;
			this.failOffset = undefined;
		}
		return undefined;
	}
}
