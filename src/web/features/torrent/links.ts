/** The torrent page's URLs: canonical `/torrents/<id>/<slug>` and the short link `/t/<id>`. */
import { slugify } from '../../format.js';

/** Last path segments that name other routes under /torrents/<id>/ (a slug never takes them). */
const RESERVED = new Set(['download', 'bookmark', 'resubmit']);

export function canonicalSlug(t: { slug: string | null; name: string }): string {
  const s = t.slug && /^[a-z0-9-]+$/.test(t.slug) ? t.slug : slugify(t.name);
  return RESERVED.has(s) ? `${s}-torrent` : s;
}

export function torrentPath(t: { id: number; slug: string | null; name: string }): string {
  return `/torrents/${t.id}/${canonicalSlug(t)}`;
}

export function shortPath(id: number): string {
  return `/t/${id}`;
}

/** Listing filtered by a category (parent or subcategory), and optionally by one term. */
export function browseCategoryPath(categoryId: number, termId?: number): string {
  return termId === undefined ? `/browse?category=${categoryId}` : `/browse?category=${categoryId}&term=${termId}`;
}

/** A positive integer id from a route parameter, or null. */
export function parseId(s: unknown): number | null {
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,15}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
