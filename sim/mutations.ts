import { blankRecord } from './blank-records';
import { VENDORS, type SimEntity, type SimRecord } from './data';
import { convertField, FieldError, REQUIRED_ON_CREATE, WRITABLE_FIELDS, type FieldContext } from './fields';
import { PatchRules, takeConcurrentEdit } from './patch-behaviour';
import { BadRequest } from './results';
import type { SimStore } from './store';
import type { SimQuirks } from './types';

/**
 * Every change to the pricebook: the API's create and patch (validated field by field as ST does, throwing
 * BadRequest) and the raw changes the control interface makes "in ServiceTitan" (not validated).
 */
export class SimMutations {
	private readonly vendorNames = new Map(VENDORS.map((v) => [v.vendorId, v.vendorName]));

	constructor(
		private readonly store: SimStore,
		private readonly quirks: () => SimQuirks,
		private readonly setQuirks: (quirks: Partial<SimQuirks>) => void,
	) {}

	// ---- through the API ----

	create(entity: SimEntity, body: unknown): SimRecord {
		if (!isObject(body)) throw new BadRequest({ '': ['A non-empty request body is required.'] });
		const missing = REQUIRED_ON_CREATE[entity].filter((f) => body[f] === undefined || body[f] === null);
		if (missing.length > 0) throw new BadRequest(Object.fromEntries(missing.map((f) => [f, [`The ${f} field is required.`]])));
		const base = blankRecord(entity, this.store);
		// A create goes through the same field handling as a PATCH: ServiceTitan may store a normalized form, or drop a
		// field (reported for useStaticPrices after create), so the created item need not hold what was sent.
		const rules = new PatchRules(this.quirks().patch ?? {}, entity);
		const record = { ...base, ...this.convert(entity, base, body, rules).changes } as SimRecord;
		this.store.put(entity, record);
		return record;
	}

	/**
	 * Patches stored record `id` as the `patch` quirk says ST does (see SimPatchBehaviour): `stored` is the record
	 * now held, `answered` what the PATCH answer shows (the same, unless ignored fields are echoed).
	 */
	patch(entity: SimEntity, id: number, body: unknown): { stored: SimRecord; answered: SimRecord } {
		if (!isObject(body)) throw new BadRequest({ '': ['A non-empty request body is required.'] });
		const behaviour = this.quirks().patch ?? {};
		const edit = takeConcurrentEdit(behaviour.concurrentEdit, entity, id);
		if (edit) {
			this.setQuirks({ patch: { ...behaviour, concurrentEdit: edit.left } });
			this.updateRaw(entity, id, edit.changes);
		}
		const current = this.requireRecord(entity, id);
		const rules = new PatchRules(behaviour, entity);
		const { changes, ignored } = this.convert(entity, current, body, rules);
		const stored = { ...current, ...changes, ...this.store.touch() } as SimRecord;
		this.store.put(entity, stored);
		return { stored, answered: rules.echoesIgnored() ? ({ ...stored, ...ignored } as SimRecord) : stored };
	}

	// ---- "in ServiceTitan", by the control interface ----

	updateRaw(entity: SimEntity, id: number, patch: Record<string, unknown>, modifiedOn?: string): SimRecord {
		const current = this.requireRecord(entity, id);
		const stamp = modifiedOn ? this.store.explicitStamp(modifiedOn) : this.store.touch();
		const updated = { ...current, ...patch, id, ...stamp, createdOn: current.createdOn } as SimRecord;
		this.store.put(entity, updated);
		return updated;
	}

	deactivate(entity: SimEntity, id: number): SimRecord {
		return this.updateRaw(entity, id, { active: false });
	}

	/** A hard delete leaves a tombstone for the export feed; the `deleteMode` quirk may make it a deactivation. */
	deleteRecord(entity: SimEntity, id: number): void {
		const current = this.requireRecord(entity, id);
		if (this.quirks().deleteMode === 'deactivate') {
			this.updateRaw(entity, id, { active: false });
			return;
		}
		this.store.bury(entity, id, { ...current, active: false, ...this.store.touch() });
	}

	createRaw(entity: SimEntity, fields: Record<string, unknown>): SimRecord {
		const base = blankRecord(entity, this.store);
		const record = { ...base, ...fields, id: base.id, createdOn: base.createdOn, modifiedOn: base.modifiedOn } as SimRecord;
		this.store.put(entity, record);
		return record;
	}

	// ---- internals ----

	private requireRecord(entity: SimEntity, id: number): SimRecord {
		const record = this.store.get(entity, id);
		if (!record) throw new Error(`simulator: no ${entity} record ${id}`);
		return record;
	}

	/**
	 * The stored values of a request body's writable fields; every field's errors (and, for a PATCH, the fields
	 * `rules` refuse) are collected into one 400. Fields `rules` ignore are converted into `ignored`, not `changes`.
	 */
	private convert(
		entity: SimEntity,
		current: SimRecord,
		body: Record<string, unknown>,
		rules?: PatchRules,
	): { changes: Record<string, unknown>; ignored: Record<string, unknown> } {
		const specs = WRITABLE_FIELDS[entity];
		const errors: Record<string, string[]> = {};
		const out: Record<string, unknown> = {};
		const ignored: Record<string, unknown> = {};
		const ctx: FieldContext = {
			vendorName: (vendorId) => this.vendorNames.get(vendorId),
			exists: (target, id) => this.store.has(target, id),
			nextVendorLinkId: () => this.store.allocateVendorLinkId(),
			current: (field) => current[field],
			wouldCycle: (parentId) => {
				for (let at: number | null = parentId; at !== null;) {
					if (at === current.id) return true;
					const parent: unknown = this.store.get('categories', at)?.parentId;
					at = typeof parent === 'number' ? parent : null;
				}
				return false;
			},
		};
		for (const [field, value] of Object.entries(body)) {
			const spec = specs[field];
			if (!spec || value === undefined) continue; // unknown or read-only: ignored, like ST
			const refusal = rules?.refusal(field);
			if (refusal !== undefined) (errors[field] ??= []).push(refusal);
			try {
				const converted = convertField(field, spec, value, ctx);
				if (spec.kind === 'writeOnly') continue;
				if (rules?.ignores(field)) ignored[spec.storeAs ?? field] = converted;
				else out[spec.storeAs ?? field] = rules ? rules.stored(field, spec, converted) : converted;
			} catch (error: unknown) {
				if (!(error instanceof FieldError)) throw error;
				(errors[error.field] ??= []).push(error.message);
			}
		}
		if (Object.keys(errors).length > 0) throw new BadRequest(errors);
		return { changes: out, ignored };
	}
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
