/**
 * A small JSON Schema checker for the tests: the subset the API's schemas use (type, including
 * type lists with null; properties, required, additionalProperties: false; items; enum; pattern;
 * minimum, maximum, maxLength; formats date-time and uri; local $ref into an OpenAPI document's
 * components). Not used by the application. Unknown keywords make it throw, so that a schema
 * using more than it checks cannot pass unnoticed.
 */
import type { JsonSchema } from '../openapi.js';

const KNOWN = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'maxLength',
  'maxItems',
  'format',
  'description',
  'default',
  '$ref',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The problems of `value` against `schema` (empty when it conforms); `$ref`s resolve in `root`. */
export function checkSchema(value: unknown, schema: JsonSchema, root: { components?: { schemas?: Record<string, JsonSchema> } }, path = '$'): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`schema keyword not supported by the checker: ${k} at ${path}`);
  if (typeof schema.$ref === 'string') {
    const m = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
    const target = m ? root.components?.schemas?.[m[1]!] : undefined;
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return checkSchema(value, target, root, path);
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const ok = types.includes(actual) || (actual === 'integer' && types.includes('number'));
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) errors.push(`${path}: not a date-time`);
    if (schema.format === 'uri' && !URL.canParse(value)) errors.push(`${path}: not a URI`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
  }
  if (actual === 'object' && schema.properties !== undefined) {
    const obj = value as Record<string, unknown>;
    const props = schema.properties as Record<string, JsonSchema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errors.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      const p = props[k];
      if (p) errors.push(...checkSchema(v, p, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected field ${k}`);
    }
  }
  if (actual === 'array' && schema.items) {
    const arr = value as unknown[];
    if (typeof schema.maxItems === 'number' && arr.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
    arr.forEach((x, i) => errors.push(...checkSchema(x, schema.items as JsonSchema, root, `${path}[${i}]`)));
  }
  return errors;
}
