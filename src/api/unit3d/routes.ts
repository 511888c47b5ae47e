/**
 * UNIT3D's torrents API (routes/api.php of UNIT3D), so that tools written for UNIT3D trackers
 * (Prowlarr's UNIT3D definitions, upload assistants) work against an Essaim site:
 *
 *   GET  /api/torrents                      the latest torrents (25 a page, `page`)
 *   GET  /api/torrents/filter               search (filter.ts: UNIT3D's parameters)
 *   GET  /api/torrents/{id}                 one torrent (the resource itself, no `data` wrapper)
 *   POST /api/torrents/upload               multipart upload (upload.ts), token scope `upload`
 *   GET  /api/torrents/download/{id}.torrent the member's personalised .torrent: the resources'
 *                                           `download_link`, authenticated by `rsskey` (the
 *                                           member's RSS key, as UNIT3D's own link) or a token
 *   GET  /api/torrents/prowlarr.yml         Essaim's own: a Prowlarr definition for this site
 *
 * Authentication: a personal API token (scope `read`, `upload` for uploads) as UNIT3D takes it:
 * the `api_token` query (or form) parameter, or `Authorization: Bearer <token>`.
 * Errors are Laravel's: 401 `{"message":"Unauthenticated."}`, 403/404/429 `{"message": ...}`,
 * 422 `{"message", "errors": {field: [...]}}` for bad filter parameters and UNIT3D's
 * `{"success": false, "message": "Validation Error.", "data": {field: [...]}}` for uploads.
 * Listings list what the website lists (active torrents, verified-only when the staff set it);
 * a pending torrent is shown only to its uploader and the staff.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiScope, User } from '../../db/schema.js';
import { listingRows } from '../../site/search/search.js';
import type { Site } from '../../site/site.js';
import { sendTorrentFile } from '../../web/features/torrent/download.js';
import { ApiError, authenticate, requestToken } from '../http.js';
import { installApiGuards } from '../routes.js';
import { downloadFor, visibleTorrentFor } from '../service.js';
import { Params, parseFilter, runFilter, ValidationFailed, type FilterResult, type FilterSpec } from './filter.js';
import { prowlarrDefinition } from './prowlarr.js';
import { torrentResources } from './resource.js';
import { FormUnreadable, readUploadForm, uploadFromForm, type MultipartForm } from './upload.js';

const RSS_KEY_RE = /^[0-9a-f]{32}$/;

function sendApiError(site: Site, reply: FastifyReply, err: ApiError): FastifyReply {
  switch (err.status) {
    case 401:
      // Laravel's answer for the api guard; the reason follows for people reading it.
      return reply.code(401).send({ message: 'Unauthenticated.', error: err.message });
    case 429:
      return reply.code(429).header('Retry-After', String(site.config.api.rate_window)).send({ message: 'Too Many Attempts.' });
    default:
      return reply.code(err.status).send({ message: err.message });
  }
}

export function unit3dRoutes(scope: FastifyInstance, site: Site): void {
  installApiGuards(scope, site);

  // Answers may hold the member's RSS key (download links): nobody else may keep them.
  scope.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('Cache-Control', 'private, no-store');
    return payload;
  });

  scope.setErrorHandler(async (err, req, reply) => {
    if (err instanceof ApiError) return sendApiError(site, reply, err);
    if (err instanceof ValidationFailed) return reply.code(422).send({ message: err.message, errors: err.errors });
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== undefined && code >= 400 && code < 500) return reply.code(code).send({ message: (err as Error).message || 'Bad Request' });
    req.log.error({ err }, 'UNIT3D API request failed');
    return reply.code(500).send({ message: 'Server Error' });
  });

  const member = async (req: FastifyRequest, need: ApiScope = 'read', raw: string | null = requestToken(req)): Promise<User> =>
    (await authenticate(site, req, need, raw, 'personal')).user;

  /** A listing answer: `data`, Laravel's pagination `links` and `meta`. */
  const listing = async (path: string, user: User, p: Params, spec: FilterSpec, result: FilterResult) => {
    const data = await torrentResources(site, user, result.rows);
    const base = `${site.publicUrl}${path}`;
    const url = (n: number) => `${base}?${p.withPage(n)}`;
    const self = p.withoutSecrets();
    const offset = (spec.page - 1) * spec.perPage;
    const from = data.length > 0 ? offset + 1 : null;
    const to = data.length > 0 ? offset + data.length : null;
    const prev = spec.page > 1 ? url(spec.page - 1) : null;
    const next = result.hasMore ? url(spec.page + 1) : null;
    if (result.total === null) {
      return {
        data,
        links: { first: url(1), last: null, prev, next, self: self === '' ? base : `${base}?${self}` },
        meta: { current_page: spec.page, from, path: base, per_page: spec.perPage, to },
      };
    }
    const lastPage = Math.max(1, Math.ceil(result.total / spec.perPage));
    return {
      data,
      links: { first: url(1), last: url(lastPage), prev, next, self: self === '' ? base : `${base}?${self}` },
      meta: { current_page: spec.page, from, last_page: lastPage, path: base, per_page: spec.perPage, to, total: result.total },
    };
  };

  scope.get('/api/torrents', async (req) => {
    const user = await member(req);
    const p = new Params(req.url);
    const spec = parseFilter(p, { filters: false });
    return listing('/api/torrents', user, p, spec, await runFilter(site, user, spec));
  });

  scope.get('/api/torrents/filter', async (req) => {
    const user = await member(req);
    const p = new Params(req.url);
    const spec = parseFilter(p);
    return listing('/api/torrents/filter', user, p, spec, await runFilter(site, user, spec));
  });

  // Not UNIT3D's: a Prowlarr definition for this site (prowlarr.ts), for administrators.
  scope.get('/api/torrents/prowlarr.yml', async (req, reply) => {
    await member(req);
    return reply.type('text/yaml; charset=utf-8').header('Content-Disposition', 'attachment; filename="essaim-unit3d.yml"').send(await prowlarrDefinition(site));
  });

  scope.get<{ Params: { id: string } }>('/api/torrents/:id', async (req) => {
    const user = await member(req);
    const id = /^[1-9]\d{0,15}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    if (!Number.isSafeInteger(id)) throw new ApiError(404, 'not_found', 'No such torrent.');
    await visibleTorrentFor(site, user, id);
    const rows = await listingRows(site.db, [id]);
    if (rows.length === 0) throw new ApiError(404, 'not_found', 'No such torrent.');
    const [resource] = await torrentResources(site, user, rows, null);
    return resource;
  });

  scope.get<{ Params: { file: string } }>('/api/torrents/download/:file', async (req, reply) => {
    const m = /^([1-9]\d{0,15})(?:\.torrent)?$/.exec(req.params.file);
    const id = m ? Number(m[1]) : NaN;
    const key = new Params(req.url).one('rsskey');
    let user: User;
    if (key !== null) {
      const k = key.toLowerCase();
      const owner = RSS_KEY_RE.test(k) ? await site.db.selectFrom('user').selectAll().where('rss_key', '=', k).executeTakeFirst() : undefined;
      if (!owner || owner.enabled !== 1 || owner.deleted_at !== null) throw new ApiError(401, 'unauthorized', 'The RSS key is not valid.');
      user = owner;
    } else {
      user = await member(req);
    }
    if (!Number.isSafeInteger(id)) throw new ApiError(404, 'not_found', 'No such torrent.');
    const { details, body } = await downloadFor(site, user, id);
    return sendTorrentFile(reply, details.torrent, body);
  });

  scope.post('/api/torrents/upload', async (req, reply) => {
    // A token in the header or the query is checked before the body is read; else the form's
    // `api_token` field is (UNIT3D accepts it there too).
    const early = requestToken(req);
    let user = early === null ? null : await member(req, 'upload', early);
    if (!req.isMultipart()) {
      if (!user) throw new ApiError(401, 'unauthorized', 'An API token is required.');
      return reply.code(422).send({ success: false, message: 'Validation Error.', data: { torrent: ['Send the upload as multipart/form-data with the .torrent file in the "torrent" field.'] } });
    }
    let form: MultipartForm;
    try {
      form = await readUploadForm(req, site);
    } catch (err) {
      if (!(err instanceof FormUnreadable)) throw err;
      if (!user) throw new ApiError(401, 'unauthorized', 'An API token is required.');
      return reply.code(422).send({ success: false, message: 'Validation Error.', data: { torrent: [err.message] } });
    }
    if (!user) {
      const raw = form.fields.get('api_token')?.[0]?.trim();
      user = await member(req, 'upload', raw ? raw : null);
    }
    const answer = await uploadFromForm(site, user, form);
    if (!answer.ok) return reply.code(422).send({ success: false, message: 'Validation Error.', data: answer.errors });
    return reply.code(200).send({ success: true, data: answer.downloadLink, message: 'Torrent uploaded successfully.' });
  });

  // Anything else under /api/torrents: a JSON 404 rather than the website's page.
  scope.all('/api/torrents/*', async () => {
    throw new ApiError(404, 'not_found', 'Not found.');
  });
}
