export { startSimulator } from './server';
export { DEFAULT_COUNTS, SIM_ENTITIES, TENANT_PRESETS, VENDORS } from './data';
export type { SimCounts, SimEntity, SimRecord, TenantPreset, TenantPresetName } from './data';
export { DEFAULT_QUIRKS } from './types';
export { checkSnapshot, SNAPSHOT_FORMAT, type SimSnapshot } from './snapshot';
export type {
	FaultAction,
	FaultMatch,
	ScriptedFault,
	SimControl,
	SimExchange,
	SimConcurrentEdit,
	SimFaults,
	SimPatchBehaviour,
	SimPatchScope,
	SimQuirks,
	SimRequestLogEntry,
	SimStats,
	SimulatorHandle,
	SimulatorOptions,
} from './types';
