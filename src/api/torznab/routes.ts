/**
 * Torznab (the Newznab API for torrents) for Prowlarr, Jackett, Sonarr, Radarr, Lidarr, Readarr:
 *
 *   GET|POST /api/torznab?t=caps                         capabilities (no key needed)
 *   GET|POST /api/torznab?t=search|tvsearch|movie|music|book&apikey=...&q=&cat=&season=&ep=&imdbid=&limit=&offset=
 *   GET|POST /api/torznab/api?t=...                      the same (clients that append "/api")
 *   GET      /api/torznab/download/<id>?apikey=...       the member's personalised .torrent
 *
 * The key is the member's personal API token (scope read), from `apikey` (query or form), or
 * the `Authorization` / `X-Api-Key` headers. Answers are XML: the caps document, an RSS 2.0 feed
 * with `torznab:attr` extensions, or a Newznab `<error>` (errors.ts). See docs/api/torznab.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../db/schema.js';
import { siteFactors, effectiveFactors } from '../../site/rules/freeleech.js';
import type { ListingRow } from '../../site/search/search.js';
import type { Site } from '../../site/site.js';
import { withLiveCounts } from '../../site/torrents/read.js';
import { rfc822 } from '../../web/features/rss/feed.js';
import { sendTorrentFile } from '../../web/features/torrent/download.js';
import { parseId, torrentPath } from '../../web/features/torrent/links.js';
import { ApiError, authenticate, requestToken } from '../http.js';
import { installApiGuards } from '../routes.js';
import { downloadFor, listingScope } from '../service.js';
import { capsCategories, itemCategories, loadMapping, type CategoryMapping } from './categories.js';
import { errorDocument, fromApiError, TorznabError } from './errors.js';
import { FUNCTIONS, MAX_RESULTS, DEFAULT_LIMIT, param, parseSearchParams, planSearch, runSearch, type SearchFunction } from './search.js';
import { el, text, xmlDocument } from './xml.js';

export const TORZNAB_NS = 'http://torznab.com/schemas/2015/feed';
export const NEWZNAB_NS = 'http://www.newznab.com/DTD/2010/feeds/attributes/';
const API_PATHS = ['/api/torznab', '/api/torznab/api'] as const;
const DOWNLOAD_PATH = '/api/torznab/download/:id';

/** Newznab functions Essaim does not offer (203); any other unknown `t` is 202. */
const UNAVAILABLE = new Set(['register', 'details', 'get', 'getnfo', 'cartadd', 'cartdel', 'comments', 'commentadd', 'user']);

const XML_TYPE = 'application/xml; charset=utf-8';
const RSS_TYPE = 'application/rss+xml; charset=utf-8';

function isDownload(req: FastifyRequest): boolean {
  return req.routeOptions.url === DOWNLOAD_PATH;
}

function sendError(req: FastifyRequest, reply: FastifyReply, e: TorznabError, retryAfter: number): FastifyReply {
  // The API path answers protocol errors with 200 (Newznab); the download link with the status.
  const status = isDownload(req) ? e.httpStatus : 200;
  if (e.code === 500) void reply.header('Retry-After', String(retryAfter));
  return reply.code(status).type(XML_TYPE).header('Cache-Control', 'no-store').send(errorDocument(e));
}

/** The request's parameters: the query string, then the form body (POST) over it. */
function paramsOf(req: FastifyRequest): Record<string, unknown> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const b = req.body;
  return b && typeof b === 'object' && !Buffer.isBuffer(b) ? { ...q, ...(b as Record<string, unknown>) } : { ...q };
}

/** The key the client sent: a header, else `apikey` (query or form). */
function rawKey(req: FastifyRequest, p: Record<string, unknown>): string | null {
  return requestToken(req) ?? (param(p, 'apikey') || null);
}

function capsDocument(site: Site, m: CategoryMapping): string {
  const search = (name: string, params: string) => el(name, { available: 'yes', supportedParams: params });
  const categories = capsCategories(m, site.config.site.default_locale).map((c) =>
    el(
      'category',
      { id: c.id, name: c.name },
      c.subcats.map((s) => el('subcat', { id: s.id, name: s.name })),
    ),
  );
  return xmlDocument(
    el('caps', {}, [
      el('server', { title: site.config.site.name, url: `${site.publicUrl}/` }),
      el('limits', { max: MAX_RESULTS, default: DEFAULT_LIMIT }),
      el('registration', { available: 'no', open: 'no' }),
      el('searching', {}, [
        search('search', 'q'),
        search('tv-search', 'q,season,ep'),
        search('movie-search', 'q,imdbid'),
        // Newznab's name and the one some clients read (Prowlarr reads audio-search).
        search('music-search', 'q'),
        search('audio-search', 'q'),
        search('book-search', 'q'),
      ]),
      el('categories', {}, categories),
    ]),
  );
}

/** A decimal as Torznab wants it: a period, no exponent, no trailing zeros. */
function decimal(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

interface ItemContext {
  site: Site;
  mapping: CategoryMapping;
  key: string;
  now: number;
  windows: Array<{ starts_at: number; ends_at: number; upload_factor: number; download_factor: number }>;
  tokens: ReadonlySet<number>;
}

function item(c: ItemContext, r: ListingRow): string {
  const base = c.site.publicUrl;
  const download = `${base}/api/torznab/download/${r.id}?apikey=${encodeURIComponent(c.key)}`;
  const cats = itemCategories(c.mapping, r.category_id);
  const f = effectiveFactors(r, c.windows, c.tokens.has(r.id), c.now);
  const rules = c.site.config.rules;
  const attr = (name: string, value: string | number) => el('torznab:attr', { name, value });
  const infohash = r.info_hash_v1 ?? (r.info_hash_v2 ? r.info_hash_v2.slice(0, 40) : null);
  return el('item', {}, [
    text('title', r.name),
    text('guid', `${base}/t/${r.id}`, { isPermaLink: 'true' }),
    text('link', download),
    text('comments', `${base}${torrentPath(r)}#comments`),
    text('pubDate', rfc822(r.created_at)),
    text('size', r.size),
    ...cats.map((id) => text('category', id)),
    el('enclosure', { url: download, length: r.size, type: 'application/x-bittorrent' }),
    ...cats.map((id) => attr('category', id)),
    attr('size', r.size),
    attr('files', r.file_count),
    attr('grabs', r.times_completed),
    attr('seeders', r.seeders),
    attr('leechers', r.leechers),
    attr('peers', r.seeders + r.leechers),
    ...(infohash ? [attr('infohash', infohash)] : []),
    attr('downloadvolumefactor', decimal(f.download)),
    attr('uploadvolumefactor', decimal(f.upload)),
    // The hit-and-run rule: seed `hnr_seed_time` OR reach `hnr_ratio` on the torrent.
    ...(rules.hnr_enabled && rules.hnr_ratio > 0 ? [attr('minimumratio', decimal(rules.hnr_ratio))] : []),
    ...(rules.hnr_enabled ? [attr('minimumseedtime', rules.hnr_seed_time)] : []),
  ]);
}

async function searchAnswer(site: Site, fn: SearchFunction, p: Record<string, unknown>, user: User, key: string): Promise<string> {
  const params = parseSearchParams(fn, p);
  const mapping = await loadMapping(site.db);
  const legs = planSearch(mapping, params);
  const scope = await listingScope(site);
  const page = await runSearch(site.db, legs, params.offset, params.limit, scope);
  const rows = withLiveCounts(site.tracker, page.rows);
  const now = site.now();
  const sf = await siteFactors(site.db, now);
  const windows = sf ? [{ starts_at: now, ends_at: sf.until, upload_factor: sf.upload, download_factor: sf.download }] : [];
  const ids = rows.map((r) => r.id);
  const tokens =
    ids.length === 0
      ? new Set<number>()
      : new Set(
          (
            await site.db
              .selectFrom('freeleech_token_use')
              .select('torrent_id')
              .where('user_id', '=', user.id)
              .where('torrent_id', 'in', ids)
              .where('expires_at', '>', now)
              .execute()
          ).map((t) => t.torrent_id),
        );
  const ctx: ItemContext = { site, mapping, key, now, windows, tokens };
  const name = site.config.site.name;
  return xmlDocument(
    el('rss', { version: '2.0', 'xmlns:torznab': TORZNAB_NS, 'xmlns:newznab': NEWZNAB_NS }, [
      el('channel', {}, [
        text('title', name),
        text('description', `${name} Torznab`),
        text('link', `${site.publicUrl}/`),
        text('language', site.config.site.default_locale),
        el('newznab:response', { offset: params.offset, total: page.total }),
        ...rows.map((r) => item(ctx, r)),
      ]),
    ]),
  );
}

export function torznabRoutes(scope: FastifyInstance, site: Site): void {
  installApiGuards(scope, site);

  const window = site.config.api.rate_window;
  scope.setErrorHandler(async (err, req, reply) => {
    if (reply.sent) return reply;
    if (err instanceof TorznabError) return sendError(req, reply, err, window);
    if (err instanceof ApiError) return sendError(req, reply, fromApiError(err), window);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return sendError(req, reply, new TorznabError(201, null, status), window);
    req.log.error({ err }, 'torznab request failed');
    return sendError(req, reply, new TorznabError(900, null, 500), window);
  });

  const api = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = paramsOf(req);
    const t = param(p, 't').toLowerCase();
    if (t === '') throw new TorznabError(200, 't');
    if (t === 'caps') {
      const mapping = await loadMapping(site.db);
      return reply.type(XML_TYPE).header('Cache-Control', 'no-store').send(capsDocument(site, mapping));
    }
    if (!(FUNCTIONS as readonly string[]).includes(t)) throw new TorznabError(UNAVAILABLE.has(t) ? 203 : 202, t.slice(0, 40));
    const key = rawKey(req, p);
    const principal = await authenticate(site, req, 'read', key, 'personal');
    const body = await searchAnswer(site, t as SearchFunction, p, principal.user, key!);
    return reply.type(RSS_TYPE).header('Cache-Control', 'private, no-store').send(body);
  };
  for (const path of API_PATHS) {
    scope.get(path, api);
    scope.post(path, api);
  }

  scope.get<{ Params: { id: string } }>(DOWNLOAD_PATH, async (req, reply) => {
    const key = rawKey(req, paramsOf(req));
    const principal = await authenticate(site, req, 'read', key, 'personal');
    const id = parseId(req.params.id);
    if (id === null) throw new TorznabError(300, null, 404);
    const { details, body } = await downloadFor(site, principal.user, id);
    return sendTorrentFile(reply, details.torrent, body);
  });
}
