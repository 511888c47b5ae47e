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
 * One site search per request: `categories[]` are its `categoryIds`, `dead` / `alive` / `dying`
 * its seeder and completion bounds (the database copy of the swarm counts), `doubleup` and `free[]`
 * bounds on the torrent's own factors at the site's time ({@link factorBounds}): the site-wide
 * freeleech windows in force are decided for the whole query (a window that makes everything 100%
 * free leaves `free[]=100` nothing to filter), and the member's own freeleech tokens count their
 * torrents as free. Totals are exact up to the search's count cap; pages end at that cap.
 */
import { loadCatalogue } from '../../site/catalogue/catalogue.js';
import { findUserByUsername } from '../../db/user.repository.js';
import type { User } from '../../db/schema.js';
import { tokenTorrentIds, windowFactors } from '../../site/rules/freeleech.js';
import { formatQuery, type QueryNode } from '../../site/search/query.js';
import { searchWords } from '../../site/search/normalize.js';
import { searchTorrents, DEFAULT_COUNT_CAP, type FactorBand, type ListingRow, type SearchInput, type SortKey, type SortOrder } from '../../site/search/search.js';
import { isStaff } from '../../site/torrents/read.js';
import type { Site } from '../../site/site.js';
import { listingScope } from '../service.js';
import { FREELEECH_BANDS, freeleechPercent, imdbTag } from './resource.js';

export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 100;
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
  /** Null when unknown (a page beyond the count cap). */
  total: number | null;
  /** More rows follow this page. */
  hasMore: boolean;
}

const EMPTY: FilterResult = { rows: [], total: 0, hasMore: false };

/** The factor bounds of a search: the torrent's own factors, tokens as free torrents. */
export type FactorBounds = Pick<SearchInput, 'downloadFactorBands' | 'uploadFactorAtLeast' | 'freeTorrentIds'>;

/**
 * `free[]` and `doubleup` as bounds on the torrents' own factors, given the site-wide factors in
 * force (`site`, 1 and 1 without a window) and the torrents on which the member has an active
 * freeleech token. A member's factors are the torrent's own combined with the windows (the
 * smallest download factor, the largest upload factor) and 0 with a token, so the percentage
 * shown is the larger of the torrent's own and the window's: the windows are decided here for the
 * whole query. Null: nothing can match.
 */
export function factorBounds(spec: Pick<FilterSpec, 'free' | 'doubleup'>, site: { upload: number; download: number }, tokens: readonly number[]): FactorBounds | null {
  const out: FactorBounds = {};
  if (spec.doubleup && site.upload < 2) out.uploadFactorAtLeast = 2;
  if (spec.free !== null) {
    const free = spec.free;
    const windowPercent = freeleechPercent(site.download);
    const allowed = FREELEECH_BANDS.map((b) => free.has(Math.max(b.percent, windowPercent)));
    if (allowed.every((x) => !x)) return null;
    if (!allowed.every((x) => x)) {
      // Adjacent bands merged into one.
      const bands: FactorBand[] = [];
      let open: FactorBand | null = null;
      for (const [i, b] of FREELEECH_BANDS.entries()) {
        if (!allowed[i]) open = null;
        else if (open) open.atMost = b.atMost;
        else bands.push((open = { above: b.above, atMost: b.atMost }));
      }
      out.downloadFactorBands = bands;
      if (tokens.length > 0) out.freeTorrentIds = [...tokens];
    }
  }
  return out;
}

/** Runs the filter for a member: one site search. */
export async function runFilter(site: Site, user: User, spec: FilterSpec): Promise<FilterResult> {
  if (spec.impossible) return EMPTY;
  const db = site.db;
  const catalogue = await loadCatalogue(db);

  // Categories: the known ones (each with its subcategories); none known selects nothing.
  let categoryIds: number[] | null = null;
  if (spec.categories !== null) {
    categoryIds = [...new Set(spec.categories.filter((id) => catalogue.category(id) !== undefined))];
    if (categoryIds.length === 0) return EMPTY;
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

  const offset = (spec.page - 1) * spec.perPage;
  if (offset + spec.perPage > MAX_WINDOW) return { rows: [], total: null, hasMore: false };

  const { verifiedOnly } = await listingScope(site);
  const input: SearchInput = {
    text: spec.text ? formatQuery(spec.text) : null,
    categoryIds,
    terms,
    uploaderId,
    includeAnonymous,
    verifiedOnly,
    sort: spec.sort,
    order: spec.order,
    // dead: no seeder; alive: one or more; dying: exactly one, completed three times or more.
    noSeeders: spec.dead,
    minSeeders: spec.alive || spec.dying ? 1 : null,
    maxSeeders: spec.dying ? 1 : null,
    minCompleted: spec.dying ? 3 : null,
  };
  if (spec.free !== null || spec.doubleup) {
    const now = site.now();
    const siteWide = await windowFactors(db, now);
    const tokens = spec.free === null ? [] : await tokenTorrentIds(db, user.id, now);
    const bounds = factorBounds(spec, siteWide, tokens);
    if (bounds === null) return EMPTY;
    Object.assign(input, bounds, { now });
  }

  const r = await searchTorrents(db, { ...input, offset, limit: spec.perPage });
  return { rows: r.rows, total: r.total, hasMore: offset + r.rows.length < r.total };
}
