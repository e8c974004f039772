import type { SimRequestLogEntry } from '../../../sim/types';
import type { PatchCall } from './world';

/**
 * INV-17, no identical PATCH sent twice for an unchanged item, read from ServiceTitan's own request log (what was
 * really sent, retries included).
 *
 * The rule: once ServiceTitan answered a PATCH of an item definitively, the same body (same fields, same values)
 * must not be sent for that item again unless, in between, the row was edited in Retool, a person resolved its
 * conflict or retried its held edit, or someone changed the item in ServiceTitan. Nothing else can make sending
 * those values again do anything: ServiceTitan already took them (landed or normalized, and the row settled), kept
 * its own value (ignored: the row holds them as refused), or refused them (400: held the same way).
 *
 * Definitive means the engine knows the answer: ServiceTitan's 2xx or 400 reached it, and the engine lived to
 * record what it concluded. So a send is not definitive, and may legitimately be repeated, when
 * - its answer never arrived: a timeout (also a late answer the client gave up on), a reset, a 5xx, a 429 past the
 *   retries, a body it could not read. The client repeats such a PATCH itself, and a later run pushes it again
 *   (ServiceTitan may or may not have applied it; PATCH is idempotent);
 * - the engine died before recording the outcome: a crash after the call, or a run that failed (ServiceTitan down
 *   for the read-back) before its push results were written. The engine's durable record of exactly this is
 *   `push_in_flight`, written before the PATCH and cleared with the outcome, so for a run that did not succeed a
 *   send counts as definitive only if its row no longer carries push_in_flight after the run. A run that succeeded
 *   recorded every answer it got (else it would have failed), so there every 2xx or 400 it received counts.
 * - a person saved the row (in Retool: any UPDATE, even one writing the values it held) while the push was under
 *   way, after the engine decided it and before the answer: the engine's compare-and-set on the row version keeps
 *   the answer off the row (only the base moves), and the next run decides the row again.
 * A change by another ServiceTitan user that lands during our PATCH (before it is applied) is not "in between":
 * the engine sees it in the read-back and decides again, so it has no reason to send the same body again either.
 */
export class PatchLedger {
	/** Where, in ServiceTitan's request log, something happened that allows an item's bodies to be sent again. */
	private readonly resets: { id: number; at: number; why: string; duringPushOnly: boolean }[] = [];
	/** Positions in the request log of sends whose answer was definitive. */
	private readonly definitive = new Set<number>();
	/** Per item: bodies answered definitively since its last reset, with the request that was answered. */
	private readonly answered = new Map<number, Map<string, { seq: number; status: number | undefined }>>();
	private scanned = 0;

	/**
	 * Something that allows the item's PATCHes to be sent again happened now (`at`: the request log's length).
	 * `duringPushOnly`: it matters only to a push under way (a save of the row that changed no value).
	 */
	reset(id: number, at: number, why: string, duringPushOnly = false): void {
		this.resets.push({ id, at, why, duringPushOnly });
	}

	/** The PATCH calls of a step, each with whether its answer counts as definitive (see above). */
	record(log: readonly SimRequestLogEntry[], calls: readonly { call: PatchCall; definitive: boolean }[]): void {
		for (const { call, definitive } of calls) {
			if (!definitive || call.outcome === 'lost') continue;
			const sends = sendsOf(log, call);
			if (sends.length === 0) continue;
			const answered = sends[sends.length - 1];
			// A person saved the row while the push was under way, after the engine decided it (its last read from
			// ServiceTitan before the PATCH) and before the answer: the engine cannot write the answer onto the row (its
			// compare-and-set on the row version fails, even for a save that changed nothing), so only the base moves
			// and the next run decides the row again, and may send the same values once more.
			let decided = sends[0];
			while (decided > 0 && !(log[decided - 1].target === 'api' && log[decided - 1].method !== 'PATCH')) decided -= 1;
			if (this.resets.some((r) => r.id === call.id && r.at >= decided && r.at <= answered)) continue;
			this.definitive.add(answered);
		}
	}

	/** Reads the request log from where the last check stopped; returns what broke the rule. */
	check(log: readonly SimRequestLogEntry[]): string[] {
		const problems: string[] = [];
		let r = 0;
		const applyResets = (upTo: number) => {
			for (; r < this.resets.length && this.resets[r].at <= upTo; r++) if (!this.resets[r].duringPushOnly) this.answered.delete(this.resets[r].id);
		};
		for (let i = this.scanned; i < log.length; i++) {
			applyResets(i);
			const entry = log[i];
			const id = patchedId(entry);
			if (id === undefined) continue;
			const body = sortedJson(entry.body);
			const earlier = this.answered.get(id)?.get(body);
			if (earlier) {
				problems.push(
					`PATCH of ${id} with ${body} sent again (request ${entry.seq}) though ServiceTitan answered the same body definitively (request ${earlier.seq}, HTTP ${earlier.status}) and since then nobody edited the row, resolved it, retried it or changed the item in ServiceTitan`,
				);
			}
			if (this.definitive.has(i)) {
				const bodies = this.answered.get(id) ?? new Map<string, { seq: number; status: number | undefined }>();
				bodies.set(body, { seq: entry.seq, status: entry.status });
				this.answered.set(id, bodies);
			}
		}
		applyResets(log.length);
		this.resets.splice(0, r);
		this.scanned = log.length;
		return problems;
	}
}

/** The item a logged request PATCHed, if it is an API PATCH of one item. */
export function patchedId(entry: SimRequestLogEntry): number | undefined {
	if (entry.method !== 'PATCH' || entry.target !== 'api') return undefined;
	const match = /\/(\d+)$/.exec(entry.path);
	return match ? Number(match[1]) : undefined;
}

/** Positions in the request log of the sends of one PATCH call (the client's repeats included). */
export function sendsOf(log: readonly SimRequestLogEntry[], call: PatchCall): number[] {
	const out: number[] = [];
	for (let i = call.logStart; i < Math.min(call.logEnd, log.length); i++) {
		const entry = log[i];
		if (patchedId(entry) === call.id && entry.path.includes(`/${call.entity}/`)) out.push(i);
	}
	return out;
}

/** JSON with object keys sorted, so two bodies with the same fields and values compare equal. */
export function sortedJson(value: unknown): string {
	return JSON.stringify(value, (_key, v: unknown) =>
		v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
	);
}
