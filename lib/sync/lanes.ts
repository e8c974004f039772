import { inLane, type Lane } from '../servicetitan/throttle';

/**
 * The budget lane of a run's ServiceTitan requests: what a person waits on first (one item, a resolution, an undo
 * or restore, a retry), then the 15-minute incremental run, then full runs and everything else.
 */
export function laneOfRun(kind: string): Lane {
	if (kind === 'incremental') return 'incremental';
	if (kind === 'full') return 'bulk';
	return 'interactive';
}

/** Runs `work` with its ServiceTitan requests in the lane of a run of `kind`. */
export function inRunLane<T>(kind: string, work: () => Promise<T>): Promise<T> {
	return inLane(laneOfRun(kind), work);
}
