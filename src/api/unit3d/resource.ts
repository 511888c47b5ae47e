/**
 * UNIT3D's torrent resource (`{ type: "torrent", id, attributes }`) built from Essaim's data.
 *
 * The mapping (docs/api/unit3d.md explains it for administrators and tool authors):
 * - `category_id` / `category`: the torrent's subcategory (its id and English name); UNIT3D's
 *   categories are flat, Essaim's are subcategories of parents, so the subcategory is the
 *   finest and unambiguous choice (Prowlarr maps tracker categories by `category_id`).
 * - `type_id` / `type`: the torrent's term of a "… - Quality" or "… - Format" term type (Video -
 *   Quality, Audio - Format, eBook - Format in the default taxonomy); null when it has none.
 * - `resolution_id` / `resolution`: T411's quality terms carry the resolution in their names
 *   ("WEB-DL 1080p", "HDrip 4K", "Blu-ray (remux)"): the same term's id and the resolution it
 *   names (2160p, 1080p, 720p); null when the term names none.
 * - `meta.genres`: the names of the torrent's terms of the "… - Genre" term types.
 * - `freeleech`: the share of the download not counted, in quarters as UNIT3D's clients expect
 *   ("0%", "25%", "50%", "75%", "100%"), rounded down (never more than granted), from the factors
 *   the member gets now (the torrent's own, site-wide windows, the member's freeleech token);
 *   `double_upload`: the upload factor is 2 or more.
 * - `tmdb_id`, `imdb_id`, `tvdb_id`, `mal_id`: Essaim keeps no such fields; they are read from
 *   the links in the description (TMDB, IMDb, TheTVDB, MyAnimeList addresses), 0 when absent.
 * - `download_link`: /api/torrents/download/<id>.torrent?rsskey=<the member's RSS key> (UNIT3D's
 *   own link is authenticated by the RSS key too); `details_link`: the torrent's short link.
 * - Fields Essaim has no notion of keep UNIT3D's "none" values: `release_year` null,
 *   `media_info`/`bd_info` null, `internal`/`featured`/`refundable`/`personal_release` false,
 *   `igdb_id` 0, `meta.poster` "".
 */
import type { Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import type { Site } from '../../site/site.js';
import { activeWindows, effectiveFactors, type FreeleechWindow } from '../../site/rules/freeleech.js';
import { liveCounts } from '../../site/torrents/read.js';
import type { ListingRow } from '../../site/search/search.js';

/** Most files listed per torrent in listings (a show lists them all). */
export const LISTING_FILES = 1000;

export interface Unit3dFile {
  index: number;
  name: string;
  size: number;
}

export interface Unit3dAttributes {
  meta: { poster: string; genres: string };
  name: string;
  release_year: number | null;
  category: string | null;
  type: string | null;
  resolution: string | null;
  media_info: string | null;
  bd_info: string | null;
  description: string;
  info_hash: string;
  size: number;
  num_file: number;
  files: Unit3dFile[];
  freeleech: string;
  double_upload: boolean;
  refundable: boolean;
  internal: boolean;
  featured: boolean;
  personal_release: boolean;
  uploader: string;
  seeders: number;
  leechers: number;
  times_completed: number;
  tmdb_id: number;
  imdb_id: number;
  tvdb_id: number;
  mal_id: number;
  igdb_id: number;
  category_id: number | null;
  type_id: number | null;
  resolution_id: number | null;
  created_at: string;
  download_link: string;
  details_link: string;
}

export interface Unit3dTorrent {
  type: 'torrent';
  id: string;
  attributes: Unit3dAttributes;
}

/** Laravel's date serialisation: `2021-10-18T00:34:50.000000Z` (UTC, microseconds). */
export function laravelDate(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Tolerance for factors computed in floating point (0.75 a hair above 0.75 still shows 25%). */
const FACTOR_SLACK = 1e-11;

/**
 * The download factors showing each freeleech percentage, most free first: above the previous
 * band's end, at most `atMost` (null: open). The filter searches these same bands.
 */
export const FREELEECH_BANDS: ReadonlyArray<{ percent: number; above: number | null; atMost: number | null }> = [
  { percent: 100, above: null, atMost: FACTOR_SLACK },
  { percent: 75, above: FACTOR_SLACK, atMost: 0.25 + FACTOR_SLACK },
  { percent: 50, above: 0.25 + FACTOR_SLACK, atMost: 0.5 + FACTOR_SLACK },
  { percent: 25, above: 0.5 + FACTOR_SLACK, atMost: 0.75 + FACTOR_SLACK },
  { percent: 0, above: 0.75 + FACTOR_SLACK, atMost: null },
];

/** The freeleech percentage UNIT3D shows for a download factor: quarters, rounded down. */
export function freeleechPercent(downloadFactor: number): number {
  if (!Number.isFinite(downloadFactor)) return 0;
  return FREELEECH_BANDS.find((b) => b.atMost === null || downloadFactor <= b.atMost)!.percent;
}

export interface ExternalIds {
  tmdb: number;
  imdb: number;
  tvdb: number;
  mal: number;
}

const TMDB_RE = /themoviedb\.org\/(?:movie|tv)\/(\d{1,10})(?!\d)/i;
const IMDB_RE = /(?<![a-z0-9])tt(\d{7,9})(?![0-9])/i;
const TVDB_RE = /thetvdb\.com\/(?:dereferrer\/series\/|series\/|[^\s"'\]]*?[?&]id=)(\d{1,10})(?![\d-])/i;
const MAL_RE = /myanimelist\.net\/anime\/(\d{1,10})(?!\d)/i;

/** The ids named by the links of a description (0 when none). */
export function externalIds(description: string): ExternalIds {
  const num = (re: RegExp) => {
    const m = re.exec(description);
    const n = m ? Number(m[1]) : 0;
    return Number.isSafeInteger(n) ? n : 0;
  };
  return { tmdb: num(TMDB_RE), imdb: num(IMDB_RE), tvdb: num(TVDB_RE), mal: num(MAL_RE) };
}

/** `tt0111161` for 111161 (IMDb ids have at least seven digits). */
export function imdbTag(id: number): string {
  return `tt${String(id).padStart(7, '0')}`;
}

/** The resolution a quality term names, or null. */
export function resolutionOf(termName: string): string | null {
  if (/\b4k\b|2160/i.test(termName)) return '2160p';
  if (/1080/.test(termName)) return '1080p';
  if (/720/.test(termName)) return '720p';
  if (/blu-?ray/i.test(termName)) return '1080p';
  return null;
}

const TYPE_RE = /(?:^|[\s-])(?:quality|format)$/i;
const GENRE_RE = /(?:^|[\s-])genre$/i;

/** Term types whose term is UNIT3D's `type` (quality first, then format). */
export function isTypeTermType(nameEn: string): boolean {
  return TYPE_RE.test(nameEn.trim());
}

export function isGenreTermType(nameEn: string): boolean {
  return GENRE_RE.test(nameEn.trim());
}

interface TermRow {
  torrent_id: number;
  term_id: number;
  term_name: string;
  type_id: number;
  type_name: string;
  type_position: number;
}

/** What listings do not carry: description, terms, files, the member's freeleech tokens. */
export interface Extras {
  description: Map<number, string>;
  terms: Map<number, TermRow[]>;
  files: Map<number, Unit3dFile[]>;
  tokens: Set<number>;
  windows: FreeleechWindow[];
}

async function loadExtras(db: Kysely<Database>, ids: readonly number[], userId: number, now: number, fileCap: number | null): Promise<Extras> {
  const extras: Extras = { description: new Map(), terms: new Map(), files: new Map(), tokens: new Set(), windows: await activeWindows(db, now) };
  if (ids.length === 0) return extras;
  const list = [...ids];
  const [descriptions, terms, files, tokens] = await Promise.all([
    db.selectFrom('torrent').select(['id', 'description']).where('id', 'in', list).execute(),
    db
      .selectFrom('torrent_term as tt')
      .innerJoin('term', 'term.id', 'tt.term_id')
      .innerJoin('term_type', 'term_type.id', 'term.term_type_id')
      .select(['tt.torrent_id', 'term.id as term_id', 'term.name_en as term_name', 'term_type.id as type_id', 'term_type.name_en as type_name', 'term_type.position as type_position'])
      .where('tt.torrent_id', 'in', list)
      .orderBy('term_type.position')
      .orderBy('term_type.id')
      .orderBy('term.position')
      .orderBy('term.id')
      .execute(),
    db
      .selectFrom('torrent_file')
      .select(['torrent_id', 'idx', 'path', 'size'])
      .where('torrent_id', 'in', list)
      .$if(fileCap !== null, (q) => q.where('idx', '<', fileCap!))
      .orderBy('torrent_id')
      .orderBy('idx')
      .execute(),
    db.selectFrom('freeleech_token_use').select('torrent_id').where('user_id', '=', userId).where('torrent_id', 'in', list).where('expires_at', '>', now).execute(),
  ]);
  for (const d of descriptions) extras.description.set(d.id, d.description);
  for (const t of terms) {
    let l = extras.terms.get(t.torrent_id);
    if (!l) extras.terms.set(t.torrent_id, (l = []));
    l.push(t);
  }
  for (const f of files) {
    let l = extras.files.get(f.torrent_id);
    if (!l) extras.files.set(f.torrent_id, (l = []));
    l.push({ index: f.idx + 1, name: f.path, size: Number(f.size) });
  }
  for (const t of tokens) extras.tokens.add(t.torrent_id);
  return extras;
}

export function downloadLink(site: Site, id: number, rssKey: string): string {
  return `${site.publicUrl}/api/torrents/download/${id}.torrent?rsskey=${encodeURIComponent(rssKey)}`;
}

export function detailsLink(site: Site, id: number): string {
  return `${site.publicUrl}/t/${id}`;
}

/**
 * The resources of listing rows for a member, in the rows' order. `fileCap`: most files per
 * torrent (null: all of them).
 */
export async function torrentResources(site: Site, user: User, rows: readonly ListingRow[], fileCap: number | null = LISTING_FILES): Promise<Unit3dTorrent[]> {
  const now = site.now();
  const extras = await loadExtras(
    site.db,
    rows.map((r) => r.id),
    user.id,
    now,
    fileCap,
  );
  const counts = liveCounts(site.tracker, rows);
  return rows.map((r, i) => toResource(site, user, r, counts[i]!, extras, now));
}

function toResource(site: Site, user: User, r: ListingRow, live: { seeders: number; leechers: number }, x: Extras, now: number): Unit3dTorrent {
  const description = x.description.get(r.id) ?? '';
  const terms = x.terms.get(r.id) ?? [];
  const typeTerm = terms.find((t) => /quality$/i.test(t.type_name.trim())) ?? terms.find((t) => isTypeTermType(t.type_name));
  const resolution = typeTerm ? resolutionOf(typeTerm.term_name) : null;
  const genres = terms.filter((t) => isGenreTermType(t.type_name)).map((t) => t.term_name);
  const factors = effectiveFactors(r, x.windows, x.tokens.has(r.id), now);
  const ids = externalIds(description);
  return {
    type: 'torrent',
    id: String(r.id),
    attributes: {
      meta: { poster: '', genres: genres.join(', ') },
      name: r.name,
      release_year: null,
      category: r.category_name_en,
      type: typeTerm?.term_name ?? null,
      resolution,
      media_info: null,
      bd_info: null,
      description,
      info_hash: r.info_hash_v1 ?? r.info_hash_v2 ?? '',
      size: r.size,
      num_file: r.file_count,
      files: x.files.get(r.id) ?? [],
      freeleech: `${freeleechPercent(factors.download)}%`,
      double_upload: factors.upload >= 2,
      refundable: false,
      internal: false,
      featured: false,
      personal_release: false,
      uploader: r.anonymous === 1 || !r.uploader_name ? 'Anonymous' : r.uploader_name,
      seeders: live.seeders,
      leechers: live.leechers,
      times_completed: r.times_completed,
      tmdb_id: ids.tmdb,
      imdb_id: ids.imdb,
      tvdb_id: ids.tvdb,
      mal_id: ids.mal,
      igdb_id: 0,
      category_id: r.category_id,
      type_id: typeTerm?.term_id ?? null,
      resolution_id: resolution !== null && typeTerm ? typeTerm.term_id : null,
      created_at: laravelDate(r.created_at),
      download_link: downloadLink(site, r.id, user.rss_key),
      details_link: detailsLink(site, r.id),
    },
  };
}
