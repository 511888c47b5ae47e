/**
 * Internationalisation: message catalogs in English and French, and locale negotiation.
 *
 * Each feature declares its messages with `defineMessages({ en: {...}, fr: {...} })`: the compiler
 * refuses a French catalog whose keys differ from the English one. `src/web/messages.ts` merges
 * every feature's catalogs (a duplicate key across features is an error at start) and a test
 * checks the merged catalogs again, placeholders included.
 *
 * Messages may hold `{name}` placeholders, filled by `t(key, { name })`. Values are plain text:
 * templates escape them like any other interpolated value.
 */
import type { Locale } from '../db/schema.js';

export type { Locale };
export const LOCALES: readonly Locale[] = ['en', 'fr'];

export interface Catalogs<K extends string> {
  en: Record<K, string>;
  fr: Record<K, string>;
}

export function defineMessages<K extends string>(c: { en: Record<K, string>; fr: NoInfer<Record<K, string>> }): Catalogs<K> {
  return c;
}

/** Merges feature catalogs; throws on a key defined twice. */
export function mergeCatalogs<K extends string>(parts: ReadonlyArray<Catalogs<string>>): Catalogs<K> {
  const en: Record<string, string> = {};
  const fr: Record<string, string> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.en)) {
      if (k in en) throw new Error(`message key defined twice: ${k}`);
      en[k] = v;
    }
    Object.assign(fr, p.fr);
  }
  return { en, fr } as Catalogs<K>;
}

const PLACEHOLDER = /\{(\w+)\}/g;

export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(PLACEHOLDER, (m, name: string) => (name in params ? String(params[name]) : m));
}

/**
 * The best locale for an Accept-Language header (RFC 9110 weights; "fr-CA" matches "fr"), or null
 * when the header names neither language.
 */
export function negotiateLocale(header: string | undefined): Locale | null {
  if (!header) return null;
  let best: Locale | null = null;
  let bestQ = 0;
  for (const part of header.split(',')) {
    const [tagRaw, ...paramsRaw] = part.trim().split(';');
    const tag = (tagRaw ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of paramsRaw) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0) || q > 1) continue;
    const base = tag.split('-')[0];
    const loc = base === 'en' || base === 'fr' ? base : null;
    if (loc && q > bestQ) {
      best = loc;
      bestQ = q;
    }
  }
  return best;
}

export function isLocale(s: unknown): s is Locale {
  return s === 'en' || s === 'fr';
}
