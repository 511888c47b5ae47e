/**
 * The JSON shapes of T411's API, built from Essaim's data: every value a string (as T411's PHP
 * served them), `offset` and `limit` integers. Names are the French ones (T411's labels, which the
 * default taxonomy keeps), since clients written for T411 match categories and terms by them.
 *
 * The uploader of an anonymous torrent is never given, to anybody: owner "0", username "Anonyme"
 * (T411's word), privacy "strong".
 */
import type { Kysely } from 'kysely';
import type { Database, UserPrivacy } from '../../db/schema.js';
import { renderDescription } from '../../markup/render.js';
import type { Catalogue } from '../../site/catalogue/catalogue.js';
import type { ListingRow } from '../../site/search/search.js';
import type { TorrentDetails } from '../../site/torrents/read.js';
import { slugify } from '../../web/format.js';

export const ANONYMOUS_NAME = 'Anonyme';

/** A torrent in lists (search, top, bookmarks), with T411's keys in T411's order. */
export interface T411Torrent {
  id: string;
  name: string;
  category: string;
  rewritename: string;
  seeders: string;
  leechers: string;
  comments: string;
  isVerified: string;
  added: string;
  size: string;
  times_completed: string;
  owner: string;
  categoryname: string;
  categoryimage: string;
  username: string;
  privacy: string;
}

export interface T411Details {
  id: string;
  name: string;
  category: string;
  categoryname: string;
  categoryimage: string;
  rewritename: string;
  owner: string;
  username: string;
  privacy: string;
  description: string;
  terms: Record<string, string | string[]>;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function t411Date(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The privacy level of each member among `ids`. */
export async function privacyOf(db: Kysely<Database>, ids: Iterable<number>): Promise<Map<number, UserPrivacy>> {
  const list = [...new Set(ids)];
  if (list.length === 0) return new Map();
  const rows = await db.selectFrom('user').select(['id', 'privacy']).where('id', 'in', list).execute();
  return new Map(rows.map((r) => [r.id, r.privacy]));
}

/**
 * Listing rows as T411 Torrents. Rows come from listingRows (uploader already masked when
 * anonymous); seeders and leechers as given (the live counts when the caller merged them).
 */
export async function t411Torrents(db: Kysely<Database>, rows: readonly ListingRow[]): Promise<T411Torrent[]> {
  const privacy = await privacyOf(db, rows.flatMap((r) => (r.anonymous === 1 || r.uploader_id === null ? [] : [r.uploader_id])));
  return rows.map((r) => {
    const anonymous = r.anonymous === 1 || r.uploader_id === null;
    return {
      id: String(r.id),
      name: r.name,
      category: String(r.category_id ?? 0),
      rewritename: r.slug || slugify(r.name),
      seeders: String(r.seeders),
      leechers: String(r.leechers),
      comments: String(r.comment_count),
      isVerified: r.verified === 1 ? '1' : '0',
      added: t411Date(r.created_at),
      size: String(r.size),
      times_completed: String(r.times_completed),
      owner: anonymous ? '0' : String(r.uploader_id),
      categoryname: r.category_name_fr ?? '',
      categoryimage: r.category_icon ?? '',
      username: anonymous ? ANONYMOUS_NAME : (r.uploader_name ?? ''),
      privacy: anonymous ? 'strong' : (privacy.get(r.uploader_id!) ?? 'normal'),
    };
  });
}

/**
 * A torrent's details: the description rendered as the torrent page renders it, terms keyed by
 * term-type name and valued by term label (a list for multi-valued types).
 */
export async function t411Details(db: Kysely<Database>, d: TorrentDetails, catalogue: Catalogue, o: { externalImages: boolean }): Promise<T411Details> {
  const t = d.torrent;
  const anonymous = t.anonymous === 1 || !d.uploader;
  const privacy = anonymous ? undefined : (await privacyOf(db, [d.uploader!.id])).get(d.uploader!.id);
  const terms: Record<string, string | string[]> = {};
  for (const term of d.terms) {
    const multi = catalogue.termType(term.typeId)?.mode === 'multi';
    const key = term.typeName_fr;
    const prev = terms[key];
    if (prev === undefined) terms[key] = multi ? [term.name_fr] : term.name_fr;
    else if (Array.isArray(prev)) prev.push(term.name_fr);
    // Two types of the same name (T411 had two "Vidéo - Langue"), each with a term: both kept.
    else terms[key] = [prev, term.name_fr];
  }
  return {
    id: String(t.id),
    name: t.name,
    category: String(d.category?.id ?? 0),
    categoryname: d.category?.name_fr ?? '',
    categoryimage: d.category?.icon ?? '',
    rewritename: t.slug || slugify(t.name),
    owner: anonymous ? '0' : String(d.uploader!.id),
    username: anonymous ? ANONYMOUS_NAME : d.uploader!.username,
    privacy: anonymous ? 'strong' : (privacy ?? 'normal'),
    description: t.description.trim() ? renderDescription(t.description, t.description_format, { externalImages: o.externalImages }) : '',
    terms,
  };
}

interface TreeCategory {
  id: string;
  pid: string;
  name: string;
}

/** `/categories/tree`: parents keyed by id, each with its subcategories under `cats`. */
export function categoriesTree(catalogue: Catalogue): Record<string, TreeCategory & { cats: Record<string, TreeCategory> }> {
  const out: Record<string, TreeCategory & { cats: Record<string, TreeCategory> }> = {};
  for (const p of catalogue.parents) {
    const cats: Record<string, TreeCategory> = {};
    for (const c of p.children) cats[String(c.id)] = { id: String(c.id), pid: String(p.id), name: c.nameFr };
    out[String(p.id)] = { id: String(p.id), pid: '0', name: p.nameFr, cats };
  }
  return out;
}

interface TreeTermType {
  type: string;
  mode: string;
  terms: Record<string, string>;
}

/**
 * `/terms/tree`: subcategories keyed by id, then their term types keyed by id, each with its
 * terms (id to label). Deprecated types and terms are left out (as on the upload form);
 * subcategories without a type are absent (as in T411's answer).
 */
export function termsTree(catalogue: Catalogue): Record<string, Record<string, TreeTermType>> {
  const out: Record<string, Record<string, TreeTermType>> = {};
  for (const sub of catalogue.subcategories) {
    const types: Record<string, TreeTermType> = {};
    for (const type of sub.termTypes) {
      if (type.deprecated) continue;
      const terms: Record<string, string> = {};
      for (const term of type.termsIn('fr')) if (!term.deprecated) terms[String(term.id)] = term.nameFr;
      types[String(type.id)] = { type: type.nameFr, mode: type.mode, terms };
    }
    if (Object.keys(types).length > 0) out[String(sub.id)] = types;
  }
  return out;
}
