/**
 * T411's historical REST API, so that programs written for T411 (Jackett, Sonarr's and Medusa's
 * old providers, FlexGet, CouchPotato, small scripts) work against an Essaim site. Reference:
 * docs/api/t411.md.
 *
 * Served under `api.t411_base_path` (default /t411api: /t411api/auth, ...), and at the root path
 * for requests whose Host is `api.t411_host` (a router constraint: the same calls at /auth, ...,
 * while other hosts keep the website there). Calls:
 *
 *   POST /auth                               {uid, token}                   (auth.ts)
 *   /users/profile/{uid}                     {username, gender, age, avatar, downloaded, uploaded}
 *   /categories/tree, /terms/tree            the taxonomy, shaped as T411's recorded answers
 *   /torrents/search/{query}                 {query, offset, limit, total, torrents: [Torrent]}
 *   /torrents/details/{id}                   {id, name, ..., description (HTML), terms}
 *   /torrents/download/{id}                  the member's personalised .torrent
 *   /torrents/top/{100|today|week|month}     [Torrent]
 *   /bookmarks, /bookmarks/save/{id}, /bookmarks/delete/{ids}
 *
 * Every call but /auth needs a token from /auth, sent raw: `Authorization: <token>`. GET and POST
 * are both accepted (and DELETE for bookmark deletion); parameters come from the query string
 * and, for POST, the form or JSON body. CORS is open (any origin; no cookies are involved).
 * Errors: `{error, code}` (errors.ts), HTTP 200 as T411 did.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { User } from '../../db/schema.js';
import { findUserById } from '../../db/user.repository.js';
import { loadCatalogue } from '../../site/catalogue/catalogue.js';
import { profileAccess } from '../../site/members/profile.js';
import { searchTorrents, listingRows, type SearchInput, type SortKey, type SortOrder } from '../../site/search/search.js';
import { topTorrents, type TopPeriod } from '../../site/search/top.js';
import { listBookmarkedTorrents, withLiveCounts } from '../../site/torrents/read.js';
import type { Site } from '../../site/site.js';
import { sendTorrentFile } from '../../web/features/torrent/download.js';
import { ApiError, authenticate, requestToken } from '../http.js';
import { installApiGuards } from '../routes.js';
import { downloadFor, listingScope, visibleTorrentFor } from '../service.js';
import { t411Login } from './auth.js';
import { deleteBookmarks, parseIdList, saveBookmark } from './bookmarks.js';
import { T411_CODES, T411Error, torrentNotFound, unknownCall } from './errors.js';
import { categoriesTree, t411Details, t411Torrents, termsTree } from './shapes.js';

/** Rows per search page when the client gives no limit (T411's default). */
export const DEFAULT_LIMIT = 10;
/** Most rows per search page (Essaim's search cap). */
export const MAX_LIMIT = 200;
/** Most bookmarks listed at once. */
export const MAX_BOOKMARKS = 1000;

const TOP_PERIODS: Readonly<Record<string, TopPeriod>> = { '100': 'active', today: 'today', week: 'week', month: 'month' };

/** T411's `order` names (and a few synonyms) to the site's sort keys. */
const ORDERS: Readonly<Record<string, SortKey>> = {
  name: 'name',
  seeders: 'seeders',
  leechers: 'leechers',
  size: 'size',
  added: 'age',
  age: 'age',
  date: 'age',
  times_completed: 'completed',
  completed: 'completed',
  comments: 'comments',
  category: 'category',
  categoryname: 'category',
};

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-expose-headers': 'Content-Disposition',
  // Answers are per member (and /auth returns a token): never kept by a shared cache.
  'cache-control': 'private, no-store',
};

type Params = Record<string, unknown>;

/** Query string parameters, completed by the body's fields on POST (form or JSON). */
function paramsOf(req: FastifyRequest): Params {
  const q = (req.query ?? {}) as Params;
  const b = req.body;
  if (!b || typeof b !== 'object' || Buffer.isBuffer(b) || Array.isArray(b)) return q;
  return { ...(b as Params), ...q };
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A non-negative integer parameter, or undefined when absent or not a number. */
function intParam(v: unknown): number | undefined {
  const s = first(v);
  if (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0) return s;
  if (typeof s !== 'string' || !/^\s*\d{1,15}\s*$/.test(s)) return undefined;
  return Number(s.trim());
}

/** A positive id from the path, or undefined. */
function idParam(s: string | undefined): number | undefined {
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}

/**
 * Term ids from `term[<typeId>][]=<termId>` (also `term[<typeId>]=<termId>` and
 * `term[<typeId>][<i>]=<termId>`), or a JSON body's `term: {"<typeId>": [<termId>, ...]}`.
 */
export function termParams(p: Params): number[] {
  const ids: number[] = [];
  const add = (v: unknown) => {
    for (const x of Array.isArray(v) ? v : [v]) {
      const n = intParam(x);
      if (n !== undefined && n > 0) ids.push(n);
    }
  };
  for (const [k, v] of Object.entries(p)) {
    if (/^term\[\d{1,15}\](?:\[\d{0,6}\])?$/.test(k)) add(v);
  }
  const nested = p.term;
  if (nested && typeof nested === 'object' && !Array.isArray(nested)) for (const v of Object.values(nested)) add(v);
  return [...new Set(ids)].slice(0, 100);
}

/** The site's search input for T411's search parameters. */
export function searchInputOf(p: Params, text: string): SearchInput {
  const limitAsked = intParam(p.limit);
  const limit = limitAsked === undefined || limitAsked === 0 ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, limitAsked);
  const offset = Math.min(intParam(p.offset) ?? 0, 1_000_000_000);
  // A subcategory (cid or subcat) is narrower than a parent (cat); 0 means every category.
  const sub = intParam(p.cid) || intParam(p.subcat);
  const categoryId = sub || intParam(p.cat) || null;
  const orderName = first(p.order);
  const sort: SortKey = typeof orderName === 'string' && Object.hasOwn(ORDERS, orderName) ? ORDERS[orderName]! : 'age';
  const type = first(p.type);
  // T411's direction is the column's: `added desc` is the newest first, which the site calls
  // `age asc` (its age column is displayed). Default: descending (newest first without `order`).
  const dir: SortOrder = type === 'asc' ? 'asc' : 'desc';
  const order: SortOrder = sort === 'age' ? (dir === 'asc' ? 'desc' : 'asc') : dir;
  return { text, categoryId, terms: termParams(p), sort, order, offset, limit };
}

/** The fields of a multipart body (no file expected: one is a malformed request). */
async function multipartFields(req: FastifyRequest): Promise<Record<string, string | string[]>> {
  const out: Record<string, string | string[]> = {};
  for await (const part of req.parts({ limits: { fields: 100, fieldSize: 64 * 1024, files: 0 } })) {
    if (part.type === 'file') {
      part.file.resume();
      continue;
    }
    const value = typeof part.value === 'string' ? part.value : String(part.value);
    const prev = out[part.fieldname];
    out[part.fieldname] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(value));
}

function errorReply(reply: FastifyReply, err: T411Error): FastifyReply {
  if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
  return reply.code(err.status).type('application/json; charset=utf-8').send(JSON.stringify({ error: err.message, code: err.code }));
}

/** ApiError (shared token checks, guards, torrent access) to T411's errors. */
function fromApiError(err: ApiError, site: Site): T411Error {
  switch (err.code) {
    case 'unauthorized':
      return new T411Error(T411_CODES.invalidToken, 'Invalid token');
    case 'token_expired':
      return new T411Error(T411_CODES.tokenExpired, 'Token has expired, please log in again');
    case 'account_disabled':
      return new T411Error(T411_CODES.accountDisabled, 'Account is disabled');
    case 'not_found':
      return torrentNotFound();
    case 'email_unverified':
      return new T411Error(T411_CODES.emailUnverified, 'Verify your email address on the site before downloading');
    case 'rate_limited':
      return new T411Error(T411_CODES.tooManyRequests, err.message, 429, site.config.api.rate_window);
    case 'forbidden':
      return new T411Error(T411_CODES.addressBanned, err.message, 403);
    case 'insufficient_scope':
      return new T411Error(T411_CODES.invalidToken, 'Invalid token');
    case 'bad_request':
    case 'validation_failed':
    case 'payload_too_large':
      return new T411Error(T411_CODES.badRequest, err.message, err.status);
    default:
      site.log.error({ code: err.code }, 't411 api: unexpected API error');
      return new T411Error(T411_CODES.internal, 'Internal error', 500);
  }
}

/** The route paths of the base path and host forms, normalised ("" when not served). */
export function t411BasePath(configured: string): string {
  const p = configured.trim().replace(/\/+$/, '');
  if (p === '') return '';
  return p.startsWith('/') ? p : `/${p}`;
}

/** A host name as a router constraint: that name, any case, with or without a port. */
export function hostConstraint(host: string): RegExp | null {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (h === '') return null;
  return new RegExp(`^${h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.?(?::\\d{1,5})?$`, 'i');
}

export function t411Routes(scope: FastifyInstance, site: Site): void {
  const base = t411BasePath(site.config.api.t411_base_path);
  const host = hostConstraint(site.config.api.t411_host);
  if (base === '' && !host) {
    site.log.warn('t411 api: neither api.t411_base_path nor api.t411_host is set; not served');
    return;
  }

  // CORS first, so that every answer (errors of the guards included) carries it.
  scope.addHook('onRequest', async (_req, reply) => {
    void reply.headers(CORS_HEADERS);
  });
  installApiGuards(scope, site);
  // Some clients post multipart forms (PHP's curl given an array): their fields become the body.
  scope.addHook('preValidation', async (req) => {
    if (req.isMultipart()) req.body = await multipartFields(req);
  });

  scope.setErrorHandler(async (err, req, reply) => {
    if (err instanceof T411Error) return errorReply(reply, err);
    if (err instanceof ApiError) return errorReply(reply, fromApiError(err, site));
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return errorReply(reply, new T411Error(T411_CODES.badRequest, status === 413 ? 'Request too large' : 'Malformed request', status));
    }
    req.log.error({ err }, 't411 api: request failed');
    return errorReply(reply, new T411Error(T411_CODES.internal, 'Internal error', 500));
  });

  const add = (methods: HTTPMethods[], path: string, handler: RouteHandlerMethod) => {
    if (base !== '') scope.route({ method: methods, url: `${base}${path}`, handler });
    if (host) scope.route({ method: methods, url: path === '' ? '/' : path, handler, constraints: { host } });
  };
  const READ: HTTPMethods[] = ['GET', 'POST'];

  /** The member the request's token speaks for (T411 tokens only), per-token limit counted. */
  const member = async (req: FastifyRequest): Promise<User> => (await authenticate(site, req, 'read', requestToken(req), 't411')).user;

  add(['POST'], '/auth', async (req, reply) => sendJson(reply, await t411Login(site, req)));

  add(READ, '/users/profile/:uid', async (req, reply) => {
    const viewer = await member(req);
    const uid = idParam((req.params as { uid?: string }).uid);
    const user = uid === undefined ? undefined : await findUserById(site.db, uid);
    if (!user || user.deleted_at !== null) throw new T411Error(T411_CODES.userNotFound, 'User not found');
    const access = profileAccess(user, viewer);
    // T411 had gender, age and an avatar; Essaim keeps none of them: empty strings. Traffic is
    // given only when the member's privacy level shows it to this viewer (else empty strings).
    return sendJson(reply, {
      username: user.username,
      gender: '',
      age: '',
      avatar: '',
      downloaded: access.stats ? String(user.downloaded) : '',
      uploaded: access.stats ? String(user.uploaded) : '',
    });
  });

  add(READ, '/categories/tree', async (req, reply) => {
    await member(req);
    return sendJson(reply, categoriesTree(await loadCatalogue(site.db)));
  });

  add(READ, '/terms/tree', async (req, reply) => {
    await member(req);
    return sendJson(reply, termsTree(await loadCatalogue(site.db)));
  });

  const search = async (req: FastifyRequest, reply: FastifyReply, query: string) => {
    await member(req);
    const input = searchInputOf(paramsOf(req), query.replace(/\+/g, ' '));
    const scopeOpts = await listingScope(site);
    const r = await searchTorrents(site.db, { ...input, ...scopeOpts });
    const torrents = await t411Torrents(site.db, withLiveCounts(site.tracker, r.rows));
    return sendJson(reply, { query, offset: r.offset, limit: r.limit, total: String(r.total), torrents });
  };
  add(READ, '/torrents/search', async (req, reply) => search(req, reply, ''));
  add(READ, '/torrents/search/:query', async (req, reply) => search(req, reply, (req.params as { query?: string }).query ?? ''));

  add(READ, '/torrents/details/:id', async (req, reply) => {
    const user = await member(req);
    const id = idParam((req.params as { id?: string }).id);
    if (id === undefined) throw torrentNotFound();
    const details = await visibleTorrentFor(site, user, id);
    return sendJson(reply, await t411Details(site.db, details, await loadCatalogue(site.db), { externalImages: site.config.web.external_images }));
  });

  add(READ, '/torrents/download/:id', async (req, reply) => {
    const user = await member(req);
    const id = idParam((req.params as { id?: string }).id);
    if (id === undefined) throw torrentNotFound();
    const { details, body } = await downloadFor(site, user, id);
    return sendTorrentFile(reply, details.torrent, body);
  });

  add(READ, '/torrents/top/:period', async (req, reply) => {
    await member(req);
    const period = TOP_PERIODS[(req.params as { period?: string }).period ?? ''];
    if (!period) throw unknownCall();
    const { verifiedOnly } = await listingScope(site);
    const rows = await topTorrents(site.db, period, { now: site.now(), verifiedOnly });
    return sendJson(reply, await t411Torrents(site.db, withLiveCounts(site.tracker, rows)));
  });

  add(READ, '/bookmarks', async (req, reply) => {
    const user = await member(req);
    const p = paramsOf(req);
    const limit = Math.min(MAX_BOOKMARKS, intParam(p.limit) || MAX_BOOKMARKS);
    const offset = intParam(p.offset) ?? 0;
    const marked = await listBookmarkedTorrents(site.db, user.id, { limit, offset, viewer: user });
    const rows = await listingRows(site.db, marked.map((m) => m.id));
    return sendJson(reply, await t411Torrents(site.db, withLiveCounts(site.tracker, rows)));
  });

  // The torrent's id is the bookmark's id (bookmarks.ts): `save` answers it, `delete` takes them.
  add(READ, '/bookmarks/save/:id', async (req, reply) => {
    const user = await member(req);
    const id = idParam((req.params as { id?: string }).id);
    if (id === undefined) throw torrentNotFound();
    await visibleTorrentFor(site, user, id);
    let result: 'saved' | 'exists';
    try {
      result = await saveBookmark(site.db, user.id, id, site.now());
    } catch (err) {
      req.log.error({ err }, 't411 api: bookmark save failed');
      throw new T411Error(T411_CODES.bookmarkSaveFailed, 'Internal error while saving the bookmark');
    }
    if (result === 'exists') throw new T411Error(T411_CODES.bookmarkExists, 'Bookmark already exists');
    return sendJson(reply, String(id));
  });

  add(['GET', 'POST', 'DELETE'], '/bookmarks/delete/:ids', async (req, reply) => {
    const user = await member(req);
    const n = await deleteBookmarks(site.db, user.id, parseIdList((req.params as { ids?: string }).ids ?? ''));
    if (n === 0) throw new T411Error(T411_CODES.bookmarkNotFound, 'Bookmark not found');
    return sendJson(reply, n);
  });

  // Browsers' CORS preflights, anywhere in the API.
  const preflight: RouteHandlerMethod = async (_req, reply) => reply.code(204).header('access-control-max-age', '86400').send();
  add(['OPTIONS'], '', preflight);
  add(['OPTIONS'], '/*', preflight);

  // Anything else under the base path (or on the API host): a JSON answer, not the site's page.
  const unknown: RouteHandlerMethod = async () => {
    throw unknownCall();
  };
  if (base !== '') scope.route({ method: ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'], url: base, handler: unknown });
  add(['GET', 'POST', 'DELETE', 'PUT', 'PATCH'], '/*', unknown);
}
