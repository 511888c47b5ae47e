/**
 * OpenAPI 3.1 from the routes themselves: the JSON Schemas a route gives Fastify (params,
 * querystring, body, response per status) are the ones that validate its requests and serialise
 * its answers, and the ones this module publishes. Nothing is described twice, so the document
 * cannot drift from the code.
 *
 *   const api = collectOperations(scope);        // before the routes: an onRoute hook
 *   scope.get('/x', { schema, config: { openapi: { operationId, summary, tags, scope: 'read' } } }, h);
 *   ...
 *   buildOpenApi(api.operations(), { title, version, servers, ... })   // once the scope is ready
 *
 * Only routes whose config carries `openapi` are documented (HEAD twins are skipped).
 *
 * Shared schemas: `named('Torrent', schema)` registers a schema object under a name; wherever that
 * very object appears in a route's schemas, the document has `$ref: '#/components/schemas/Torrent'`
 * and the schema once under `components.schemas`. Fastify itself gets the object inline.
 *
 * OpenAPI 3.1 is JSON Schema 2020-12, so nullable values are `type: ['string', 'null']` in both.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';

export type JsonSchema = { [key: string]: unknown };

/** The documentation of one operation, given in the route's `config.openapi`. */
export interface OperationDoc {
  /** Unique, camelCase (`listTorrents`). */
  operationId: string;
  summary: string;
  /** Markdown-free plain text (the reference page shows it as paragraphs split on blank lines). */
  description?: string;
  tags: string[];
  /** The token scope the operation needs; null: no authentication. */
  scope: string | null;
  /** A body Fastify does not validate itself (multipart): documented only. */
  requestBody?: { contentType: string; schema: JsonSchema; description?: string; required?: boolean };
  /** Answers that are not JSON (a file), by status: their media type and description. */
  rawResponses?: Record<string, { contentType: string; description: string; schema?: JsonSchema }>;
  /** Values for the reference page's example call (path parameters, query, multipart fields). */
  example?: { path?: Record<string, string | number>; query?: Record<string, string | number>; form?: Record<string, string> };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI documentation (src/api/openapi.ts); routes without it are not published. */
    openapi?: OperationDoc;
  }
}

/** A documented route, as collected. */
export interface CollectedOperation {
  method: string;
  /** Fastify's form: `/api/v1/torrents/:id`. */
  url: string;
  schema: {
    params?: JsonSchema;
    querystring?: JsonSchema;
    body?: JsonSchema;
    response?: Record<string, JsonSchema>;
  };
  doc: OperationDoc;
}

const names = new WeakMap<object, string>();

/** Registers a schema object as the component `name` (returns it, for use inline in routes). */
export function named<T extends object>(name: string, schema: T): T {
  names.set(schema, name);
  return schema;
}

/** The component name of a schema object, if it was registered. */
export function componentName(schema: object): string | undefined {
  return names.get(schema);
}

/** Collects the documented routes of a scope (and of the scopes it registers afterwards). */
export function collectOperations(scope: FastifyInstance): { operations(): readonly CollectedOperation[] } {
  const ops: CollectedOperation[] = [];
  scope.addHook('onRoute', (route: RouteOptions) => {
    const doc = route.config?.openapi;
    if (!doc) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      ops.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as CollectedOperation['schema'], doc });
    }
  });
  return { operations: () => ops };
}

/** The package's version (package.json two levels up from src/api or dist/api). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface SecuritySchemeDoc {
  /** Name under components.securitySchemes. */
  name: string;
  scheme: JsonSchema;
}

export interface OpenApiOptions {
  title: string;
  version: string;
  description: string;
  servers: Array<{ url: string; description?: string }>;
  /** Schemes any of which authenticates an operation; its `scope` is listed for each. */
  securitySchemes: SecuritySchemeDoc[];
  tags: Array<{ name: string; description: string }>;
  /** Response descriptions by status (default: the HTTP reason phrase). */
  responseDescriptions?: Record<string, string>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string; description?: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
  style?: 'form';
  explode?: boolean;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
  security: Array<Record<string, string[]>>;
  /** The token scope needed (also in `security`), for readers that ignore scopes of non-OAuth schemes. */
  'x-scope'?: string;
  /** An example call (curl, token in the Bearer header). */
  'x-codeSamples': Array<{ lang: string; label: string; source: string }>;
}

/** The example curl call of an operation, with the token in the Bearer header. */
export function curlSample(server: string, path: string, method: string, secured: boolean, example: OperationDoc['example'] = {}, binary = false): string {
  const url = new URL(server + path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(String(example.path?.[name] ?? 1))));
  for (const [k, v] of Object.entries(example.query ?? {})) url.searchParams.set(k, String(v));
  const parts = ['curl'];
  if (method !== 'get') parts.push(`-X ${method.toUpperCase()}`);
  if (secured) parts.push('-H "Authorization: Bearer $ESSAIM_TOKEN"');
  for (const [k, v] of Object.entries(example.form ?? {})) parts.push(`-F "${k}=${v.replace(/["\\$`]/g, '\\$&')}"`);
  if (binary) parts.push('-o file.torrent');
  parts.push(`'${url.toString().replace(/'/g, '%27')}'`);
  return parts.join(' \\\n  ');
}

/** `/api/v1/torrents/:id` → `/api/v1/torrents/{id}` */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * A deep copy of a schema for the document: registered components become `$ref`s (their
 * definitions are added to `components`), except at the top when `self` names the component.
 */
function refify(schema: unknown, components: Record<string, JsonSchema>, self?: string): unknown {
  if (Array.isArray(schema)) return schema.map((x) => refify(x, components));
  if (schema === null || typeof schema !== 'object') return schema;
  const name = names.get(schema);
  if (name !== undefined && name !== self) {
    if (!(name in components)) {
      components[name] = {}; // placeholder: recursion stops on cycles
      components[name] = refify(schema, components, name) as JsonSchema;
    }
    return { $ref: `#/components/schemas/${name}` };
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    // `properties` maps names to schemas: a property may be called like a keyword.
    if (k === 'properties' && v && typeof v === 'object') {
      const props: JsonSchema = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = refify(pv, components);
      out[k] = props;
    } else out[k] = refify(v, components);
  }
  return out;
}

function parametersOf(part: JsonSchema | undefined, where: 'path' | 'query', components: Record<string, JsonSchema>): OpenApiParameter[] {
  const props = (part?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((part?.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...schema } = s;
    const p: OpenApiParameter = { name, in: where, required: where === 'path' || required.has(name), schema: refify(schema, components) as JsonSchema };
    if (typeof description === 'string') p.description = description;
    if (where === 'query' && (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array')))) {
      p.style = 'form';
      p.explode = true;
    }
    return p;
  });
}

/** Builds the document from the collected operations. */
export function buildOpenApi(ops: readonly CollectedOperation[], o: OpenApiOptions): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {};
  const paths: OpenApiDocument['paths'] = {};
  const describe = (status: string) => o.responseDescriptions?.[status] ?? STATUS_CODES[Number(status)] ?? 'Response';
  for (const op of ops) {
    const { doc, schema } = op;
    // Keys in reading order: what it is, who may call it, what it takes, what it answers.
    const operation = { operationId: doc.operationId, summary: doc.summary } as OpenApiOperation;
    if (doc.description) operation.description = doc.description;
    operation.tags = doc.tags;
    operation.security = doc.scope === null ? [] : o.securitySchemes.map((sc) => ({ [sc.name]: [doc.scope!] }));
    if (doc.scope !== null) operation['x-scope'] = doc.scope;
    const parameters = [...parametersOf(schema.params, 'path', schemas), ...parametersOf(schema.querystring, 'query', schemas)];
    if (parameters.length > 0) operation.parameters = parameters;
    if (doc.requestBody) {
      operation.requestBody = {
        required: doc.requestBody.required ?? true,
        content: { [doc.requestBody.contentType]: { schema: refify(doc.requestBody.schema, schemas) as JsonSchema } },
      };
      if (doc.requestBody.description) operation.requestBody.description = doc.requestBody.description;
    } else if (schema.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: refify(schema.body, schemas) as JsonSchema } } };
    }
    operation.responses = {};
    const statuses = new Set([...Object.keys(schema.response ?? {}), ...Object.keys(doc.rawResponses ?? {})]);
    for (const status of [...statuses].sort()) {
      const rawDoc = doc.rawResponses?.[status];
      if (rawDoc) {
        operation.responses[status] = { description: rawDoc.description, content: { [rawDoc.contentType]: { schema: rawDoc.schema ?? { type: 'string', format: 'binary' } } } };
        continue;
      }
      const s = schema.response![status]!;
      const own = names.has(s) ? undefined : (s.description as string | undefined);
      if (status === '204' || s.type === 'null') operation.responses[status] = { description: own ?? describe(status) };
      else operation.responses[status] = { description: own ?? describe(status), content: { 'application/json': { schema: refify(s, schemas) as JsonSchema } } };
    }
    const path = openApiPath(op.url);
    const binary = Object.values(doc.rawResponses ?? {}).some((r) => r.contentType !== 'application/json');
    operation['x-codeSamples'] = [{ lang: 'Shell', label: 'curl', source: curlSample(o.servers[0]?.url ?? '', path, op.method, doc.scope !== null, doc.example, binary) }];
    (paths[path] ??= {})[op.method] = operation;
  }
  const securitySchemes: Record<string, JsonSchema> = {};
  for (const sc of o.securitySchemes) securitySchemes[sc.name] = sc.scheme;
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, description: o.description },
    servers: o.servers,
    tags: o.tags,
    paths,
    components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))), securitySchemes },
  };
}
