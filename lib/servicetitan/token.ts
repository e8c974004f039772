export interface AccessToken {
	value: string;
	/** ms, on the client's clock. */
	expiresAt: number;
}

/**
 * Caches the OAuth token for its lifetime (900 s at ServiceTitan, which throttles token requests) and makes
 * concurrent callers share one pending request.
 */
export class TokenCache {
	private current: AccessToken | undefined;
	private pending: Promise<AccessToken> | undefined;

	constructor(
		private readonly fetchToken: () => Promise<AccessToken>,
		private readonly now: () => number,
		private readonly renewMarginMs: number,
	) {}

	async get(): Promise<AccessToken> {
		if (this.current && this.now() < this.current.expiresAt - this.renewMarginMs) return this.current;
		if (!this.pending) {
			this.pending = this.fetchToken()
				.then((token) => {
					this.current = token;
					return token;
				})
				.finally(() => {
					this.pending = undefined;
				});
		}
		return this.pending;
	}

	/**
	 * Drops `rejected` after a 401. Only that token: when ten calls fail with the same stale token, the first
	 * invalidation renews it and the other nine pick up the new one instead of each asking for another.
	 */
	invalidate(rejected: AccessToken): void {
		if (this.current === rejected) this.current = undefined;
	}
}
