/**
 * Torrents over /api/v1: the answers' shapes (Torrent, TorrentDetails), the listing, the details
 * and the upload, all through the site's own services (searchTorrents, visibleTorrentFor,
 * uploadTorrent), so that the API shows exactly what the site shows to the same member.
 */
import type { FastifyRequest } from 'fastify';
import type { Locale, TorrentStatus, User } from '../../db/schema.js';
import { renderDescription } from '../../markup/render.js';
import { formatTorrentError } from '../../metainfo/messages.js';
import { loadCatalogue, type Catalogue } from '../../site/catalogue/catalogue.js';
import { isBookmarked } from '../../site/members/bookmarks.js';
import { listingRows, searchTorrents, type ListingRow, type SearchInput, type SortKey, type SortOrder } from '../../site/search/search.js';
import { tokenTorrentIds, windowFactors } from '../../site/rules/freeleech.js';
import type { Site } from '../../site/site.js';
import { listTorrentFiles, liveCounts, showUploader, withLiveCounts } from '../../site/torrents/read.js';
import { uploadTorrent, type UploadProblem } from '../../site/torrents/upload.js';
import { translator } from '../../web/context.js';
import { torrentPath } from '../../web/features/torrent/links.js';
import { formatSize } from '../../web/format.js';
import { ApiError } from '../http.js';
import { listingScope, visibleTorrentFor } from '../service.js';
import { readMultipart } from '../../web/multipart.js';

/** ISO 8601 UTC, to the second. */
export function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The answer's language: `lang`, else the member's, else the site's. */
export function answerLocale(site: Site, user: Pick<User, 'locale'>, lang: unknown): Locale {
  if (lang === 'en' || lang === 'fr') return lang;
  return user.locale ?? site.config.site.default_locale;
}

export interface TorrentJson {
  id: number;
  name: string;
  url: string;
  download_url: string;
  category: { id: number; name: string; parent: { id: number; name: string } | null } | null;
  size: number;
  file_count: number;
  seeders: number;
  leechers: number;
  completed: number;
  comments: number;
  created_at: string;
  verified: boolean;
  status: Exclude<TorrentStatus, 'deleted'>;
  uploader: { id: number; username: string } | null;
  info_hash_v1: string | null;
  info_hash_v2: string | null;
  upload_factor: number;
  download_factor: number;
  factors_until: string | null;
}

/** What a Torrent is made of (a listing row, or a torrent row with its uploader resolved). */
export type TorrentSource = Pick<
  ListingRow,
  | 'id' | 'name' | 'slug' | 'size' | 'status' | 'created_at' | 'seeders' | 'leechers' | 'times_completed' | 'comment_count'
  | 'file_count' | 'verified' | 'category_id' | 'info_hash_v1' | 'info_hash_v2' | 'upload_factor' | 'download_factor' | 'factors_until'
> & {
  /** Null when not shown (anonymous) or gone. */
  uploader: { id: number; username: string } | null;
};

export function downloadUrl(site: Site, id: number): string {
  return `${site.publicUrl}/api/v1/torrents/${id}/download`;
}

export function toTorrentJson(site: Site, catalogue: Catalogue, locale: Locale, t: TorrentSource, now: number): TorrentJson {
  const cat = t.category_id === null ? undefined : catalogue.category(t.category_id);
  // The torrent's own factors while they last (as the listings' badges).
  const expired = t.factors_until !== null && now >= t.factors_until;
  return {
    id: t.id,
    name: t.name,
    url: site.publicUrl + torrentPath(t),
    download_url: downloadUrl(site, t.id),
    category: cat ? { id: cat.id, name: cat.name(locale), parent: cat.parent ? { id: cat.parent.id, name: cat.parent.name(locale) } : null } : null,
    size: Number(t.size),
    file_count: t.file_count,
    seeders: t.seeders,
    leechers: t.leechers,
    completed: Number(t.times_completed),
    comments: t.comment_count,
    created_at: isoTime(Number(t.created_at)),
    verified: t.verified === 1,
    status: t.status === 'pending' ? 'pending' : 'active',
    uploader: t.uploader,
    info_hash_v1: t.info_hash_v1,
    info_hash_v2: t.info_hash_v2,
    upload_factor: expired ? 1 : t.upload_factor,
    download_factor: expired ? 1 : t.download_factor,
    factors_until: expired || t.factors_until === null ? null : isoTime(t.factors_until),
  };
}

export interface ListQueryValue {
  q?: string;
  category?: number;
  terms?: string[];
  sort?: SortKey;
  order?: SortOrder;
  offset?: number;
  limit?: number;
  verified?: boolean;
  freeleech?: boolean;
  lang?: Locale;
}

/** `freeleech=true` as search bounds: nothing to filter under a site-wide freeleech window. */
async function freeleechBounds(site: Site, user: User): Promise<Pick<SearchInput, 'downloadFactorAtMost' | 'freeTorrentIds' | 'now'>> {
  const now = site.now();
  if ((await windowFactors(site.db, now)).download === 0) return {};
  return { downloadFactorAtMost: 0, freeTorrentIds: await tokenTorrentIds(site.db, user.id, now), now };
}

/** `['1,2', '3']` → [1, 2, 3] (the schema has checked the shape). */
export function termIds(values: readonly string[] | undefined): number[] {
  const out: number[] = [];
  for (const v of values ?? []) for (const part of v.split(',')) if (/^[0-9]{1,10}$/.test(part)) out.push(Number(part));
  return [...new Set(out)];
}

/** A listing row's uploader (listing rows already mask anonymous uploads). */
function rowUploader(r: Pick<ListingRow, 'uploader_id' | 'uploader_name'>): { id: number; username: string } | null {
  return r.uploader_id !== null && r.uploader_name !== null ? { id: r.uploader_id, username: r.uploader_name } : null;
}

/** GET /api/v1/torrents */
export async function listTorrents(site: Site, user: User, query: ListQueryValue) {
  const locale = answerLocale(site, user, query.lang);
  const scope = await listingScope(site);
  const [catalogue, result] = await Promise.all([
    loadCatalogue(site.db),
    searchTorrents(site.db, {
      text: query.q ?? '',
      categoryId: query.category ?? null,
      terms: termIds(query.terms),
      sort: query.sort ?? 'age',
      ...(query.order ? { order: query.order } : {}),
      offset: query.offset ?? 0,
      limit: query.limit ?? 50,
      verifiedOnly: scope.verifiedOnly || query.verified === true,
      hideAdult: scope.hideAdult,
      ...(query.freeleech === true ? await freeleechBounds(site, user) : {}),
    }),
  ]);
  const now = site.now();
  const rows = withLiveCounts(site.tracker, result.rows);
  return {
    total: result.total,
    total_capped: result.totalCapped,
    offset: result.offset,
    limit: result.limit,
    torrents: rows.map((r) =>
      toTorrentJson(site, catalogue, locale, { ...r, uploader: rowUploader(r) }, now),
    ),
  };
}

/** Torrents by id as listed (anonymous uploaders masked); the caller decides who may see them. */
export async function listedTorrents(site: Site, ids: readonly number[], locale: Locale): Promise<Map<number, TorrentJson>> {
  const [catalogue, rows] = await Promise.all([loadCatalogue(site.db), listingRows(site.db, ids)]);
  const now = site.now();
  const out = new Map<number, TorrentJson>();
  for (const r of withLiveCounts(site.tracker, rows)) {
    if (r.status === 'deleted') continue;
    out.set(r.id, toTorrentJson(site, catalogue, locale, { ...r, uploader: rowUploader(r) }, now));
  }
  return out;
}

/** GET /api/v1/torrents/{id} */
export async function torrentDetails(site: Site, user: User, id: number, lang: unknown) {
  const locale = answerLocale(site, user, lang);
  const details = await visibleTorrentFor(site, user, id);
  const tor = details.torrent;
  const [catalogue, files, bookmarked] = await Promise.all([loadCatalogue(site.db), listTorrentFiles(site.db, tor.id), isBookmarked(site.db, user.id, tor.id)]);
  const counts = liveCounts(site.tracker, [tor])[0]!;
  const uploader = details.uploader && showUploader(tor, user) ? details.uploader : null;
  const base = toTorrentJson(site, catalogue, locale, { ...tor, ...counts, uploader }, site.now());
  const description = tor.description.trim() === '' ? '' : renderDescription(tor.description, tor.description_format, { externalImages: site.config.web.external_images });
  return {
    ...base,
    files: files.map((f) => ({ path: f.path, size: Number(f.size) })),
    terms: details.terms.map((t) => ({
      type_id: t.typeId,
      type_name: locale === 'fr' ? t.typeName_fr : t.typeName_en,
      term_id: t.id,
      term_name: locale === 'fr' ? t.name_fr : t.name_en,
    })),
    description,
    description_source: tor.description,
    description_format: tor.description_format,
    nfo: tor.nfo,
    bookmarked,
  };
}

// --- upload --------------------------------------------------------------------------------------


export interface ProblemJson {
  field: string;
  code: string;
  message: string;
  torrent_id?: number;
}

const en = translator('en');

/** An upload problem in English, naming what is wrong (the website's own messages). */
export function problemJson(catalogue: Catalogue, p: UploadProblem): ProblemJson {
  const termName = (id: number | undefined) => (id === undefined ? '' : (catalogue.term(id)?.nameEn ?? `#${id}`));
  let message: string;
  switch (p.code) {
    case 'torrent_invalid':
      message = en('upload.error.torrent_invalid', { detail: p.torrentError ? formatTorrentError(p.torrentError, 'en') : 'unreadable' });
      break;
    case 'duplicate':
      message = `${en('upload.error.duplicate')} (torrent ${p.torrentId ?? 0})`;
      break;
    case 'blocked':
      message = en('lawful.upload.blocked', { hash: p.block?.infoHash ?? '', reason: p.block?.reason ?? '' });
      break;
    case 'torrent_too_large':
    case 'nfo_too_large':
      message = en(`upload.error.${p.code}`, { max: formatSize(en, 'en', p.params?.max ?? 0) });
      break;
    case 'term_unknown':
      message = en('upload.error.term_unknown', { id: p.params?.termId ?? 0 });
      break;
    case 'term_not_allowed':
    case 'term_deprecated':
      message = en(`upload.error.${p.code}`, { term: termName(p.params?.termId) });
      break;
    case 'term_several':
      message = en('upload.error.term_several', { type: catalogue.termType(p.params?.typeId ?? 0)?.nameEn ?? '' });
      break;
    case 'title_too_long':
    case 'description_too_long':
      message = en(`upload.error.${p.code}`, { max: p.params?.max ?? 0 });
      break;
    default:
      message = en(`upload.error.${p.code}`);
  }
  const out: ProblemJson = { field: p.field, code: p.code, message };
  if (p.code === 'duplicate' && p.torrentId !== undefined) out.torrent_id = p.torrentId;
  return out;
}

const TRUE = new Set(['1', 'true', 'on', 'yes']);

/** POST /api/v1/torrents (multipart); answers the UploadResult or throws 422/409 with the problems. */
export async function upload(site: Site, user: User, req: FastifyRequest) {
  if (!req.isMultipart()) throw new ApiError(400, 'bad_request', 'Send the upload as multipart/form-data.');
  const form = await readMultipart(req, site);
  const field = (name: string) => form.fields.get(name)?.[0] ?? '';
  const catalogue = await loadCatalogue(site.db);

  const extra: ProblemJson[] = [];
  const rawCategory = field('category').trim();
  // Empty: the service says "required"; not a number: no such category.
  const categoryId = rawCategory === '' ? null : /^[0-9]{1,10}$/.test(rawCategory) ? Number(rawCategory) : 0;
  const ids: number[] = [];
  for (const v of [...(form.fields.get('terms') ?? []), ...(form.fields.get('term') ?? [])]) {
    for (const part of v.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (/^[0-9]{1,10}$/.test(part)) ids.push(Number(part));
      else extra.push({ field: 'terms', code: 'term_invalid', message: `"${part.slice(0, 40)}" is not a term id.` });
    }
  }
  // A term that is not a number is refused before anything is stored.
  if (extra.length > 0) throw new ApiError(422, 'validation_failed', `The upload was refused: ${extra.map((p) => p.message).join(' ')}`, extra);
  const torrent = form.files.get('torrent');
  const nfo = form.files.get('nfo');
  const result = await uploadTorrent(site, {
    uploader: user,
    categoryId,
    termIds: ids,
    title: field('title'),
    description: field('description'),
    descriptionFormat: field('format') || 'bbcode',
    torrent: torrent?.data ?? null,
    torrentTruncated: torrent?.truncated ?? false,
    nfo: nfo?.data ?? null,
    nfoTruncated: nfo?.truncated ?? false,
    anonymous: TRUE.has(field('anonymous').toLowerCase()),
  });
  if (!result.ok) {
    const problems = result.problems.map((p) => problemJson(catalogue, p));
    const conflict = problems.find((p) => p.code === 'duplicate' || p.code === 'blocked');
    if (conflict) throw new ApiError(409, 'conflict', conflict.message, problems);
    throw new ApiError(422, 'validation_failed', `The upload was refused: ${problems.map((p) => p.message).join(' ')}`, problems);
  }
  const id = result.torrentId;
  const row = await site.db.selectFrom('torrent').select(['id', 'name', 'slug', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
  return {
    id,
    status: row.status === 'active' ? ('active' as const) : ('pending' as const),
    url: site.publicUrl + torrentPath(row),
    download_url: downloadUrl(site, id),
  };
}
