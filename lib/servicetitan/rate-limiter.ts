import type { RequestThrottle } from './throttle';

/**
 * At most `perSecond` request starts in any sliding second. Callers queue in arrival order, so a burst of
 * concurrent calls is spread out instead of earning 429s from ST. One process only: lanes are not ordered here (see
 * SharedRequestBudget for the budget every process shares, lanes first).
 */
export class RateLimiter implements RequestThrottle {
	private readonly starts: number[] = [];
	private queue: Promise<void> = Promise.resolve();

	constructor(
		private readonly perSecond: number,
		private readonly now: () => number,
		private readonly sleep: (ms: number) => Promise<void>,
	) {
		if (!Number.isFinite(perSecond) || perSecond <= 0) {
			throw new RangeError(`requestsPerSecond must be a positive number, got ${perSecond}`);
		}
	}

	acquire(): Promise<void> {
		const turn = this.queue.then(() => this.waitForSlot());
		// A failed wait (a sleep that throws) must not block everyone queued behind it.
		this.queue = turn.catch(() => undefined);
		return turn;
	}

	private async waitForSlot(): Promise<void> {
		for (;;) {
			const now = this.now();
			while (this.starts.length > 0 && this.starts[0] <= now - 1000) this.starts.shift();
			if (this.starts.length < this.perSecond) {
				this.starts.push(now);
				return;
			}
			await this.sleep(this.starts[0] + 1000 - now);
		}
	}
}
