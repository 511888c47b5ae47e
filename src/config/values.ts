/**
 * Reading one value of the schema from a file (typed TOML/JSON values) or from the environment
 * (text), and the per-value checks. Each reader returns the value or the reason it was refused;
 * the loader adds the key and the source.
 */
import { isIP } from 'node:net';
import type { Field } from './schema.js';

export type Read = { ok: true; value: unknown } | { ok: false; reason: string };

const ok = (value: unknown): Read => ({ ok: true, value });
const bad = (reason: string): Read => ({ ok: false, reason });

/** How a refused value is quoted in a message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return `${v}`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  return `a ${typeof v}`;
}

function bounds(field: { min?: number; max?: number }, n: number, got: unknown): Read {
  if (field.min !== undefined && n < field.min) return bad(`must be at least ${field.min} (got ${show(got)})`);
  if (field.max !== undefined && n > field.max) return bad(`must be at most ${field.max} (got ${show(got)})`);
  return ok(n);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_TEXT = /^\s*(\d+)\s*([smhd]?)\s*$/;
const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const NUMBER_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const TRUE_TEXT = new Set(['true', '1', 'yes', 'on']);
const FALSE_TEXT = new Set(['false', '0', 'no', 'off']);

function parseDurationText(s: string): number | null {
  const m = DURATION_TEXT.exec(s);
  if (!m) return null;
  return Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] ?? 1);
}

/** A value from a TOML or JSON file: types must match (a TOML integer for an int, etc.). */
export function readFileValue(field: Field, raw: unknown): Read {
  switch (field.type) {
    case 'string':
      return typeof raw === 'string' ? ok(raw) : bad(`must be a string (got ${kindOf(raw)}: ${show(raw)})`);
    case 'int':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) return bad(`must be an integer (got ${show(raw)})`);
      return bounds(field, raw, raw);
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return bad(`must be a number (got ${show(raw)})`);
      return bounds(field, raw, raw);
    case 'duration': {
      let n: number | null = null;
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) n = raw;
      else if (typeof raw === 'string') n = parseDurationText(raw);
      if (n === null || !Number.isSafeInteger(n)) {
        return bad(`must be a whole number of seconds, or a string such as "90s", "30m", "12h", "2d" (got ${show(raw)})`);
      }
      return bounds(field, n, raw);
    }
    case 'bool':
      return typeof raw === 'boolean' ? ok(raw) : bad(`must be true or false (got ${show(raw)})`);
    case 'enum':
      return typeof raw === 'string' && field.values.includes(raw)
        ? ok(raw)
        : bad(`must be one of ${field.values.join(', ')} (got ${show(raw)})`);
    case 'list':
      return Array.isArray(raw) && raw.every((x) => typeof x === 'string')
        ? ok(Object.freeze([...(raw as string[])]))
        : bad(`must be a list of strings (got ${show(raw)})`);
  }
}

/** A value from an environment variable (text). Lists are comma-separated. */
export function readEnvValue(field: Field, raw: string): Read {
  switch (field.type) {
    case 'string':
      return ok(raw);
    case 'int': {
      const n = INT_TEXT.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return bad(`must be an integer (got ${show(raw)})`);
      return bounds(field, n, raw);
    }
    case 'number': {
      const n = NUMBER_TEXT.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return bad(`must be a number (got ${show(raw)})`);
      return bounds(field, n, raw);
    }
    case 'duration': {
      const n = parseDurationText(raw);
      if (n === null || !Number.isSafeInteger(n)) {
        return bad(`must be a whole number of seconds, or a number with unit s, m, h or d (got ${show(raw)})`);
      }
      return bounds(field, n, raw);
    }
    case 'bool': {
      const l = raw.trim().toLowerCase();
      if (TRUE_TEXT.has(l)) return ok(true);
      if (FALSE_TEXT.has(l)) return ok(false);
      return bad(`must be true or false (got ${show(raw)})`);
    }
    case 'enum':
      return field.values.includes(raw) ? ok(raw) : bad(`must be one of ${field.values.join(', ')} (got ${show(raw)})`);
    case 'list':
      return ok(
        Object.freeze(
          raw
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        ),
      );
  }
}

/** A value given programmatically (overrides): same rules as a file. */
export const readOverrideValue = readFileValue;

function isUrlWithScheme(s: string, schemes: readonly string[]): boolean {
  try {
    const u = new URL(s);
    return schemes.includes(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
}

/**
 * Checks on single values beyond their type, by key. Each returns the problems (without key or
 * source) for an already well-typed value.
 */
export const valueChecks: Record<string, (v: never) => string[]> = {
  'server.public_url': (v: string) =>
    isUrlWithScheme(v, ['http:', 'https:']) ? [] : [`must be an http:// or https:// URL (got ${show(v)})`],
  'server.data_dir': (v: string) => (v.trim() === '' ? ['must not be empty'] : []),
  'web.host': (v: string) => (v.trim() === '' ? ['must not be empty'] : []),
  'tracker.http_host': (v: string) => (v.trim() === '' ? ['must not be empty'] : []),
  'metrics.host': (v: string) => (v.trim() === '' ? ['must not be empty'] : []),
  'database.url': (v: string) =>
    v === '' || /^sqlite:./.test(v) || /^postgres(ql)?:\/\/./.test(v)
      ? []
      : [`must be empty, sqlite:<path>, sqlite::memory: or postgres://... (got ${show(v)})`],
  'tracker.udp_host': (v: string) =>
    v === '' || isIP(v) === 4 ? [] : [`must be an IPv4 address or "" (got ${show(v)})`],
  'tracker.udp_host6': (v: string) =>
    v === '' || isIP(v) === 6 ? [] : [`must be an IPv6 address or "" (got ${show(v)})`],
  'tracker.announce_base_url': (v: string) =>
    v === '' || isUrlWithScheme(v, ['http:', 'https:']) ? [] : [`must be "" or an http:// or https:// URL (got ${show(v)})`],
  'tracker.udp_announce_base_url': (v: string) =>
    v === '' || isUrlWithScheme(v, ['udp:']) ? [] : [`must be "" or a udp:// URL (got ${show(v)})`],
  'tracker.trusted_proxies': (v: readonly string[]) =>
    v.filter((ip) => isIP(ip) === 0).map((ip) => `${show(ip)} is not an IP address`),
  'tracker.client_allow': (v: readonly string[]) => prefixProblems(v),
  'tracker.client_deny': (v: readonly string[]) => prefixProblems(v),
};

function prefixProblems(v: readonly string[]): string[] {
  return v
    .filter((p) => p === '' || Buffer.byteLength(p, 'latin1') > 20)
    .map((p) => `${show(p)} is not a peer_id prefix (1 to 20 characters)`);
}
