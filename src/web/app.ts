/**
 * The website (Fastify). Built, not started: `buildWebApp(deps)` returns the app; the composition
 * root listens. Each feature lives in `features/<name>/` (routes, pages, messages) and registers
 * its routes here; cross-cutting concerns (request context, CSRF, security headers, errors,
 * static assets) are installed once for all.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Site } from '../site/site.js';
import { redactUrl } from '../shared/log.js';
import { HttpError, installContext, LoginRequired, RedirectSent, translator } from './context.js';
import { errorPage } from './layout.js';
import { installSecurityHeaders } from './security.js';
import { routes as accounts } from './features/accounts/routes.js';
import { routes as catalogue } from './features/catalogue/routes.js';
import { routes as upload } from './features/upload/routes.js';
import { routes as browse } from './features/browse/routes.js';
import { routes as torrent } from './features/torrent/routes.js';
import { routes as members } from './features/members/routes.js';
import { routes as rss } from './features/rss/routes.js';
import { routes as moderation } from './features/moderation/routes.js';
import { routes as discipline } from './features/discipline/routes.js';
import { routes as joining } from './features/joining/routes.js';
import { routes as lawful } from './features/lawful/routes.js';
import { routes as community } from './features/community/routes.js';
import { routes as apitokens } from './features/apitokens/routes.js';
import { routes as torznab } from './features/torznab/routes.js';
import { registerApis } from '../api/routes.js';

export { escapeHtml } from './html.js';

export interface WebDeps {
  site: Site;
  /** False while starting or stopping. */
  ready: () => boolean;
}

const MIME: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function loadAssets(): Map<string, { body: Buffer; type: string; etag: string }> {
  const dir = fileURLToPath(new URL('./assets/', import.meta.url));
  const out = new Map<string, { body: Buffer; type: string; etag: string }>();
  const walk = (sub: string) => {
    for (const e of readdirSync(dir + sub, { withFileTypes: true })) {
      const rel = sub + e.name;
      if (e.isDirectory()) walk(rel + '/');
      else {
        const body = readFileSync(dir + rel);
        out.set(rel, { body, type: MIME[extname(rel)] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` });
      }
    }
  };
  walk('');
  return out;
}

export function buildWebApp(deps: WebDeps): FastifyInstance {
  const { site } = deps;
  const app = Fastify({
    loggerInstance: site.log.child({ component: 'web' }),
    // Our own onResponse line replaces Fastify's request logging (URLs redacted there).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: site.config.web.trust_proxy.length > 0 ? [...site.config.web.trust_proxy] : false,
    bodyLimit: site.config.site.max_torrent_bytes + 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  void app.register(cookie);
  void app.register(formbody, { bodyLimit: 1024 * 1024 });
  void app.register(multipart, {
    limits: {
      fileSize: Math.max(site.config.site.max_torrent_bytes, site.config.site.max_nfo_bytes),
      files: 2,
      fields: 200,
      fieldSize: 1024 * 1024,
    },
  });

  void app.register(async (scope) => {
    installSecurityHeaders(scope, site);
    installContext(scope, site);

    scope.setErrorHandler(async (err, req, reply) => {
      if (err instanceof RedirectSent || reply.sent) return reply;
      if (err instanceof LoginRequired) return reply.redirect(`/login?next=${encodeURIComponent(err.next)}`, 303);
      const ctx = req.ctx ?? null;
      const t = ctx?.t ?? translator(site.config.site.default_locale);
      let status = 500;
      let message = t('common.error.server');
      if (err instanceof HttpError) {
        status = err.statusCode;
        message = t(err.messageKey);
      } else {
        const code = (err as { statusCode?: number }).statusCode;
        if (code === 413 || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          status = 413;
          message = t('common.error.too_large');
        } else if (code && code >= 400 && code < 500) {
          status = code;
          message = t('common.error.bad_request');
        } else {
          req.log.error({ err }, 'request failed');
        }
      }
      if (!ctx) return reply.code(status).type('text/plain; charset=utf-8').send(message);
      return errorPage(reply, ctx, status, message);
    });
    scope.setNotFoundHandler(async (req, reply) => errorPage(reply, req.ctx, 404, req.ctx.t('common.error.not_found')));

    const assets = loadAssets();
    scope.get<{ Params: { '*': string } }>('/static/*', async (req, reply) => {
      const a = assets.get(req.params['*']);
      if (!a) return errorPage(reply, req.ctx, 404, req.ctx.t('common.error.not_found'));
      void reply.header('ETag', a.etag).header('Cache-Control', 'public, max-age=3600');
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    });

    scope.get('/healthz', async () => ({ status: 'ok' }));
    scope.get('/readyz', async (_req, reply) => {
      if (!deps.ready()) return reply.code(503).send({ status: 'starting' });
      try {
        await sql`select 1`.execute(site.db);
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ status: 'database unavailable' });
      }
    });

    for (const feature of [accounts, catalogue, upload, browse, torrent, members, rss, moderation, discipline, joining, lawful, community, apitokens, torznab]) feature(scope, site);
  });
  // The programmatic APIs: their own scopes (token authentication, no cookies, JSON/XML errors).
  registerApis(app, site);
  return app;
}
