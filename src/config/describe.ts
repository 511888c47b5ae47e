/**
 * Human-facing views of the schema: the listing behind `essaim config print` and the markdown
 * table of docs/configuration.md (kept in step by a test; regenerate with
 * `node --import tsx src/config/write-docs.ts`).
 */
import { envName, schemaEntries, type Config, type Field } from './schema.js';
import { configValue } from './load.js';

export interface ConfigKeyDescription {
  /** "tracker.mode". */
  key: string;
  /** "ESSAIM_TRACKER__MODE". */
  env: string;
  /** Human-readable type, e.g. "integer (0–65535)", "public | listed | private", "seconds (≥ 1)". */
  type: string;
  default: unknown;
  doc: string;
  /** The value in the config given to describeConfig, if one was. */
  value?: unknown;
}

/** Every key of the schema in order; with a config, each entry also carries its current value. */
export function describeConfig(config?: Config): ConfigKeyDescription[] {
  return schemaEntries().map((e) => {
    const d: ConfigKeyDescription = {
      key: e.path,
      env: envName(e.section, e.key),
      type: describeType(e.field),
      default: e.field.default,
      doc: e.field.doc,
    };
    if (config) d.value = configValue(config, e.path);
    return d;
  });
}

function range(f: { min?: number; max?: number }): string {
  if (f.min !== undefined && f.max !== undefined) return ` (${f.min}–${f.max})`;
  if (f.min !== undefined) return ` (≥ ${f.min})`;
  if (f.max !== undefined) return ` (≤ ${f.max})`;
  return '';
}

export function describeType(f: Field): string {
  switch (f.type) {
    case 'string':
      return 'string';
    case 'int':
      return `integer${range(f)}`;
    case 'number':
      return `number${range(f)}`;
    case 'duration':
      return `seconds${range(f)}`;
    case 'bool':
      return 'boolean';
    case 'enum':
      return f.values.join(' | ');
    case 'list':
      return 'list of strings';
  }
}

/** `scheme://user:password@host...` with the password replaced by `<redacted>`; other strings unchanged. */
export function redactUrlPassword(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:<redacted>@');
}

/** A value as it would be written in essaim.toml: strings quoted, lists in brackets. */
export function formatConfigValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatConfigValue).join(', ')}]`;
  return String(v);
}

/**
 * The text of `essaim config print`: one block per key with its current value, its default (when
 * different), where the value came from (when `sources` is given) and its doc.
 */
export function formatConfigListing(config: Config, sources?: ReadonlyMap<string, string>): string {
  const lines: string[] = [];
  let section = '';
  for (const d of describeConfig(config)) {
    const s = d.key.split('.')[0]!;
    if (s !== section) {
      if (section !== '') lines.push('');
      lines.push(`[${s}]`);
      section = s;
    }
    // Passwords inside URLs (database.url, redis.url, mail.smtp_url) are not printed: the listing
    // is the kind of text that ends up pasted into a bug report.
    const value = formatConfigValue(typeof d.value === 'string' ? redactUrlPassword(d.value) : d.value);
    const dflt = formatConfigValue(d.default);
    const notes = [d.type, `default ${dflt}`];
    const source = sources?.get(d.key);
    if (source && source !== 'default') notes.push(`from ${source}`);
    lines.push(`${d.key.slice(s.length + 1)} = ${value}  # ${notes.join('; ')}`);
    lines.push(`  # ${d.doc}`);
  }
  return lines.join('\n') + '\n';
}

export const DOCS_BEGIN = '<!-- BEGIN GENERATED CONFIG TABLE (src/config/describe.ts: renderConfigDocs) -->';
export const DOCS_END = '<!-- END GENERATED CONFIG TABLE -->';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The generated part of docs/configuration.md: one markdown table per section. */
export function renderConfigDocs(): string {
  const out: string[] = [];
  let section = '';
  for (const d of describeConfig()) {
    const s = d.key.split('.')[0]!;
    if (s !== section) {
      if (section !== '') out.push('');
      out.push(`### \`[${s}]\``, '', '| Key | Environment variable | Type | Default | Description |', '| --- | --- | --- | --- | --- |');
      section = s;
    }
    out.push(
      `| \`${d.key}\` | \`${d.env}\` | ${cell(d.type)} | \`${cell(formatConfigValue(d.default))}\` | ${cell(d.doc)} |`,
    );
  }
  return out.join('\n') + '\n';
}

/** Replaces the generated block of a markdown document with the current table. */
export function spliceConfigDocs(markdown: string): string {
  const begin = markdown.indexOf(DOCS_BEGIN);
  const end = markdown.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error('the document has no generated config table markers');
  return markdown.slice(0, begin + DOCS_BEGIN.length) + '\n\n' + renderConfigDocs() + '\n' + markdown.slice(end);
}
