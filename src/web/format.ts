/** Display formatting shared by the pages: sizes, ages, ratios, dates, in the member's language. */
import type { Translate } from './context.js';
import type { Locale } from './i18n.js';

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export function formatSize(t: Translate, locale: Locale, bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < SIZE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const n = i === 0 ? String(v) : v.toLocaleString(locale, { maximumFractionDigits: v < 10 ? 2 : v < 100 ? 1 : 0 });
  return t(`common.size.${SIZE_UNITS[i]!}`, { n });
}

export function formatAge(t: Translate, seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return t('common.age.seconds', { n: s });
  if (s < 3600) return t('common.age.minutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('common.age.hours', { n: Math.floor(s / 3600) });
  if (s < 30 * 86400) return t('common.age.days', { n: Math.floor(s / 86400) });
  if (s < 365 * 86400) return t('common.age.months', { n: Math.floor(s / (30 * 86400)) });
  return t('common.age.years', { n: Math.floor(s / (365 * 86400)) });
}

/** Ratio with two decimals, "∞" when nothing was downloaded but something was uploaded, "–" for nothing. */
export function formatRatio(locale: Locale, uploaded: number, downloaded: number): string {
  if (downloaded === 0) return uploaded > 0 ? '∞' : '–';
  return (uploaded / downloaded).toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function formatDate(locale: Locale, epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function formatNumber(locale: Locale, n: number): string {
  return n.toLocaleString(locale);
}

/** URL slug: lowercase ASCII letters and digits separated by single dashes (T411's rewritename). */
export function slugify(s: string): string {
  const out = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120)
    .replace(/-+$/g, '');
  return out || 'torrent';
}
