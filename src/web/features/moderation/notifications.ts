/**
 * Notifications on the site: the /notifications page and the unread count in the header.
 *
 * A notification's text is the message `<feature>.notify.<kind>` of whichever feature defines it
 * (moderation, discipline, joining, lawful, community; a kind may also be written
 * `<feature>.<kind>`), filled with the notification's data; a
 * `link` in the data (a path on this site) makes the text a link. Unknown kinds still show, with a
 * generic text.
 *
 * The count reaches the layout through `ctx.unreadNotifications`, filled before the handlers of
 * page requests (GET, a member logged in; not static files).
 */
import type { FastifyInstance } from 'fastify';
import { listNotifications, markNotificationsRead, unreadNotifications, type NotificationData } from '../../../site/notifications.js';
import type { Site } from '../../../site/site.js';
import type { RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { catalogs, type MessageKey } from '../../messages.js';

declare module '../../context.js' {
  interface RequestContext {
    /** Unread notifications of the member (page requests only; undefined elsewhere). */
    unreadNotifications?: number;
  }
}

const FEATURES = ['moderation', 'discipline', 'joining', 'lawful', 'community', 'members'] as const;

/** Paths whose answers are not pages (no header to fill). */
const NOT_PAGES = /^\/(static\/|healthz|readyz|rss\/|search\/suggest|opensearch\.xml)|\/download$|\.svg$/;

export function installUnreadCount(app: FastifyInstance, site: Site): void {
  app.addHook('preHandler', async (req) => {
    const ctx = req.ctx;
    if (req.method !== 'GET' || !ctx?.user || NOT_PAGES.test(req.url.split('?')[0]!)) return;
    ctx.unreadNotifications = await unreadNotifications(site.db, ctx.user.id);
  });
}

/**
 * The message key of a notification kind, or null when no feature defines it: `<feature>.notify.<kind>`,
 * or `<feature>.notify.<rest>` for a kind written `<feature>.<rest>`.
 */
export function notificationKey(kind: string): MessageKey | null {
  const dot = kind.indexOf('.');
  if (dot > 0 && (FEATURES as readonly string[]).includes(kind.slice(0, dot))) {
    const key = `${kind.slice(0, dot)}.notify.${kind.slice(dot + 1)}`;
    if (key in catalogs.en) return key as MessageKey;
  }
  for (const f of FEATURES) {
    const key = `${f}.notify.${kind}`;
    if (key in catalogs.en) return key as MessageKey;
  }
  return null;
}

/** A path on this site (not `//host`), or null. */
export function localLink(v: unknown): string | null {
  return typeof v === 'string' && /^\/(?![/\\])/.test(v) ? v : null;
}

export function notificationText(ctx: RequestContext, kind: string, data: NotificationData): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(data)) params[k] = v === null ? '' : v;
  const key = notificationKey(kind);
  return key ? ctx.t(key, params) : ctx.t('moderation.notifications.unknown', { kind });
}

export async function notificationsBody(ctx: RequestContext, site: Site, userId: number): Promise<Html> {
  const { t, locale } = ctx;
  const list = await listNotifications(site.db, userId, 100);
  const body = html`<h1>${t('moderation.notifications.title')}</h1>
${
  list.length === 0
    ? html`<p class="empty">${t('moderation.notifications.empty')}</p>`
    : html`<ol class="notifications">${list.map((n) => {
        const text = notificationText(ctx, n.kind, n.data);
        const link = localLink(n.data.link);
        return html`<li class="notification${n.read_at === null ? ' unread' : ''}">
  ${n.read_at === null ? html`<span class="badge">${t('moderation.notifications.new')}</span> ` : ''}${link ? html`<a href="${link}">${text}</a>` : text}
  <span class="note"><time datetime="${new Date(n.created_at * 1000).toISOString()}">${formatDate(locale, n.created_at)}</time></span>
</li>`;
      })}</ol>`
}`;
  // Seen: the header count drops from the next page on.
  await markNotificationsRead(site.db, userId, site.now());
  return body;
}
