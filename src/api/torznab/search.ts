/**
 * Torznab searches: the request's parameters checked and translated into the site's search
 * (src/site/search/search.ts, the query language of query.ts), run, and paged.
 *
 * - `q`: each word quoted, so that it is searched as a word (operators, scopes, stars and dashes
 *   typed by a client mean nothing), in torrent names (`@name`);
 * - `imdbid` (movie search): the `tt` id searched in descriptions (`@description "tt0133093"`):
 *   the site stores no IMDb id, so only torrents whose description cites it are found; with `q`
 *   too, a torrent matches either (the id in its description, or the words in its name);
 * - `season` / `ep` (TV search): in a subcategory bound to T411's "TV series - Season" and
 *   "Episode" term types, the matching terms (Season 01, Episode 02); elsewhere, or for numbers
 *   without a term, the release-name marker `S01E02` (season only: names with a word starting
 *   with `S01`; a daily episode, season=2024 and ep=01/15: the words "2024 01 15" in a row);
 * - `cat`: the site subcategories the requested ids select (categories.ts); without `cat`, the
 *   specialised functions search their family (tvsearch: 5000, movie: 2000, music: 3000, book:
 *   7000 and 3030 Audio/Audiobook), `search` every category.
 *
 * The plan groups the selected subcategories into "legs": subcategories sharing the same conditions
 * (the same text and terms: only season / episode searches have several, terms in subcategories
 * that have season terms, a name marker elsewhere), each leg reduced to whole site parents where
 * it covers all their subcategories. A request is then ONE site search, newest first: the legs'
 * categories as `categoryIds` when they all share their conditions, else one alternative of
 * `anyOf` per group of legs. Its total is exact up to the search's count cap (10,000), and any
 * offset pages the one sorted result.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Catalogue, CatalogueCategory, CatalogueTerm, CatalogueTermType } from '../../site/catalogue/catalogue.js';
import { searchTorrents, type ListingRow, type SearchInput } from '../../site/search/search.js';
import { selectSubcategories, type CategoryMapping } from './categories.js';
import { TorznabError } from './errors.js';

export const FUNCTIONS = ['search', 'tvsearch', 'movie', 'music', 'book'] as const;
export type SearchFunction = (typeof FUNCTIONS)[number];

export const DEFAULT_LIMIT = 100;
export const MAX_RESULTS = 100;

/** Without `cat`, the families each specialised function searches. */
export const FUNCTION_FAMILIES: Readonly<Record<SearchFunction, readonly number[] | null>> = {
  search: null,
  tvsearch: [5000],
  movie: [2000],
  music: [3000],
  book: [7000, 3030],
};

export type Episode = { kind: 'number'; n: number } | { kind: 'date'; month: number; day: number };

export interface SearchParams {
  fn: SearchFunction;
  q: string;
  /** Requested Newznab ids; null: none given. */
  cats: number[] | null;
  season: number | null;
  ep: Episode | null;
  /** `tt` followed by at least 7 digits. */
  imdbid: string | null;
  limit: number;
  offset: number;
}

type Params = Readonly<Record<string, unknown>>;

/** The first string value of a parameter ('' when absent; repeated parameters: the first). */
export function param(p: Params, name: string): string {
  const v = p[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first.trim() : typeof first === 'number' ? String(first) : '';
}

function intParam(p: Params, name: string, min: number, max: number): number | null {
  const s = param(p, name);
  if (s === '') return null;
  if (!/^\d{1,9}$/.test(s)) throw new TorznabError(201, name);
  const n = Number(s);
  if (n < min || n > max) throw new TorznabError(201, name);
  return n;
}

/** Checks and normalises the parameters of a search function (TorznabError 201 when one is wrong). */
export function parseSearchParams(fn: SearchFunction, p: Params): SearchParams {
  const q = param(p, 'q').slice(0, 500);
  let cats: number[] | null = null;
  const rawCat = param(p, 'cat');
  if (rawCat !== '') {
    cats = [];
    for (const part of rawCat.split(',')) {
      const s = part.trim();
      if (s === '') continue;
      if (!/^\d{1,9}$/.test(s)) throw new TorznabError(201, 'cat');
      cats.push(Number(s));
    }
    if (cats.length === 0) cats = null;
  }
  const rawLimit = intParam(p, 'limit', 0, 1_000_000_000);
  const limit = rawLimit === null || rawLimit === 0 ? DEFAULT_LIMIT : Math.min(rawLimit, MAX_RESULTS);
  const offset = intParam(p, 'offset', 0, 1_000_000_000) ?? 0;

  let season: number | null = null;
  let ep: Episode | null = null;
  if (fn === 'tvsearch') {
    season = intParam(p, 'season', 0, 9999);
    const rawEp = param(p, 'ep');
    if (rawEp !== '') {
      const daily = /^(\d{1,2})\/(\d{1,2})$/.exec(rawEp);
      if (daily) {
        const month = Number(daily[1]);
        const day = Number(daily[2]);
        if (month < 1 || month > 12 || day < 1 || day > 31) throw new TorznabError(201, 'ep');
        ep = { kind: 'date', month, day };
      } else if (/^\d{1,4}$/.test(rawEp)) {
        ep = { kind: 'number', n: Number(rawEp) };
      } else {
        throw new TorznabError(201, 'ep');
      }
    }
    // An episode means nothing without its season.
    if (season === null) ep = null;
  }

  let imdbid: string | null = null;
  const rawImdb = param(p, 'imdbid');
  if (rawImdb !== '' && fn !== 'music' && fn !== 'book') {
    const m = /^(?:tt)?(\d{1,10})$/i.exec(rawImdb);
    if (!m) throw new TorznabError(201, 'imdbid');
    imdbid = 'tt' + m[1]!.padStart(7, '0');
  }
  return { fn, q, cats, season, ep, imdbid, limit, offset };
}

// --- the query text --------------------------------------------------------------------------

/** The client's words as quoted words of the query language (nothing typed is an operator). */
export function quotedWords(q: string): string[] {
  return q
    .split(/\s+/)
    .map((w) => w.replace(/"/g, ' ').trim())
    .filter((w) => w !== '')
    .map((w) => `"${w}"`);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The release-name marker of a season / episode, in the query language. */
export function episodeMarker(season: number, ep: Episode | null): string {
  if (ep === null) return `"S${pad2(season)}"*`;
  if (ep.kind === 'date') return `"${season} ${pad2(ep.month)} ${pad2(ep.day)}"`;
  return `"S${pad2(season)}E${pad2(ep.n)}"`;
}

/** The search text of a leg: q and imdbid, and the episode marker when the leg needs it. */
export function searchText(p: SearchParams, marker: string | null): string {
  const words = quotedWords(p.q);
  const name = words.length > 0 ? `@name ${words.join(' ')}` : '';
  const id = p.imdbid ? `@description "${p.imdbid}"` : '';
  const base = name && id ? `(${id}) | (${name})` : name || id;
  const parts: string[] = [];
  if (base) parts.push(`(${base})`);
  if (marker) parts.push(`(@name ${marker})`);
  return parts.join(' ');
}

// --- season and episode terms ----------------------------------------------------------------

const SEASON_RE = /^season\s+0*(\d+)$/i;
const EPISODE_RE = /^episode\s+0*(\d+)$/i;

function numberedTerm(type: CatalogueTermType, re: RegExp, n: number): CatalogueTerm | undefined {
  return type.terms.find((t) => {
    const m = re.exec(t.nameEn);
    return m !== null && Number(m[1]) === n;
  });
}

function typeWith(c: CatalogueCategory, re: RegExp): CatalogueTermType | undefined {
  return c.termTypes.find((tt) => tt.terms.some((t) => re.test(t.nameEn)));
}

/**
 * The season (and episode) terms of a subcategory for these numbers, or null when it has no such
 * term types or no term for them (the name marker is used instead). Season 0 is "Specials".
 */
export function episodeTerms(c: CatalogueCategory, season: number, ep: Episode | null): number[] | null {
  const seasons = typeWith(c, SEASON_RE);
  if (!seasons) return null;
  const s = season === 0 ? seasons.terms.find((t) => /^specials$/i.test(t.nameEn)) : numberedTerm(seasons, SEASON_RE, season);
  if (!s) return null;
  if (ep === null) return [s.id];
  if (ep.kind === 'date') return null;
  const episodes = typeWith(c, EPISODE_RE);
  const e = episodes ? numberedTerm(episodes, EPISODE_RE, ep.n) : undefined;
  return e ? [s.id, e.id] : null;
}

// --- the plan --------------------------------------------------------------------------------

export interface Leg {
  /** A site category (a parent covers its subcategories); null: every category. */
  categoryId: number | null;
  text: string;
  terms: number[];
}

/**
 * The site categories to query for a set of subcategories: a parent where the set holds all its
 * subcategories (and it has some), else the subcategories themselves.
 */
export function collapseCategories(cat: Catalogue, subs: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const p of cat.parents) {
    if (p.children.length === 0) continue;
    const inSet = p.children.filter((c) => subs.has(c.id));
    if (inSet.length === p.children.length) out.push(p.id);
    else out.push(...inSet.map((c) => c.id));
  }
  return out;
}

/** The legs of a search (empty: nothing can match). */
export function planSearch(m: CategoryMapping, p: SearchParams): Leg[] {
  const requested = p.cats ?? FUNCTION_FAMILIES[p.fn];
  let subs: Set<number> | null = requested === null ? null : selectSubcategories(m, requested);
  if (subs !== null && subs.size === 0) return [];
  const plain = searchText(p, null);
  if (p.season === null) {
    if (subs === null) return [{ categoryId: null, text: plain, terms: [] }];
    return collapseCategories(m.catalogue, subs).map((categoryId) => ({ categoryId, text: plain, terms: [] }));
  }
  // Season / episode: terms where the subcategory has them, the name marker elsewhere.
  subs ??= new Set(m.catalogue.subcategories.map((c) => c.id));
  const groups = new Map<string, { text: string; terms: number[]; subs: Set<number> }>();
  const marked = searchText(p, episodeMarker(p.season, p.ep));
  for (const id of subs) {
    const terms = episodeTerms(m.catalogue.category(id)!, p.season, p.ep);
    const key = terms ? `t:${terms.join(',')}` : 'marker';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { text: terms ? plain : marked, terms: terms ?? [], subs: new Set() }));
    g.subs.add(id);
  }
  const legs: Leg[] = [];
  for (const g of groups.values()) {
    for (const categoryId of collapseCategories(m.catalogue, g.subs)) legs.push({ categoryId, text: g.text, terms: g.terms });
  }
  return legs;
}

// --- running it ------------------------------------------------------------------------------

export interface SearchPage {
  rows: ListingRow[];
  total: number;
}

type Scope = Pick<SearchInput, 'verifiedOnly' | 'hideAdult'>;

/**
 * The one site search of a plan's legs (null: nothing can match): legs with the same text and
 * terms become one list of categories (a leg of every category: no category condition), and
 * several such groups the alternatives of `anyOf`. Newest first, ties by id.
 */
export function searchInputOf(legs: readonly Leg[], scope: Scope): SearchInput | null {
  if (legs.length === 0) return null;
  const groups = new Map<string, { text: string; terms: number[]; categoryIds: number[] | null }>();
  for (const leg of legs) {
    const key = JSON.stringify([leg.text, leg.terms]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { text: leg.text, terms: leg.terms, categoryIds: [] }));
    if (leg.categoryId === null) g.categoryIds = null;
    else g.categoryIds?.push(leg.categoryId);
  }
  const base: SearchInput = { ...scope, sort: 'age', order: 'asc' };
  const all = [...groups.values()];
  if (all.length === 1) return { ...base, text: all[0]!.text, terms: all[0]!.terms, categoryIds: all[0]!.categoryIds };
  return { ...base, anyOf: all.map((g) => ({ categoryIds: g.categoryIds, text: g.text, terms: g.terms })) };
}

export async function runSearch(db: Kysely<Database>, legs: readonly Leg[], offset: number, limit: number, scope: Scope): Promise<SearchPage> {
  const input = searchInputOf(legs, scope);
  if (input === null) return { rows: [], total: 0 };
  const r = await searchTorrents(db, { ...input, offset, limit });
  return { rows: r.rows, total: r.total };
}
