import type { SimEntity } from './data';
import type { FieldSpec } from './fields';
import type { SimConcurrentEdit, SimPatchBehaviour, SimPatchScope } from './types';

/**
 * The `patch` quirk (SimPatchBehaviour) as rules for one PATCH: what ST refuses, drops and normalizes, which other
 * user's edit lands first, and how late it answers. Pure functions of the configuration.
 */

const MONEY_FIELDS = new Set(['price', 'memberPrice', 'addOnPrice', 'addOnMemberPrice', 'cost']);
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/** Whether `fields` (default: every field) names `field`, plain or as `entity.field`. */
function named(fields: readonly string[] | undefined, entity: SimEntity, field: string): boolean {
	return fields === undefined || fields.includes(field) || fields.includes(`${entity}.${field}`);
}

function inScope(scope: SimPatchScope | undefined, entity: SimEntity, field: string): scope is SimPatchScope {
	if (!scope) return false;
	if (scope.entities && !scope.entities.includes(entity)) return false;
	return named(scope.fields, entity, field);
}

/** The rules one PATCH of `entity` follows. */
export class PatchRules {
	constructor(
		private readonly behaviour: SimPatchBehaviour,
		private readonly entity: SimEntity,
	) {}

	/** The message of the 400 `field` is refused with, if it is. */
	refusal(field: string): string | undefined {
		const rule = this.behaviour.refuseFields;
		if (!rule || (rule.entities && !rule.entities.includes(this.entity)) || !named(rule.fields ?? [], this.entity, field)) return undefined;
		return rule.message ?? `The ${field} field cannot be changed.`;
	}

	/** Whether ST answers 200 for `field` but keeps its stored value. */
	ignores(field: string): boolean {
		const rule = this.behaviour.ignoreFields;
		return !!rule && (!rule.entities || rule.entities.includes(this.entity)) && named(rule.fields ?? [], this.entity, field);
	}

	/** Whether the PATCH answer shows an ignored field's value as sent. */
	echoesIgnored(): boolean {
		return this.behaviour.ignoreFields?.echo === true;
	}

	/** The form ST stores a converted request value in. */
	stored(field: string, spec: FieldSpec, value: unknown): unknown {
		const b = this.behaviour;
		if (spec.kind === 'decimal' && MONEY_FIELDS.has(field) && typeof value === 'number' && inScope(b.roundMoney, this.entity, field)) {
			return roundHalfAway(value, b.roundMoney.decimals ?? 2);
		}
		if ((spec.kind !== 'string' && spec.kind !== 'requiredString') || typeof value !== 'string') return value;
		let text = value;
		if (inScope(b.stripHtml, this.entity, field)) text = b.stripHtml.mode === 'strip' ? stripTags(text) : normalizeHtml(text);
		if (inScope(b.trimText, this.entity, field)) text = text.trim().replace(/\s+/g, ' ');
		if (spec.kind === 'string' && text === '' && inScope(b.emptyAsNull, this.entity, field)) return null;
		return text;
	}
}

/** The first pending edit that lands on a PATCH of `entity` `id`, and the edits left pending after it. */
export function takeConcurrentEdit(
	pending: readonly SimConcurrentEdit[] | undefined,
	entity: SimEntity,
	id: number,
): { changes: Record<string, unknown>; left: SimConcurrentEdit[] } | undefined {
	const list = pending ?? [];
	const index = list.findIndex((e) => (e.entity === undefined || e.entity === entity) && (e.id === undefined || e.id === id));
	if (index < 0) return undefined;
	const edit = list[index];
	const times = (edit.times ?? 1) - 1;
	const left = [...list.slice(0, index), ...(times > 0 ? [{ ...edit, times }] : []), ...list.slice(index + 1)];
	return { changes: edit.changes, left };
}

/** How late a PATCH of `entity` is answered, ms. */
export function patchDelayMs(behaviour: SimPatchBehaviour, entity: SimEntity): number {
	const delay = behaviour.delayMs;
	const ms = typeof delay === 'number' ? delay : delay?.[entity];
	return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * `value` rounded to `decimals` half away from zero, on its shortest decimal form (as ST, a .NET decimal stored in
 * SQL Server, rounds the text it was sent: 1.005 → 1.01, where binary arithmetic would give 1.00).
 */
export function roundHalfAway(value: number, decimals: number): number {
	const places = Math.max(0, Math.floor(decimals));
	const text = String(Math.abs(value));
	if (text.includes('e')) return Number(value.toFixed(places));
	const [whole, fraction = ''] = text.split('.');
	if (fraction.length <= places) return value;
	let digits = BigInt(whole + fraction.slice(0, places));
	if (fraction.charCodeAt(places) >= '5'.charCodeAt(0)) digits += 1n;
	const padded = digits.toString().padStart(places + 1, '0');
	const rounded = Number(places === 0 ? padded : `${padded.slice(0, -places)}.${padded.slice(-places)}`);
	return value < 0 && rounded !== 0 ? -rounded : rounded;
}

/** Tag names lower-cased, void elements closed as `<br/>`; text and attributes as sent. */
function normalizeHtml(text: string): string {
	return text.replace(/<(\/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[^<>]*?)?)\s*(\/?)>/g, (_all, close: string, name: string, raw: string, slash: string) => {
		const tag = name.toLowerCase();
		const attrs = raw.trimEnd();
		if (close) return `</${tag}>`;
		return VOID_ELEMENTS.has(tag) ? `<${tag}${attrs}/>` : `<${tag}${attrs}${slash}>`;
	});
}

/** Tags removed and the common entities decoded. */
function stripTags(text: string): string {
	return text.replace(/<\/?[A-Za-z][^<>]*>/g, '').replace(/&(?:amp|lt|gt|quot|#39|nbsp);/g, (entity) => ENTITIES[entity]);
}
