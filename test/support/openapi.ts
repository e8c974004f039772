import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Contract checks against ServiceTitan's own OpenAPI document (shared/servicetitan-openapi/pricebook-v2.json,
 * beside the repository): finds the operation for a method and path, and validates query parameters, request
 * bodies and response bodies with ajv.
 */

export const OPENAPI_PATH = path.resolve(__dirname, '../../../shared/servicetitan-openapi/pricebook-v2.json');

type Json = unknown;
type SchemaObject = Record<string, Json>;

interface Parameter {
	name: string;
	in: 'query' | 'path' | 'header' | 'cookie';
	required?: boolean;
	schema: SchemaObject;
}

interface Operation {
	operationId: string;
	parameters?: Parameter[];
	requestBody?: { content?: Record<string, { schema: SchemaObject }> };
	responses: Record<string, { content?: Record<string, { schema: SchemaObject }> }>;
}

interface OpenApiDocument {
	servers?: Array<{ url: string }>;
	paths: Record<string, Record<string, Operation>>;
	components: { schemas: Record<string, SchemaObject> };
}

export interface OperationMatch {
	template: string;
	method: string;
	operation: Operation;
	pathParams: Record<string, string>;
}

export interface RequestToCheck {
	method: string;
	/** Full URL path, e.g. /pricebook/v2/tenant/1/materials (the server's base path is removed). */
	path: string;
	query: Record<string, string | string[]>;
	body?: unknown;
}

export interface ResponseToCheck {
	method: string;
	path: string;
	status: number;
	body?: unknown;
}

const ROOT_ID = 'st-pricebook-v2';

interface Route {
	template: string;
	regex: RegExp;
	names: string[];
	/** Count of literal segments: the more, the more specific. */
	literal: number;
}

/**
 * OpenAPI 3.0 → JSON Schema for ajv: `nullable: true` becomes `anyOf: [{type: null}, …]` (ajv's own `nullable`
 * needs a sibling `type`, which `oneOf: [$ref]` properties lack), refs point into `definitions`, and the
 * annotations ajv's strict mode does not know (`example`, `x-…`) go.
 */
export function toJsonSchema(schema: Json): Json {
	if (Array.isArray(schema)) return schema.map(toJsonSchema);
	if (typeof schema !== 'object' || schema === null) return schema;
	const out: SchemaObject = {};
	for (const [key, value] of Object.entries(schema as SchemaObject)) {
		if (key === 'example' || key === 'nullable' || key.startsWith('x-')) continue;
		if (key === '$ref' && typeof value === 'string') {
			out.$ref = value.replace('#/components/schemas/', `${ROOT_ID}#/definitions/`);
		} else if (key === 'properties' && typeof value === 'object' && value !== null) {
			out.properties = Object.fromEntries(Object.entries(value as SchemaObject).map(([k, v]) => [k, toJsonSchema(v)]));
		} else {
			out[key] = toJsonSchema(value);
		}
	}
	if ((schema as SchemaObject).nullable === true) {
		const { description, ...rest } = out;
		return { ...(description !== undefined ? { description } : {}), anyOf: [{ type: 'null' }, rest] };
	}
	return out;
}

export class OpenApiContract {
	private readonly ajv: Ajv;
	private readonly basePath: string;
	private readonly routes: Route[];
	private readonly compiled = new Map<string, ValidateFunction>();

	constructor(private readonly doc: OpenApiDocument) {
		this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
		addFormats(this.ajv);
		// Formats of .NET's generator that JSON Schema does not define: documentation only.
		for (const format of ['decimal', 'html', 'guid', 'binary']) this.ajv.addFormat(format, true);
		const definitions = Object.fromEntries(Object.entries(doc.components.schemas).map(([k, v]) => [k, toJsonSchema(v)]));
		this.ajv.addSchema({ $id: ROOT_ID, definitions });
		this.basePath = new URL(doc.servers?.[0]?.url ?? 'http://x/').pathname.replace(/\/$/, '');
		this.routes = Object.keys(doc.paths).map((template) => {
			const names: string[] = [];
			const source = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
				names.push(name);
				return '([^/]+)';
			});
			return { template, regex: new RegExp(`^${source}$`), names, literal: template.split('/').filter((s) => s && !s.startsWith('{')).length };
		});
	}

	/** The operation for a method and full path; a literal segment beats a parameter (`/materials/costtypes`). */
	findOperation(method: string, fullPath: string): OperationMatch | undefined {
		const docPath = fullPath.startsWith(this.basePath) ? fullPath.slice(this.basePath.length) : fullPath;
		const candidates = this.routes
			.map((route) => ({ route, m: route.regex.exec(docPath) }))
			.filter((c): c is { route: Route; m: RegExpExecArray } => c.m !== null)
			.sort((a, b) => b.route.literal - a.route.literal);
		for (const { route, m } of candidates) {
			const operation = this.doc.paths[route.template][method.toLowerCase()];
			if (!operation) continue;
			const pathParams = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(m[i + 1])]));
			return { template: route.template, method: method.toUpperCase(), operation, pathParams };
		}
		return undefined;
	}

	/** Problems with a request: unknown operation, undeclared or invalid parameters, invalid body. */
	validateRequest(request: RequestToCheck): string[] {
		const where = `${request.method} ${request.path}`;
		const match = this.findOperation(request.method, request.path);
		if (!match) return [`${where}: no such operation in the OpenAPI document`];
		const problems: string[] = [];
		const params = match.operation.parameters ?? [];
		for (const param of params.filter((p) => p.in === 'path')) {
			problems.push(...this.checkParam(where, param, match.pathParams[param.name]));
		}
		for (const [name, raw] of Object.entries(request.query)) {
			const param = params.find((p) => p.in === 'query' && p.name === name);
			if (!param) {
				problems.push(`${where}: query parameter "${name}" is not declared by ${match.operation.operationId}`);
				continue;
			}
			if (Array.isArray(raw)) {
				problems.push(`${where}: query parameter "${name}" sent ${raw.length} times`);
				continue;
			}
			problems.push(...this.checkParam(where, param, raw));
		}
		for (const param of params.filter((p) => p.in === 'query' && p.required)) {
			if (!(param.name in request.query)) problems.push(`${where}: required query parameter "${param.name}" missing`);
		}
		const bodySchema = match.operation.requestBody?.content?.['application/json']?.schema;
		if (request.body !== undefined) {
			if (!bodySchema) problems.push(`${where}: ${match.operation.operationId} takes no JSON body`);
			else problems.push(...this.check(`${where} request body`, bodySchema, request.body));
		}
		return problems;
	}

	/** Problems with a response. Statuses the document leaves undescribed (401, 429, 5xx) are not checked. */
	validateResponse(response: ResponseToCheck): string[] {
		const where = `${response.method} ${response.path} → ${response.status}`;
		const match = this.findOperation(response.method, response.path);
		if (!match) return [`${where}: no such operation in the OpenAPI document`];
		const declared = match.operation.responses[String(response.status)];
		if (!declared) {
			return response.status >= 200 && response.status < 300
				? [`${where}: ${match.operation.operationId} does not declare status ${response.status}`]
				: [];
		}
		const schema = declared.content?.['application/json']?.schema;
		if (!schema) {
			return response.body === undefined || response.body === '' ? [] : [`${where}: a body where the document declares none`];
		}
		return this.check(where, schema, response.body);
	}

	/** Validates a value against a named component schema, e.g. `Pricebook.V2.MaterialResponse`. */
	validateComponent(name: string, value: unknown): string[] {
		if (!(name in this.doc.components.schemas)) return [`no component schema ${name}`];
		return this.check(name, { $ref: `#/components/schemas/${name}` }, value);
	}

	private checkParam(where: string, param: Parameter, raw: string | undefined): string[] {
		if (raw === undefined) return param.required ? [`${where}: ${param.in} parameter "${param.name}" missing`] : [];
		const type = typeOf(param.schema);
		let value: unknown = raw;
		if (type === 'integer' || type === 'number') {
			if (!/^-?\d+(\.\d+)?$/.test(raw)) return [`${where}: ${param.name}=${raw} is not a number`];
			value = Number(raw);
		} else if (type === 'boolean') {
			if (!/^(true|false)$/i.test(raw)) return [`${where}: ${param.name}=${raw} is not a boolean`];
			value = raw.toLowerCase() === 'true';
		}
		return this.check(`${where} ${param.in} parameter ${param.name}`, param.schema, value);
	}

	private check(where: string, schema: SchemaObject, value: unknown): string[] {
		const key = JSON.stringify(schema);
		let validate = this.compiled.get(key);
		if (!validate) {
			validate = this.ajv.compile(toJsonSchema(schema) as SchemaObject);
			this.compiled.set(key, validate);
		}
		if (validate(value)) return [];
		return (validate.errors ?? [])
			.slice(0, 5)
			.map((e) => `${where}: ${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
	}
}

function typeOf(schema: SchemaObject): string | undefined {
	return typeof schema.type === 'string' ? schema.type : undefined;
}

/**
 * Where a live tenant's answers disagree with the document (facts in shared/servicetitan-api.md, "What a live
 * tenant returns"), the live answer wins, field by field; nothing else is loosened:
 * - `CategoryResponse` (listings, GET, POST and PATCH answers, nested subcategories): a live tenant sends neither
 *   `createdOn` nor `modifiedOn`, which the document requires. They are no longer required; when present they must
 *   still be date-times. `ExportCategoryResponse` (the export feed, which does carry them) keeps requiring both.
 * - `ServiceResponse` and `ExportServiceResponse`: every live service carries `useStaticPrices` and
 *   `calculatedPrice` (null), which the document does not declare (and `additionalProperties: false` forbids).
 *   They are declared here as nullable boolean and nullable decimal.
 */
export function withLiveDeviations(doc: OpenApiDocument): OpenApiDocument {
	const copy = structuredClone(doc);
	const schemas = copy.components.schemas;
	const schema = (name: string): SchemaObject => {
		const found = schemas[name];
		if (!found) throw new Error(`live deviation: the OpenAPI document has no component schema ${name}`);
		return found;
	};
	const category = schema('Pricebook.V2.CategoryResponse');
	category.required = (category.required as string[]).filter((field) => field !== 'createdOn' && field !== 'modifiedOn');
	for (const name of ['Pricebook.V2.ServiceResponse', 'Pricebook.V2.ExportServiceResponse']) {
		const properties = schema(name).properties as Record<string, SchemaObject>;
		properties.useStaticPrices = { type: 'boolean', nullable: true, description: 'Live tenant only (null on every service seen)' };
		properties.calculatedPrice = { type: 'number', format: 'decimal', nullable: true, description: 'Live tenant only (null on every service seen)' };
	}
	return copy;
}

let cached: OpenApiContract | undefined;

/**
 * The shared document with the live tenant's deviations (withLiveDeviations), loaded once per test file; a clear
 * failure when shared/ is not beside the repository.
 */
export function pricebookContract(): OpenApiContract {
	if (cached) return cached;
	if (!existsSync(OPENAPI_PATH)) {
		throw new Error(
			`ServiceTitan OpenAPI document not found at ${OPENAPI_PATH}. The contract tests read it from shared/ beside ` +
				'the repository (shared/servicetitan-openapi/pricebook-v2.json); copy or mount shared/ there.',
		);
	}
	cached = new OpenApiContract(withLiveDeviations(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument));
	return cached;
}
