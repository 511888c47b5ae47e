/**
 * Loading the configuration: defaults < file < environment < overrides. Every problem found in
 * any layer is collected and thrown at once as a ConfigError; nothing here looks at NODE_ENV.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { configSchema, envName, schemaEntries, type Config, type Field, type SectionName } from './schema.js';
import { readEnvValue, readFileValue, readOverrideValue, show, valueChecks, type Read } from './values.js';

/** Thrown by loadConfig: `problems` lists every refused key or value, each naming its key and source. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  }
}

/** Values given by the program itself (e.g. command-line flags); they win over every other layer. */
export type ConfigOverrides = { [S in SectionName]?: { -readonly [K in keyof Config[S]]?: Config[S][K] } };

export interface LoadConfigOptions {
  /** Explicit file (`--config`). Without it, ESSAIM_CONFIG, then ./essaim.toml, then ./essaim.json. */
  file?: string;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where relative paths and the default files are looked up. Defaults to process.cwd(). */
  cwd?: string;
  overrides?: ConfigOverrides;
}

/** Where a value came from: "default", "file <path>", "env <NAME>" or "override". */
export type ConfigSource = string;

export interface LoadedConfig {
  config: Config;
  /** The file that was read, if any (absolute path). */
  file: string | null;
  /** For each key ("tracker.mode"), where its value came from. */
  sources: ReadonlyMap<string, ConfigSource>;
}

/**
 * ESSAIM_<SECTION>__<KEY> is a configuration key (an unknown one is an error). A variable without
 * the double underscore is an error only when it starts like a section (ESSAIM_TRACKER_MODE, a
 * typo); other ESSAIM_ variables (ESSAIM_CONFIG, ESSAIM_TEST_PG_URL, tooling's) are not config.
 */
const CONFIG_ENV = /^ESSAIM_([A-Z0-9]+(?:_[A-Z0-9]+)*)__([A-Z0-9]+(?:_[A-Z0-9]+)*)$/;
const SECTION_PREFIXES = Object.keys(configSchema).map((s) => `ESSAIM_${s.toUpperCase()}_`);

const FIELDS: ReadonlyMap<string, Field> = new Map(schemaEntries().map((e) => [e.path, e.field]));

/** The defaults, as a frozen Config. */
export function defaultConfig(): Config {
  const out: Record<string, Record<string, unknown>> = {};
  for (const e of schemaEntries()) (out[e.section] ??= {})[e.key] = e.field.default;
  return freeze(out);
}

/** Loads, validates and freezes the configuration. Throws ConfigError listing every problem. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  return loadConfigWithSources(opts).config;
}

/** loadConfig, also telling which file was read and where each value came from (`essaim config print`). */
export function loadConfigWithSources(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];
  const values = new Map<string, unknown>();
  const sources = new Map<string, ConfigSource>();
  for (const e of schemaEntries()) {
    values.set(e.path, e.field.default);
    sources.set(e.path, 'default');
  }
  const set = (path: string, r: Read, source: string): void => {
    if (r.ok) {
      values.set(path, r.value);
      sources.set(path, source);
    } else {
      problems.push(`${path}: ${r.reason} [${source}]`);
    }
  };

  // 1. The file.
  const file = findFile(opts, env, cwd, problems);
  if (file) {
    const source = `file ${displayPath(file, cwd)}`;
    const doc = readDocument(file, source, problems);
    if (doc) applyTree(doc, source, problems, set, readFileValue);
  }

  // 2. The environment.
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('ESSAIM_')) continue;
    const raw = env[name];
    if (raw === undefined) continue;
    const source = `env ${name}`;
    const m = name.includes('__') ? CONFIG_ENV.exec(name) : null;
    if (!m) {
      if (!name.includes('__') && !SECTION_PREFIXES.some((p) => name.startsWith(p))) continue;
      const guess = guessEnvName(name);
      problems.push(
        `${name}: not a configuration variable; keys are ESSAIM_<SECTION>__<KEY>` +
          (guess ? ` (did you mean ${guess}?)` : '') +
          ` [${source}]`,
      );
      continue;
    }
    const path = `${m[1]!.toLowerCase()}.${m[2]!.toLowerCase()}`;
    const field = FIELDS.get(path);
    if (!field) {
      problems.push(`${path}: unknown key${suggest(path)} [${source}]`);
      continue;
    }
    set(path, readEnvValue(field, raw), source);
  }

  // 3. Overrides.
  if (opts.overrides) applyTree(opts.overrides, 'override', problems, set, readOverrideValue);

  // 4. Checks on single values, then across keys (only on values that passed their type).
  for (const [path, check] of Object.entries(valueChecks)) {
    for (const p of check(values.get(path) as never)) problems.push(`${path}: ${p} [${sources.get(path)}]`);
  }
  crossChecks(values, sources, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  const tree: Record<string, Record<string, unknown>> = {};
  for (const e of schemaEntries()) (tree[e.section] ??= {})[e.key] = values.get(e.path);
  return { config: freeze(tree), file, sources };
}

function findFile(
  opts: LoadConfigOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  problems: string[],
): string | null {
  const explicit = opts.file ?? (env.ESSAIM_CONFIG ? env.ESSAIM_CONFIG : undefined);
  if (explicit !== undefined) {
    const abs = resolve(cwd, explicit);
    if (existsSync(abs)) return abs;
    const how = opts.file !== undefined ? '--config' : 'env ESSAIM_CONFIG';
    problems.push(`config file not found: ${explicit} [${how}]`);
    return null;
  }
  for (const name of ['essaim.toml', 'essaim.json']) {
    const abs = resolve(cwd, name);
    if (existsSync(abs)) return abs;
  }
  return null;
}

function displayPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function readDocument(file: string, source: string, problems: string[]): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`cannot read the config file: ${(err as Error).message} [${source}]`);
    return null;
  }
  const json = file.toLowerCase().endsWith('.json');
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : parseToml(text, { unsafeKeyBehaviour: 'throw' });
  } catch (err) {
    problems.push(`not valid ${json ? 'JSON' : 'TOML'}: ${(err as Error).message.replace(/\s+/g, ' ').trim()} [${source}]`);
    return null;
  }
  if (!isPlainObject(doc)) {
    problems.push(`the top level must be a table of sections (got ${show(doc)}) [${source}]`);
    return null;
  }
  return doc;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function applyTree(
  tree: object,
  source: string,
  problems: string[],
  set: (path: string, r: Read, source: string) => void,
  read: (field: Field, raw: unknown) => Read,
): void {
  for (const [section, keys] of Object.entries(tree)) {
    if (keys === undefined && source === 'override') continue;
    if (!Object.hasOwn(configSchema, section)) {
      problems.push(`${section}: unknown section${suggest(section)} [${source}]`);
      continue;
    }
    if (!isPlainObject(keys)) {
      problems.push(`${section}: must be a table of keys (got ${show(keys)}) [${source}]`);
      continue;
    }
    for (const [key, raw] of Object.entries(keys)) {
      const path = `${section}.${key}`;
      const field = FIELDS.get(path);
      if (!field) {
        problems.push(`${path}: unknown key${suggest(path)} [${source}]`);
        continue;
      }
      if (raw === undefined && source === 'override') continue;
      set(path, read(field, raw), source);
    }
  }
}

function crossChecks(values: Map<string, unknown>, sources: Map<string, ConfigSource>, problems: string[]): void {
  const num = (k: string): number => values.get(k) as number;
  const src = (a: string, b: string): string => `[${sources.get(a)}; ${b}: ${sources.get(b)}]`;
  const atMost = (a: string, b: string): void => {
    if (num(a) > num(b)) problems.push(`${a}: must be at most ${b} (${num(a)} > ${num(b)}) ${src(a, b)}`);
  };
  atMost('tracker.min_interval', 'tracker.interval');
  atMost('tracker.numwant_default', 'tracker.numwant_max');
  if (num('tracker.peer_timeout') <= num('tracker.interval')) {
    problems.push(
      `tracker.peer_timeout: must be greater than tracker.interval, or peers expire between announces ` +
        `(${num('tracker.peer_timeout')} <= ${num('tracker.interval')}) ${src('tracker.peer_timeout', 'tracker.interval')}`,
    );
  }
  if (values.get('tracker.udp_enabled') === true && values.get('tracker.udp_host') === '' && values.get('tracker.udp_host6') === '') {
    problems.push(
      `tracker.udp_host: tracker.udp_enabled needs tracker.udp_host or tracker.udp_host6 ` +
        `(set tracker.udp_enabled = false to disable UDP) ${src('tracker.udp_host', 'tracker.udp_host6')}`,
    );
  }
  if (values.get('tracker.store') === 'redis' && values.get('redis.url') === '') {
    problems.push(`tracker.store: "redis" needs redis.url ${src('tracker.store', 'redis.url')}`);
  }
  const base = values.get('api.t411_base_path') as string;
  if (!/^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/.test(base) || base.startsWith('/api/') || base === '/api' || base.includes('//')) {
    problems.push(`api.t411_base_path: must be a path such as /t411api, not under /api (got ${JSON.stringify(base)}) [${sources.get('api.t411_base_path')}]`);
  }
}

function freeze(tree: Record<string, Record<string, unknown>>): Config {
  for (const section of Object.values(tree)) {
    for (const v of Object.values(section)) if (Array.isArray(v)) Object.freeze(v);
    Object.freeze(section);
  }
  return Object.freeze(tree) as unknown as Config;
}

/** " (did you mean x?)" for a near miss among the known sections and keys, else "". */
function suggest(path: string): string {
  const candidates = path.includes('.') ? [...FIELDS.keys()] : Object.keys(configSchema);
  const last = path.slice(path.lastIndexOf('.') + 1);
  let best: string | null = null;
  // Short names only get a suggestion for a one-letter slip.
  let bestDistance = Math.min(2, Math.floor(last.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(path, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function guessEnvName(name: string): string | null {
  for (const e of schemaEntries()) {
    const proper = envName(e.section, e.key);
    if (proper.replace('__', '_') === name) return proper;
  }
  return null;
}

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The announce URL base written in .torrent files: tracker.announce_base_url or http://<http_host>:<http_port>. */
export function httpAnnounceBaseUrl(config: Config): string {
  const t = config.tracker;
  return t.announce_base_url !== '' ? t.announce_base_url : `http://${hostForUrl(t.http_host)}:${t.http_port}`;
}

/** The UDP announce URL base: tracker.udp_announce_base_url or udp://<udp_host>:<udp_port> (udp_host6 when there is no IPv4 socket). */
export function udpAnnounceBaseUrl(config: Config): string {
  const t = config.tracker;
  if (t.udp_announce_base_url !== '') return t.udp_announce_base_url;
  const host = t.udp_host !== '' ? t.udp_host : t.udp_host6;
  return `udp://${hostForUrl(host)}:${t.udp_port}`;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The key's value in a config ("tracker.mode" → "private"). */
export function configValue(config: Config, path: string): unknown {
  const [section, key] = path.split('.') as [string, string];
  return (config as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
}
