/**
 * The website and JSON API (Fastify). Built, not started: `buildWebApp(deps)` returns the app;
 * the composition root listens. The directory pages arrive with issue #3.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Logger } from '../shared/log.js';
import { redactUrl } from '../shared/log.js';

export interface WebDeps {
  db: Kysely<Database>;
  log: Logger;
  /** Public announce URL template shown to members (with `<passkey>`). */
  announceUrl: string;
  /** False while starting or stopping. */
  ready: () => boolean;
}

export function buildWebApp(deps: WebDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'web' }),
    // Our own onResponse line replaces Fastify's request logging (URLs redacted there).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
  });
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!deps.ready()) return reply.code(503).send({ status: 'starting' });
    try {
      await sql`select 1`.execute(deps.db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database unavailable' });
    }
  });
  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Essaim</title></head><body><h1>Essaim</h1><p>The tracker is running. Announce URL: <code>${escapeHtml(deps.announceUrl)}</code></p></body></html>`;
  });
  return app as unknown as FastifyInstance;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
