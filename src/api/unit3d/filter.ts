/**
 * UNIT3D's torrent filter (`GET /api/torrents/filter`) over Essaim's search (searchTorrents).
 *
 * Parameters are read from the raw query string (`categories[]=1&categories[]=2`, also
 * `categories=1` and PHP's `categories[0]=1`). Empty values count as absent, as Laravel's
 * `filled()` reads them. What each one does on Essaim (docs/api/unit3d.md has the table):
 * - text: `name` (every word in the name, the last one as a prefix, as UNIT3D's search engine
 *   does), `description` and `mediainfo` (words of the description), `file_name` (a phrase in the
 *   file paths), `keywords` (any of the comma-separated phrases, anywhere);
 * - ids: `tmdbId`, `imdbId`, `tvdbId`, `malId` match the addresses of TMDB, IMDb, TheTVDB and
 *   MyAnimeList as written in the description's searchable text (Essaim keeps no such fields);
 * - `seasonNumber` / `episodeNumber`: the name holds `S01` / `S01E02` (scene naming);
 * - `categories[]`: subcategory or parent ids; `types[]`, `resolutions[]`, `genres[]`: term ids;
 * - `uploader`: a username (anonymous uploads only for their uploader and the staff);
 * - flags: `dead` (no seeder), `alive` (a seeder or more), `dying` (one seeder, completed three
 *   times or more), `doubleup`, `free[]` (freeleech percentages, as the resource shows them);
 *   `featured`, `internal`, `personalRelease`, `refundable`, `highspeed`, `trumpable` select
 *   nothing (no Essaim torrent is any of those);
 * - `sortField` (name, size, seeders, leechers, times_completed, created_at, bumped_at),
 *   `sortDirection` (asc, desc), `perPage` (at most 100, default 25), `page`.
 * Ignored: `startYear`, `endYear`, `playlistId`, `collectionId`, `primaryLanguages`, `adult`,
 * `regions[]`, `distributors[]` (no such data).
 *
 * searchTorrents takes one category and no factor or seeder bounds, so: several categories are
 * searched one by one and their sorted pages merged (exact); `alive`, `dying`, `doubleup` and
 * `free[]` are checked on the sorted rows, looking at most {@link SCAN_LIMIT} torrents deep (the
 * page then has no total). `dead` is the search's own `noSeeders`.
 */
import { loadCatalogue } from '../../site/catalogue/catalogue.js';
import { findUserByUsername } from '../../db/user.repository.js';
import type { User } from '../../db/schema.js';
import { activeWindows, effectiveFactors } from '../../site/rules/freeleech.js';
import { formatQuery, type QueryNode } from '../../site/search/query.js';
import { searchWords } from '../../site/search/normalize.js';
import { searchTorrents, DEFAULT_COUNT_CAP, type ListingRow, type SearchInput, type SortKey, type SortOrder } from '../../site/search/search.js';
import { isStaff } from '../../site/torrents/read.js';
import type { Site } from '../../site/site.js';
import { listingScope } from '../service.js';
import { freeleechPercent, imdbTag } from './resource.js';

export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 100;
/** Rows read per search call while merging or checking flags (searchTorrents' MAX_LIMIT). */
const BATCH = 200;
/** How deep into the sorted results the flag checks look. */
export const SCAN_LIMIT = 10_000;
/** Deepest row a page may reach (offset + perPage): the count cap of the search. */
export const MAX_WINDOW = DEFAULT_COUNT_CAP;

export const SORT_FIELDS: Readonly<Record<string, SortKey>> = {
  name: 'name',
  size: 'size',
  seeders: 'seeders',
  leechers: 'leechers',
  times_completed: 'completed',
  created_at: 'age',
  bumped_at: 'age',
};

/** Laravel's validation failure: 422 `{ message, errors: { field: [messages] } }`. */
export class ValidationFailed extends Error {
  constructor(readonly errors: Record<string, string[]>) {
    const fields = Object.values(errors).flat();
    const more = fields.length - 1;
    super(fields[0]! + (more > 0 ? ` (and ${more} more error${more > 1 ? 's' : ''})` : ''));
  }
}

/** The query parameters of a request, as repeated values by name. */
export class Params {
  private readonly sp: URLSearchParams;
  constructor(rawUrl: string) {
    const q = rawUrl.indexOf('?');
    this.sp = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  }

  /** Every non-empty value of `name`, `name[]` and `name[<n>]`. */
  all(name: string): string[] {
    const out: string[] = [];
    for (const [k, v] of this.sp) {
      if (k !== name && k !== `${name}[]` && !(k.startsWith(`${name}[`) && /^\[\d{1,4}\]$/.test(k.slice(name.length)))) continue;
      const s = v.trim();
      if (s !== '') out.push(s);
    }
    return out;
  }

  /** The first non-empty value, or null. */
  one(name: string): string | null {
    return this.all(name)[0] ?? null;
  }

  /** Present with a value other than 0/false/no/off. */
  flag(name: string): boolean {
    const v = this.one(name);
    return v !== null && !/^(?:0|false|no|off)$/i.test(v);
  }

  /** The query string without the credentials and with `page` replaced (pagination links). */
  withPage(page: number): string {
    const sp = new URLSearchParams();
    for (const [k, v] of this.sp) if (!/^(?:api_token|apikey|rsskey|page)$/i.test(k)) sp.append(k, v);
    sp.append('page', String(page));
    return sp.toString();
  }

  /** The query string without the credentials (the `self` link). */
  withoutSecrets(): string {
    const sp = new URLSearchParams();
    for (const [k, v] of this.sp) if (!/^(?:api_token|apikey|rsskey)$/i.test(k)) sp.append(k, v);
    return sp.toString();
  }
}

/** The request's filter, validated. */
export interface FilterSpec {
  text: QueryNode | null;
  /** Category ids as given (null: any); unknown ones are dropped later. */
  categories: number[] | null;
  /** Term ids by parameter (types, resolutions, genres). */
  termLists: number[][];
  uploader: string | null;
  dead: boolean;
  alive: boolean;
  dying: boolean;
  doubleup: boolean;
  /** Freeleech percentages (null: any). */
  free: Set<number> | null;
  /** A flag no Essaim torrent has was asked for. */
  impossible: boolean;
  sort: SortKey;
  order: SortOrder;
  perPage: number;
  page: number;
}

const POSITIVE = /^\d{1,15}$/;

function term(words: string[], field: Extract<QueryNode, { kind: 'term' }>['field'], prefix = false): QueryNode | null {
  return words.length === 0 ? null : { kind: 'term', words, prefix, field };
}

function and(nodes: Array<QueryNode | null>): QueryNode | null {
  const c = nodes.filter((n): n is QueryNode => n !== null);
  return c.length === 0 ? null : c.length === 1 ? c[0]! : { kind: 'and', children: c };
}

function or(nodes: Array<QueryNode | null>): QueryNode | null {
  const c = nodes.filter((n): n is QueryNode => n !== null);
  return c.length === 0 ? null : c.length === 1 ? c[0]! : { kind: 'or', children: c };
}

/** Every word in `field`, each one a word of its own (the last one a prefix when asked). */
function allWords(text: string, field: Extract<QueryNode, { kind: 'term' }>['field'], lastPrefix: boolean): QueryNode | null {
  const words = searchWords(text).slice(0, 24);
  return and(words.map((w, i) => term([w], field, lastPrefix && i === words.length - 1 && w.length >= 2)));
}

/** Parses and validates the filter parameters (throws ValidationFailed). */
export function parseFilter(p: Params, opts: { filters: boolean } = { filters: true }): FilterSpec {
  const errors: Record<string, string[]> = {};
  const fail = (field: string, message: string) => (errors[field] ??= []).push(message);

  const intParam = (name: string, label: string): number | null => {
    const v = p.one(name);
    if (v === null) return null;
    const s = name === 'imdbId' ? v.replace(/^tt/i, '') : v;
    if (!POSITIVE.test(s)) {
      fail(name, `The ${label} field must be an integer.`);
      return null;
    }
    return Number(s);
  };
  const intList = (name: string, label: string): number[] => {
    const out: number[] = [];
    for (const v of p.all(name)) {
      if (POSITIVE.test(v)) out.push(Number(v));
      else fail(name, `The ${label} field must be a list of integers.`);
    }
    return out;
  };

  const sortRaw = p.one('sortField');
  if (sortRaw !== null && !(sortRaw in SORT_FIELDS)) fail('sortField', 'The selected sort field is invalid.');
  const dirRaw = p.one('sortDirection');
  if (dirRaw !== null && dirRaw !== 'asc' && dirRaw !== 'desc') fail('sortDirection', 'The selected sort direction is invalid.');
  const perPageRaw = p.one('perPage');
  let perPage = DEFAULT_PER_PAGE;
  if (perPageRaw !== null) {
    if (!POSITIVE.test(perPageRaw) || Number(perPageRaw) < 1) fail('perPage', 'The per page field must be an integer of at least 1.');
    else perPage = Math.min(MAX_PER_PAGE, Number(perPageRaw));
  }
  const pageRaw = p.one('page');
  let page = 1;
  if (pageRaw !== null) {
    if (!POSITIVE.test(pageRaw) || Number(pageRaw) < 1) fail('page', 'The page field must be an integer of at least 1.');
    else page = Number(pageRaw);
  }

  const spec: FilterSpec = {
    text: null,
    categories: null,
    termLists: [],
    uploader: null,
    dead: false,
    alive: false,
    dying: false,
    doubleup: false,
    free: null,
    impossible: false,
    sort: sortRaw !== null && sortRaw in SORT_FIELDS ? SORT_FIELDS[sortRaw]! : 'age',
    // UNIT3D's default: newest first (bumped_at desc). Essaim's `age` order is the displayed one:
    // ascending = youngest first, i.e. created_at descending.
    order: 'desc',
    perPage,
    page,
  };
  const dir = dirRaw === 'asc' || dirRaw === 'desc' ? dirRaw : 'desc';
  spec.order = spec.sort === 'age' ? (dir === 'desc' ? 'asc' : 'desc') : dir;

  if (opts.filters) {
    const nodes: Array<QueryNode | null> = [];
    const name = p.one('name');
    if (name !== null) nodes.push(allWords(name, 'name', true));
    const description = p.one('description');
    if (description !== null) nodes.push(allWords(description, 'description', false));
    const mediainfo = p.one('mediainfo');
    if (mediainfo !== null) nodes.push(allWords(mediainfo, 'description', false));
    const fileName = p.one('file_name');
    if (fileName !== null) nodes.push(term(searchWords(fileName).slice(0, 24), 'files'));
    const keywords = p.one('keywords');
    if (keywords !== null) nodes.push(or(keywords.split(',').slice(0, 16).map((k) => term(searchWords(k).slice(0, 8), null))));

    const tmdb = intParam('tmdbId', 'tmdb id');
    if (tmdb) nodes.push(or([term(['themoviedb', 'org', 'movie', String(tmdb)], 'description'), term(['themoviedb', 'org', 'tv', String(tmdb)], 'description')]));
    const imdb = intParam('imdbId', 'imdb id');
    if (imdb) nodes.push(term([imdbTag(imdb)], 'description'));
    const tvdb = intParam('tvdbId', 'tvdb id');
    if (tvdb) nodes.push(and([term(['thetvdb'], 'description'), or([term(['series', String(tvdb)], 'description'), term(['id', String(tvdb)], 'description')])]));
    const mal = intParam('malId', 'mal id');
    if (mal) nodes.push(term(['myanimelist', 'net', 'anime', String(mal)], 'description'));

    const season = intParam('seasonNumber', 'season number');
    const episode = intParam('episodeNumber', 'episode number');
    if (season !== null) {
      const s = `s${String(season).padStart(2, '0')}`;
      nodes.push(term([episode !== null ? `${s}e${String(episode).padStart(2, '0')}` : s], 'name', true));
    }
    spec.text = and(nodes);

    const categories = intList('categories', 'categories');
    if (p.all('categories').length > 0) spec.categories = categories;
    for (const [param, label] of [
      ['types', 'types'],
      ['resolutions', 'resolutions'],
      ['genres', 'genres'],
    ] as const) {
      const ids = intList(param, label);
      if (p.all(param).length > 0) spec.termLists.push(ids);
    }
    spec.uploader = p.one('uploader');

    spec.dead = p.flag('dead');
    spec.alive = p.flag('alive');
    spec.dying = p.flag('dying');
    spec.doubleup = p.flag('doubleup');
    const free = p.all('free');
    if (free.length > 0) {
      const set = new Set<number>();
      for (const v of free) {
        const s = v.replace(/%$/, '');
        if (/^\d{1,3}$/.test(s) && Number(s) <= 100) set.add(Number(s));
        else fail('free', 'The free field must hold percentages between 0 and 100.');
      }
      spec.free = set;
    }
    spec.impossible = ['featured', 'internal', 'personalRelease', 'refundable', 'highspeed', 'trumpable'].some((f) => p.flag(f));
  }

  if (Object.keys(errors).length > 0) throw new ValidationFailed(errors);
  return spec;
}

export interface FilterResult {
  rows: ListingRow[];
  /** Null when unknown (flag checks that stopped before the end). */
  total: number | null;
  /** More rows follow this page. */
  hasMore: boolean;
}

const EMPTY: FilterResult = { rows: [], total: 0, hasMore: false };

type Predicate = (r: ListingRow) => boolean;

/** The order searchTorrents gives, as a comparator on its rows (merging category pages). */
export function rowComparator(sort: SortKey, order: SortOrder): (a: ListingRow, b: ListingRow) => number {
  const field: Record<SortKey, (r: ListingRow) => number | string> = {
    category: (r) => r.category_id ?? -1,
    name: (r) => r.name,
    comments: (r) => r.comment_count,
    age: (r) => r.created_at,
    size: (r) => r.size,
    completed: (r) => r.times_completed,
    seeders: (r) => r.seeders,
    leechers: (r) => r.leechers,
  };
  // `age` is displayed: ascending is the newest first.
  const sign = (sort === 'age' ? order === 'asc' : order === 'desc') ? -1 : 1;
  const key = field[sort];
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return sign * (c !== 0 ? c : a.id - b.id);
  };
}

/** Runs the filter for a member. */
export async function runFilter(site: Site, user: User, spec: FilterSpec): Promise<FilterResult> {
  if (spec.impossible) return EMPTY;
  const db = site.db;
  const catalogue = await loadCatalogue(db);

  // Categories: the known ones, a subcategory dropped when its parent is also asked for.
  let categories: Array<number | null> = [null];
  if (spec.categories !== null) {
    const known = spec.categories.map((id) => catalogue.category(id)).filter((c) => c !== undefined);
    const ids = new Set(known.map((c) => c.id));
    const kept = [...ids].filter((id) => {
      const c = catalogue.category(id)!;
      return c.parentId === null || !ids.has(c.parentId);
    });
    if (kept.length === 0) return EMPTY;
    categories = kept.sort((a, b) => a - b);
  }

  // Term lists: each must name at least one existing term.
  const terms: number[] = [];
  for (const list of spec.termLists) {
    const known = list.filter((id) => catalogue.term(id) !== undefined);
    if (known.length === 0) return EMPTY;
    terms.push(...known);
  }

  let uploaderId: number | null = null;
  let includeAnonymous = false;
  if (spec.uploader !== null) {
    const u = await findUserByUsername(db, spec.uploader);
    if (!u || u.deleted_at !== null) return EMPTY;
    uploaderId = u.id;
    includeAnonymous = u.id === user.id || isStaff(user);
  }

  const { verifiedOnly } = await listingScope(site);
  const base: SearchInput = {
    text: spec.text ? formatQuery(spec.text) : null,
    terms,
    uploaderId,
    includeAnonymous,
    noSeeders: spec.dead,
    verifiedOnly,
    sort: spec.sort,
    order: spec.order,
  };

  const checks: Predicate[] = [];
  if (spec.alive) checks.push((r) => r.seeders > 0);
  if (spec.dying) checks.push((r) => r.seeders === 1 && r.times_completed >= 3);
  if (spec.free !== null || spec.doubleup) {
    const now = site.now();
    const windows = await activeWindows(db, now);
    const tokens = new Set(
      (await db.selectFrom('freeleech_token_use').select('torrent_id').where('user_id', '=', user.id).where('expires_at', '>', now).execute()).map((t) => t.torrent_id),
    );
    const factors = (r: ListingRow) => effectiveFactors(r, windows, tokens.has(r.id), now);
    const free = spec.free;
    if (free !== null) checks.push((r) => free.has(freeleechPercent(factors(r).download)));
    if (spec.doubleup) checks.push((r) => factors(r).upload >= 2);
  }

  const offset = (spec.page - 1) * spec.perPage;
  if (offset + spec.perPage > MAX_WINDOW) return { rows: [], total: null, hasMore: false };

  if (checks.length === 0 && categories.length === 1) {
    const r = await searchTorrents(db, { ...base, categoryId: categories[0], offset, limit: spec.perPage });
    return { rows: r.rows, total: r.total, hasMore: offset + r.rows.length < r.total };
  }
  return scan(site, base, categories, checks, offset, spec.perPage);
}

interface Source {
  categoryId: number | null;
  buffer: ListingRow[];
  next: number;
  done: boolean;
  total: number;
}

/**
 * Walks the sorted results of every category at once (a k-way merge of their pages), keeps the
 * rows passing the checks, and returns the page at `offset`.
 */
async function scan(site: Site, base: SearchInput, categories: Array<number | null>, checks: Predicate[], offset: number, limit: number): Promise<FilterResult> {
  const cmp = rowComparator(base.sort!, base.order!);
  const sources: Source[] = categories.map((categoryId) => ({ categoryId, buffer: [], next: 0, done: false, total: 0 }));
  const fill = async (s: Source, first: boolean) => {
    const r = await searchTorrents(site.db, { ...base, categoryId: s.categoryId, offset: s.next, limit: BATCH, countCap: first ? DEFAULT_COUNT_CAP : 0 });
    if (first) s.total = r.total;
    s.buffer.push(...r.rows);
    s.next += r.rows.length;
    if (r.rows.length < BATCH) s.done = true;
  };
  await Promise.all(sources.map((s) => fill(s, true)));

  const wanted = offset + limit + 1;
  const matches: ListingRow[] = [];
  let scanned = 0;
  let exhausted = false;
  while (matches.length < wanted) {
    for (const s of sources) if (s.buffer.length === 0 && !s.done) await fill(s, false);
    let best: Source | null = null;
    for (const s of sources) if (s.buffer.length > 0 && (best === null || cmp(s.buffer[0]!, best.buffer[0]!) < 0)) best = s;
    if (best === null) {
      exhausted = true;
      break;
    }
    const row = best.buffer.shift()!;
    scanned++;
    if (checks.every((c) => c(row))) matches.push(row);
    if (checks.length > 0 && scanned >= SCAN_LIMIT) break;
  }
  const rows = matches.slice(offset, offset + limit);
  const hasMore = matches.length > offset + limit;
  let total: number | null = null;
  if (checks.length === 0) total = sources.reduce((n, s) => n + s.total, 0);
  else if (exhausted) total = matches.length;
  return { rows, total, hasMore };
}
