/**
 * The readable API reference (GET /api/docs): one server-rendered page generated from the OpenAPI
 * document, so it always matches the routes. Operations are grouped by tag, each with its
 * parameters, request body, responses and an example curl call; the shared schemas follow, field
 * by field. Styled by the site's own /static/site.css; no script, no inline style (the CSP).
 */
import { escapeHtml, html, raw, type Html } from '../../web/html.js';
import type { JsonSchema, OpenApiDocument, OpenApiOperation } from '../openapi.js';

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

/** Plain text with `code` spans and blank-line paragraphs. */
function prose(text: string | undefined): Html {
  if (!text) return html``;
  return raw(
    text
      .split(/\n\s*\n/)
      .map((p) => `<p>${escapeHtml(p.trim()).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
      .join('\n'),
  );
}

function inline(text: string | undefined): Html {
  return raw(escapeHtml(text ?? '').replace(/`([^`]+)`/g, '<code>$1</code>'));
}

const refName = (s: JsonSchema): string | null => (typeof s.$ref === 'string' ? s.$ref.replace('#/components/schemas/', '') : null);

/** A short type label: `integer`, `string (date-time)`, `array of Torrent`, `one of: a, b`. */
function typeLabel(s: JsonSchema): Html {
  const ref = refName(s);
  if (ref) return html`<a href="#schema-${ref}">${ref}</a>`;
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  const parts: Html[] = [];
  for (const t of types) {
    if (t === 'array') parts.push(html`array of ${typeLabel((s.items ?? {}) as JsonSchema)}`);
    else if (typeof s.format === 'string' && t !== 'null') parts.push(html`${t} (${s.format})`);
    else parts.push(html`${t}`);
  }
  let out = parts.length > 0 ? html`${parts.map((p, i) => (i === 0 ? p : html` or ${p}`))}` : html`any`;
  if (Array.isArray(s.enum)) out = html`${out}: ${(s.enum as unknown[]).map((v, i) => html`${i > 0 ? ', ' : ''}<code>${String(v)}</code>`)}`;
  return out;
}

function constraints(s: JsonSchema): string {
  const c: string[] = [];
  if (s.minimum !== undefined) c.push(`min ${String(s.minimum)}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) c.push(`max ${String(s.maximum)}`);
  if (s.maxLength !== undefined) c.push(`at most ${String(s.maxLength)} characters`);
  if (s.default !== undefined) c.push(`default ${JSON.stringify(s.default)}`);
  return c.join(', ');
}

interface FieldRow {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

/** The fields of an object schema, nested inline objects flattened (`category.parent.id`, `files[].path`). */
function fieldsOf(s: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  const rows: FieldRow[] = [];
  for (const [name, p] of Object.entries(props)) {
    const full = prefix + name;
    rows.push({ name: full, schema: p, required: required.has(name) });
    if (depth > 4 || refName(p)) continue;
    const types = Array.isArray(p.type) ? (p.type as string[]) : [p.type];
    if (types.includes('object')) rows.push(...fieldsOf(p, `${full}.`, depth + 1));
    else if (types.includes('array') && p.items && !refName(p.items as JsonSchema) && (p.items as JsonSchema).type === 'object') {
      rows.push(...fieldsOf(p.items as JsonSchema, `${full}[].`, depth + 1));
    }
  }
  return rows;
}

function fieldTable(caption: string, s: JsonSchema): Html {
  const rows = fieldsOf(s);
  if (rows.length === 0) return html`<p>${typeLabel(s)}</p>`;
  return html`<div class="table-wrap"><table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr><th scope="row"><code>${r.name}</code></th><td>${typeLabel(r.schema)}</td><td>${r.required ? 'yes' : 'no'}</td><td>${inline(r.schema.description as string | undefined)}${constraints(r.schema) ? html` <span class="note">(${constraints(r.schema)})</span>` : ''}</td></tr>`,
)}
</tbody></table></div>`;
}

function operationSection(doc: OpenApiDocument, path: string, method: string, op: OpenApiOperation): Html {
  const id = `op-${op.operationId}`;
  const params = op.parameters ?? [];
  const body = op.requestBody ? Object.entries(op.requestBody.content)[0] : undefined;
  const scope = op['x-scope'];
  return html`<section class="panel api-operation" aria-labelledby="${id}">
<h3 id="${id}"><code>${method.toUpperCase()} ${path}</code>: ${op.summary}</h3>
${prose(op.description)}
<p>${scope ? html`Authentication: an API token with the <code>${scope}</code> scope.` : 'No authentication.'}</p>
${
  params.length > 0
    ? html`<div class="table-wrap"><table>
<caption>Parameters of ${op.operationId}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead>
<tbody>
${params.map(
  (p) => html`<tr><th scope="row"><code>${p.name}</code></th><td>${p.in}</td><td>${typeLabel(p.schema)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${inline(p.description)}${constraints(p.schema) ? html` <span class="note">(${constraints(p.schema)})</span>` : ''}</td></tr>`,
)}
</tbody></table></div>`
    : ''
}
${body ? html`<h4>Request body (<code>${body[0]}</code>)</h4>${fieldTable(`Request body of ${op.operationId}`, resolve(doc, body[1].schema))}` : ''}
<h4>Responses</h4>
<div class="table-wrap"><table>
<caption>Responses of ${op.operationId}</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Description</th><th scope="col">Content</th></tr></thead>
<tbody>
${Object.entries(op.responses).map(([status, r]) => {
  const content = r.content ? Object.entries(r.content)[0] : undefined;
  return html`<tr><th scope="row">${status}</th><td>${r.description}</td><td>${content ? html`<code>${content[0]}</code>: ${typeLabel(content[1].schema)}` : 'none'}</td></tr>`;
})}
</tbody></table></div>
${op['x-codeSamples'].map((c) => html`<h4>Example (${c.label})</h4>
<pre><code>${c.source}</code></pre>`)}
</section>`;
}

function resolve(doc: OpenApiDocument, s: JsonSchema): JsonSchema {
  const ref = refName(s);
  return ref ? (doc.components.schemas[ref] ?? s) : s;
}

export interface ReferenceOptions {
  siteName: string;
}

/** Every operation of the document, by tag then path and method. */
export function operationsByTag(doc: OpenApiDocument): Map<string, Array<{ path: string; method: string; op: OpenApiOperation }>> {
  const byTag = new Map<string, Array<{ path: string; method: string; op: OpenApiOperation }>>();
  for (const t of doc.tags) byTag.set(t.name, []);
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of METHOD_ORDER) {
      const op = methods[method];
      if (!op) continue;
      const tag = op.tags[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ path, method, op });
    }
  }
  return byTag;
}

/** The whole page. */
export function renderReference(doc: OpenApiDocument, o: ReferenceOptions): string {
  const byTag = operationsByTag(doc);
  const tagDoc = new Map(doc.tags.map((t) => [t.name, t.description]));
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} reference</title>
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site-header"><a class="brand" href="/">${o.siteName}</a></header>
<main id="main">
<h1>${doc.info.title} reference</h1>
<p>Version ${doc.info.version}. Base URL: <code>${doc.servers[0]?.url ?? ''}</code>. Machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
${prose(doc.info.description)}
<nav aria-labelledby="toc-title">
<h2 id="toc-title">Operations</h2>
<ul>
${[...byTag].map(
  ([tag, ops]) => html`<li><a href="#tag-${slug(tag)}">${tag}</a>
<ul>${ops.map(({ path, method, op }) => html`<li><a href="#op-${op.operationId}"><code>${method.toUpperCase()} ${path}</code></a>: ${op.summary}</li>`)}</ul></li>`,
)}
<li><a href="#schemas">Schemas</a></li>
</ul>
</nav>
${[...byTag].map(
  ([tag, ops]) => html`<section aria-labelledby="tag-${slug(tag)}">
<h2 id="tag-${slug(tag)}">${tag}</h2>
${prose(tagDoc.get(tag))}
${ops.map(({ path, method, op }) => operationSection(doc, path, method, op))}
</section>`,
)}
<section aria-labelledby="schemas">
<h2 id="schemas">Schemas</h2>
${Object.entries(doc.components.schemas).map(
  ([name, s]) => html`<section aria-labelledby="schema-${name}">
<h3 id="schema-${name}">${name}</h3>
${prose(s.description as string | undefined)}
${fieldTable(`Fields of ${name}`, s)}
</section>`,
)}
</section>
</main>
</body>
</html>
`;
  return page.value;
}
