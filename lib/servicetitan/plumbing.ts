import type { Redactor } from './errors';
import type { RetryWaiter } from './retry';
import type { HttpTransport } from './transport';
import type { StClientStats, StLogFn } from './types';

/** What every request of one client needs, to the token endpoint and to the API alike. */
export interface RequestPlumbing {
	transport: HttpTransport;
	retry: RetryWaiter;
	/** Knows the client's secrets and every token it got, so no message or error can show them. */
	redactor: Redactor;
	/** The client's stats(), counted by whoever makes the request. */
	counters: StClientStats;
	now: () => number;
	log: StLogFn;
}
