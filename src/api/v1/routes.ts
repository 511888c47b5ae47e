/**
 * Essaim's own JSON API, /api/v1, with its OpenAPI document (GET /api/openapi.json) and the
 * reference page generated from it (GET /api/docs).
 *
 *   GET    /api/v1/torrents                 list and search (read)
 *   GET    /api/v1/torrents/{id}            details with files, terms, description, NFO (read)
 *   GET    /api/v1/torrents/{id}/download   the member's personalised .torrent (read)
 *   POST   /api/v1/torrents                 upload, multipart (upload)
 *   GET    /api/v1/categories               the category tree with term types and terms (read)
 *   GET    /api/v1/me                       the member's statistics (read)
 *   GET    /api/v1/bookmarks                the member's bookmarks (read)
 *   PUT    /api/v1/bookmarks/{id}           bookmark a torrent: 201, or 200 if already there (read)
 *   DELETE /api/v1/bookmarks/{id}           remove a bookmark: 204 (read)
 *
 * Every route declares its schemas (src/api/v1/schemas.ts); the token is checked in an onRequest
 * hook from the scope the route's documentation names, so that a route cannot forget it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiScope, User } from '../../db/schema.js';
import { loadCatalogue } from '../../site/catalogue/catalogue.js';
import type { Site } from '../../site/site.js';
import { sendTorrentFile } from '../../web/features/torrent/download.js';
import { installSecurityHeaders } from '../../web/security.js';
import { authenticate } from '../http.js';
import { buildOpenApi, collectOperations, packageVersion, type OpenApiDocument } from '../openapi.js';
import { installApiGuards } from '../routes.js';
import { downloadFor } from '../service.js';
import type { ApiPrincipal } from '../tokens.js';
import { installErrorHandler, installNotFoundHandler } from './errors.js';
import { addBookmark, deleteBookmark, listBookmarks, me } from './members.js';
import { renderReference } from './reference.js';
import {
  AUTH_ERRORS,
  Bookmark,
  BookmarkList,
  CategoryTree,
  errors,
  IdParams,
  LangQuery,
  ListQuery,
  Member,
  PageQuery,
  TorrentDetails,
  TorrentList,
  UploadForm,
  UploadResult,
} from './schemas.js';
import { answerLocale, listTorrents, torrentDetails, upload, type ListQueryValue } from './torrents.js';

export const API_DESCRIPTION = `Essaim's JSON API: search and read the torrent directory, download personalised .torrent files, upload, and manage bookmarks, with the same rules as the website.

Authentication: every /api/v1 call needs a personal API token, created on the account page (API tokens) and shown once. Send it as \`Authorization: Bearer <token>\` (preferred), as an \`X-Api-Key\` header, or as the \`apikey\` query parameter (it may then end up in logs along the way: prefer the header).

Scopes: a token carries scopes. \`read\` lists, searches, reads details, downloads .torrent files, reads the member's own statistics and manages bookmarks; \`upload\` uploads torrents.

Errors: every error answer is JSON \`{ "error": { "code", "message", "details"? } }\` with the matching HTTP status: 400 bad_request (a parameter is invalid; the message names it), 401 unauthorized / token_expired / account_disabled, 403 insufficient_scope / forbidden / email_unverified, 404 not_found, 409 conflict (the torrent is already on the site, or blocked), 413 payload_too_large, 422 validation_failed (upload problems, field by field, in \`details\`), 429 rate_limited (see Retry-After), 500 internal.

Rate limits: requests are counted per token and per IP address within a window (the site's api.rate_limit, api.rate_limit_ip and api.rate_window settings).`;

const TAGS = [
  { name: 'Torrents', description: 'List, search, read, download and upload torrents.' },
  { name: 'Catalogue', description: 'Categories, term types and terms.' },
  { name: 'Member', description: 'The member the token belongs to.' },
  { name: 'Bookmarks', description: 'The member\'s bookmarks.' },
];

const SECURITY = [
  { name: 'bearerAuth', scheme: { type: 'http', scheme: 'bearer', description: 'A personal API token: `Authorization: Bearer es_…`. Scopes: `read`, `upload`.' } },
  { name: 'apiKeyHeader', scheme: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The same token in an X-Api-Key header.' } },
  { name: 'apiKeyQuery', scheme: { type: 'apiKey', in: 'query', name: 'apikey', description: 'The same token as the apikey query parameter (prefer a header: URLs end up in logs).' } },
];

const RESPONSE_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '204': 'Done; no content',
  '400': 'A parameter is invalid (bad_request; the message names it)',
  '401': 'No token, or the token is unknown, revoked or expired, or the account is disabled',
  '403': 'The token lacks the scope, the address is banned, or the email must be verified first',
  '404': 'No such torrent, or not visible to this member',
  '409': 'The torrent is already on the site, or its info hash is blocked',
  '413': 'The request is too large',
  '415': 'Unsupported content type',
  '422': 'The upload was refused: the problems are listed field by field',
  '429': 'Too many requests: wait (Retry-After) and try again',
  '500': 'Unexpected server error',
};

type Id = { Params: { id: number } };

export function v1Routes(scope: FastifyInstance, site: Site): void {
  installApiGuards(scope, site);
  // The reference page is HTML: the website's CSP and headers (no inline script or style).
  installSecurityHeaders(scope, site);
  installErrorHandler(scope, site);
  const ops = collectOperations(scope);

  // The token, checked for the scope the route documents, before anything else runs.
  const principals = new WeakMap<FastifyRequest, ApiPrincipal>();
  scope.addHook('onRequest', async (req) => {
    const needed = req.routeOptions.config?.openapi?.scope;
    if (needed) principals.set(req, await authenticate(site, req, needed as ApiScope));
  });
  const member = (req: FastifyRequest): User => {
    const p = principals.get(req);
    if (!p) throw new Error('route without authentication');
    return p.user;
  };

  void scope.register(
    async (v1) => {
      installNotFoundHandler(v1);
      v1.addHook('onSend', async (_req, reply, payload) => {
        if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'private, no-store');
        return payload;
      });

      v1.get<{ Querystring: ListQueryValue }>(
        '/torrents',
        {
          schema: { querystring: ListQuery, response: { 200: TorrentList, ...errors(...AUTH_ERRORS) } },
          config: {
            openapi: {
              operationId: 'listTorrents',
              summary: 'List and search torrents',
              description:
                'The listing of the site: active torrents (pending ones are not listed), newest first by default, filtered by text (the search language), category and terms. Seeders and leechers are live.',
              tags: ['Torrents'],
              scope: 'read',
              example: { query: { q: 'vikings -hdtv', limit: 20 } },
            },
          },
        },
        async (req) => listTorrents(site, member(req), req.query),
      );

      v1.get<Id & { Querystring: { lang?: string } }>(
        '/torrents/:id',
        {
          schema: { params: IdParams, querystring: LangQuery, response: { 200: TorrentDetails, ...errors(...AUTH_ERRORS, 404) } },
          config: {
            openapi: {
              operationId: 'getTorrent',
              summary: 'Torrent details',
              description: 'The torrent with its files, terms, rendered description and NFO. Pending torrents are seen only by their uploader and the staff; deleted ones are 404.',
              tags: ['Torrents'],
              scope: 'read',
              example: { path: { id: 42 } },
            },
          },
        },
        async (req) => torrentDetails(site, member(req), req.params.id, req.query.lang),
      );

      v1.get<Id>(
        '/torrents/:id/download',
        {
          schema: { params: IdParams, response: errors(...AUTH_ERRORS, 404) },
          config: {
            openapi: {
              operationId: 'downloadTorrent',
              summary: 'Download the personalised .torrent',
              description: 'The .torrent with the member\'s private announce URLs (their passkey): keep it private. The info hash is the one the site lists.',
              tags: ['Torrents'],
              scope: 'read',
              rawResponses: { '200': { contentType: 'application/x-bittorrent', description: 'The .torrent file' } },
              example: { path: { id: 42 } },
            },
          },
        },
        async (req, reply) => {
          const { details, body } = await downloadFor(site, member(req), req.params.id);
          return sendTorrentFile(reply, details.torrent, body);
        },
      );

      v1.post(
        '/torrents',
        {
          schema: { response: { 201: UploadResult, ...errors(...AUTH_ERRORS, 409, 413, 415, 422) } },
          config: {
            openapi: {
              operationId: 'uploadTorrent',
              summary: 'Upload a torrent',
              description:
                'Multipart upload, as the website\'s upload form. Uploads by members without the right to publish directly wait for moderation (`status: pending`). Every problem is reported at once in `error.details` (422), each naming its field.',
              tags: ['Torrents'],
              scope: 'upload',
              requestBody: { contentType: 'multipart/form-data', schema: UploadForm },
              example: { form: { torrent: '@my.torrent', category: '631', terms: '17,22', title: 'My release', format: 'bbcode', description: '[b]Hello[/b]' } },
            },
          },
        },
        async (req, reply) => reply.code(201).send(await upload(site, member(req), req)),
      );

      v1.get<{ Querystring: { lang?: string } }>(
        '/categories',
        {
          schema: { querystring: LangQuery, response: { 200: CategoryTree, ...errors(...AUTH_ERRORS) } },
          config: {
            openapi: {
              operationId: 'listCategories',
              summary: 'Categories, term types and terms',
              description: 'The category tree; each subcategory lists the term types bound to it and their terms (the ids uploads and searches use).',
              tags: ['Catalogue'],
              scope: 'read',
            },
          },
        },
        async (req) => {
          const locale = answerLocale(site, member(req), req.query.lang);
          const cat = await loadCatalogue(site.db);
          return {
            categories: cat.parents.map((p) => ({
              id: p.id,
              name: p.name(locale),
              slug: p.slug,
              adult: p.adult,
              subcategories: p.children.map((c) => ({
                id: c.id,
                name: c.name(locale),
                slug: c.slug,
                adult: c.adult,
                term_types: c.termTypes.map((tt) => ({
                  id: tt.id,
                  name: tt.name(locale),
                  mode: tt.mode,
                  deprecated: tt.deprecated,
                  terms: tt.termsIn(locale).map((t) => ({ id: t.id, name: t.name(locale), deprecated: t.deprecated })),
                })),
              })),
            })),
          };
        },
      );

      v1.get<{ Querystring: { lang?: string } }>(
        '/me',
        {
          schema: { querystring: LangQuery, response: { 200: Member, ...errors(...AUTH_ERRORS) } },
          config: {
            openapi: {
              operationId: 'getMe',
              summary: 'The current member',
              description: 'Statistics and sharing-rules state of the member the token belongs to. Never any secret (passkey, RSS key, email, password).',
              tags: ['Member'],
              scope: 'read',
            },
          },
        },
        async (req) => me(site, member(req), req.query.lang),
      );

      v1.get<{ Querystring: { offset?: number; limit?: number; lang?: string } }>(
        '/bookmarks',
        {
          schema: { querystring: PageQuery, response: { 200: BookmarkList, ...errors(...AUTH_ERRORS) } },
          config: {
            openapi: {
              operationId: 'listBookmarks',
              summary: 'List bookmarks',
              description: 'The member\'s bookmarks, most recent first (deleted torrents are left out).',
              tags: ['Bookmarks'],
              scope: 'read',
              example: { query: { limit: 50 } },
            },
          },
        },
        async (req) => listBookmarks(site, member(req), req.query),
      );

      v1.put<Id>(
        '/bookmarks/:id',
        {
          schema: { params: IdParams, response: { 200: Bookmark, 201: Bookmark, ...errors(...AUTH_ERRORS, 404) } },
          config: {
            openapi: {
              operationId: 'addBookmark',
              summary: 'Bookmark a torrent',
              description: '201 when the bookmark is new, 200 when it was already there.',
              tags: ['Bookmarks'],
              scope: 'read',
              example: { path: { id: 42 } },
            },
          },
        },
        async (req, reply) => {
          const r = await addBookmark(site, member(req), req.params.id);
          return reply.code(r.created ? 201 : 200).send(r.body);
        },
      );

      v1.delete<Id>(
        '/bookmarks/:id',
        {
          schema: { params: IdParams, response: { 204: { type: 'null', description: 'Removed' }, ...errors(...AUTH_ERRORS, 404) } },
          config: {
            openapi: {
              operationId: 'deleteBookmark',
              summary: 'Remove a bookmark',
              description: '404 when the torrent is not bookmarked.',
              tags: ['Bookmarks'],
              scope: 'read',
              example: { path: { id: 42 } },
            },
          },
        },
        async (req, reply) => {
          await deleteBookmark(site, member(req), req.params.id);
          return reply.code(204).send();
        },
      );
    },
    { prefix: '/api/v1' },
  );

  // The document, built once every route above is registered (the first request comes after).
  let doc: OpenApiDocument | null = null;
  const document = (): OpenApiDocument =>
    (doc ??= buildOpenApi(ops.operations(), {
      title: `${site.config.site.name} API`,
      version: packageVersion(),
      description: API_DESCRIPTION,
      servers: [{ url: site.publicUrl }],
      securitySchemes: SECURITY,
      tags: TAGS,
      responseDescriptions: RESPONSE_DESCRIPTIONS,
    }));

  scope.get('/api/openapi.json', async (_req, reply) => reply.header('Cache-Control', 'public, max-age=300').send(document()));
  scope.get('/api/docs', async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=300').type('text/html; charset=utf-8').send(renderReference(document(), { siteName: site.config.site.name })),
  );
}
