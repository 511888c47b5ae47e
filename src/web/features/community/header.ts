/**
 * The unread private-messages count in the page header: a preHandler (installed by this
 * feature's routes) reads it once per page request of a logged-in member and leaves it on the
 * request context, where the layout shows it.
 */
import type { FastifyInstance } from 'fastify';
import { unreadMessageCount } from '../../../site/community/private-messages.js';
import type { Site } from '../../../site/site.js';

declare module '../../context.js' {
  interface RequestContext {
    /** Unread private messages of the member (undefined: not counted for this request). */
    unreadMessages?: number;
  }
}

/** Requests that never render a page with the header (static files, feeds, JSON, downloads). */
const NOT_PAGES = /^\/(static\/|healthz|readyz|rss\/|search\/suggest|opensearch\.xml)|\/download$|\.svg$/;

export function installUnreadCount(app: FastifyInstance, site: Site): void {
  app.addHook('preHandler', async (req) => {
    const ctx = req.ctx;
    if (!ctx?.user || req.method !== 'GET' || NOT_PAGES.test(req.url.split('?')[0]!)) return;
    ctx.unreadMessages = await unreadMessageCount(site.db, ctx.user.id);
  });
}
