export { startSimulator } from './server';
export { DEFAULT_COUNTS, SIM_ENTITIES, VENDORS } from './data';
export type { SimCounts, SimEntity, SimRecord } from './data';
export { DEFAULT_QUIRKS } from './types';
export type {
	FaultAction,
	FaultMatch,
	ScriptedFault,
	SimControl,
	SimExchange,
	SimFaults,
	SimQuirks,
	SimRequestLogEntry,
	SimStats,
	SimulatorHandle,
	SimulatorOptions,
} from './types';
