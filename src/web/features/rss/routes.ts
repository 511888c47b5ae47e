/**
 * RSS feeds, authenticated by the member's RSS key in the URL (`?key=`), never by the passkey:
 * feed readers get shared and synced, and an RSS key can be rotated without touching the tracker.
 *
 *   GET /rss                       the member's feed addresses (members only)
 *   GET /rss/category/<id>?key=    newest torrents of a category (a parent includes its subcategories)
 *   GET /rss/top?key=              the 100 most active torrents
 *   GET /rss/bookmarks?key=        the member's bookmarks
 *   GET /rss/search/<id>?key=      one of the member's saved searches
 *   GET /rss/download/<id>?key=    the .torrent personalised with the key owner's passkey (the
 *                                  enclosures point here, so that readers and clients need no cookie)
 *
 * A missing or wrong key, or a disabled member, gets 403 with a plain-text message.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../../db/schema.js';
import { loadCatalogue, type CatalogueCategory } from '../../../site/catalogue/catalogue.js';
import {
  getStoredMetainfo,
  listBookmarkedTorrents,
  listCategoryTorrents,
  listTopActive,
  torrentVisibility,
  withLiveCounts,
  type TorrentListRow,
} from '../../../site/torrents/read.js';
import { listingsVerifiedOnly } from '../../../site/moderation/settings.js';
import type { Site } from '../../../site/site.js';
import { translator, type Translate } from '../../context.js';
import { html, type Html } from '../../html.js';
import { sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { mustVerifyEmail } from '../../../site/joining/verify.js';
import { personalisedTorrent, sendTorrentFile } from '../torrent/download.js';
import { parseId } from '../torrent/links.js';
import { memberOrLogin } from '../torrent/login.js';
import { renderFeed } from './feed.js';
import { savedSearchTorrents } from './saved-search.js';

const KEY_RE = /^[0-9a-f]{32}$/;
const FEED_SIZE = 50;
const TOP_SIZE = 100;

type KeyQuery = { Querystring: { key?: string } };

/** The member owning the RSS key, or null after a 403 was sent. */
async function keyOwner(site: Site, req: FastifyRequest<KeyQuery>, reply: FastifyReply): Promise<User | null> {
  const t = req.ctx.t;
  const key = typeof req.query.key === 'string' ? req.query.key.toLowerCase() : '';
  const user = KEY_RE.test(key) ? await site.db.selectFrom('user').selectAll().where('rss_key', '=', key).executeTakeFirst() : undefined;
  if (!user) {
    void plain(reply, 403, t('rss.error.key'));
    return null;
  }
  if (user.enabled !== 1) {
    void plain(reply, 403, t('rss.error.disabled'));
    return null;
  }
  return user;
}

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(text + '\n');
}

function feedUrls(site: Site, key: string) {
  const k = `key=${encodeURIComponent(key)}`;
  return {
    top: `${site.publicUrl}/rss/top?${k}`,
    bookmarks: `${site.publicUrl}/rss/bookmarks?${k}`,
    category: (id: number) => `${site.publicUrl}/rss/category/${id}?${k}`,
    search: (id: number) => `${site.publicUrl}/rss/search/${id}?${k}`,
  };
}

export function routes(app: FastifyInstance, site: Site): void {
  const sendFeed = (
    reply: FastifyReply,
    user: User,
    rows: readonly TorrentListRow[],
    ch: (t: Translate) => { title: string; link: string; description: string },
  ) => {
    const locale = user.locale ?? site.config.site.default_locale;
    const t = translator(locale);
    const c = ch(t);
    const body = renderFeed(
      { title: `${site.config.site.name} · ${c.title}`, link: c.link, description: c.description, locale, now: site.now() },
      withLiveCounts(site.tracker, rows),
      { publicUrl: site.publicUrl, rssKey: user.rss_key, t },
    );
    return reply.code(200).type('application/rss+xml; charset=utf-8').header('Cache-Control', 'private, max-age=300').send(body);
  };

  app.get('/rss', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const { t, locale } = ctx;
    const urls = feedUrls(site, user.rss_key);
    const [catalogue, searches] = await Promise.all([
      loadCatalogue(site.db),
      site.db.selectFrom('saved_search').select(['id', 'name']).where('user_id', '=', user.id).orderBy('name').execute(),
    ]);
    // The addresses hold the member's RSS key: no shared cache may keep this page.
    void reply.header('Cache-Control', 'private, no-store');
    const feedLink = (url: string, label: string) => html`<a href="${url}" type="application/rss+xml">${label}</a>`;
    const catItem = (c: CatalogueCategory): Html =>
      html`<li>${feedLink(urls.category(c.id), c.name(locale))}${c.children.length > 0 ? html`<ul>${c.children.map(catItem)}</ul>` : ''}</li>`;
    return sendPage(reply, ctx, {
      title: t('rss.page.title'),
      head: html`<link rel="alternate" type="application/rss+xml" title="${t('rss.feed.top')}" href="${urls.top}">
<link rel="alternate" type="application/rss+xml" title="${t('rss.feed.bookmarks')}" href="${urls.bookmarks}">`,
      body: html`<h1>${t('rss.page.title')}</h1>
<p>${t('rss.page.intro')}</p>
<p class="note">${t('rss.page.private')} <a href="/account">${t('common.nav.account')}</a></p>
<section aria-labelledby="h-rss-general">
<h2 id="h-rss-general">${t('rss.page.general')}</h2>
<ul class="feeds">
<li>${feedLink(urls.top, t('rss.feed.top'))}</li>
<li>${feedLink(urls.bookmarks, t('rss.feed.bookmarks'))}</li>
</ul>
</section>
<section aria-labelledby="h-rss-categories">
<h2 id="h-rss-categories">${t('rss.page.categories')}</h2>
${catalogue.parents.length > 0 ? html`<ul class="feeds">${catalogue.parents.map(catItem)}</ul>` : html`<p class="empty">${t('rss.page.no_categories')}</p>`}
</section>
<section aria-labelledby="h-rss-searches">
<h2 id="h-rss-searches">${t('rss.page.searches')}</h2>
${searches.length > 0 ? html`<ul class="feeds">${searches.map((sv) => html`<li>${feedLink(urls.search(sv.id), sv.name)}</li>`)}</ul>` : html`<p class="empty">${t('rss.page.no_searches')}</p>`}
</section>`,
    });
  });

  app.get<KeyQuery>('/rss/top', async (req, reply) => {
    const user = await keyOwner(site, req, reply);
    if (!user) return reply;
    const rows = await listTopActive(site.db, { limit: TOP_SIZE, verifiedOnly: await listingsVerifiedOnly(site.db) });
    return sendFeed(reply, user, rows, (t) => ({ title: t('rss.feed.top'), link: `${site.publicUrl}/top`, description: t('rss.feed.top_description') }));
  });

  app.get<KeyQuery>('/rss/bookmarks', async (req, reply) => {
    const user = await keyOwner(site, req, reply);
    if (!user) return reply;
    const rows = await listBookmarkedTorrents(site.db, user.id, { viewer: user, limit: FEED_SIZE });
    return sendFeed(reply, user, rows, (t) => ({
      title: t('rss.feed.bookmarks'),
      link: `${site.publicUrl}/bookmarks`,
      description: t('rss.feed.bookmarks_description', { name: user.username }),
    }));
  });

  app.get<KeyQuery & { Params: { id: string } }>('/rss/category/:id', async (req, reply) => {
    const user = await keyOwner(site, req, reply);
    if (!user) return reply;
    const id = parseId(req.params.id);
    const catalogue = await loadCatalogue(site.db);
    const cat = id === null ? undefined : catalogue.category(id);
    if (!cat) return plain(reply, 404, req.ctx.t('rss.error.category'));
    const rows = await listCategoryTorrents(site.db, cat.id, { limit: FEED_SIZE, verifiedOnly: await listingsVerifiedOnly(site.db) });
    const locale = user.locale ?? site.config.site.default_locale;
    const name = cat.parent ? `${cat.parent.name(locale)} › ${cat.name(locale)}` : cat.name(locale);
    return sendFeed(reply, user, rows, (t) => ({
      title: name,
      link: `${site.publicUrl}/browse?category=${cat.id}`,
      description: t('rss.feed.category_description', { category: name }),
    }));
  });

  app.get<KeyQuery & { Params: { id: string } }>('/rss/search/:id', async (req, reply) => {
    const user = await keyOwner(site, req, reply);
    if (!user) return reply;
    const id = parseId(req.params.id);
    const saved =
      id === null
        ? undefined
        : await site.db.selectFrom('saved_search').selectAll().where('id', '=', id).where('user_id', '=', user.id).executeTakeFirst();
    if (!saved) return plain(reply, 404, req.ctx.t('rss.error.search'));
    const rows = await savedSearchTorrents(site.db, saved.query, FEED_SIZE, await listingsVerifiedOnly(site.db));
    return sendFeed(reply, user, rows, (t) => ({
      title: t('rss.feed.search', { name: saved.name }),
      link: `${site.publicUrl}/browse?${saved.query.replace(/^\?/, '')}`,
      description: t('rss.feed.search_description', { name: saved.name }),
    }));
  });

  app.get<KeyQuery & { Params: { id: string } }>('/rss/download/:id', async (req, reply) => {
    const user = await keyOwner(site, req, reply);
    if (!user) return reply;
    const notFound: MessageKey = 'rss.error.torrent';
    const id = parseId(req.params.id);
    const tor = id === null ? undefined : await site.db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirst();
    if (!tor || torrentVisibility(tor, user) !== 'visible') return plain(reply, 404, req.ctx.t(notFound));
    if (mustVerifyEmail(site, user)) return plain(reply, 403, req.ctx.t('joining.verify.download_refused'));
    const stored = await getStoredMetainfo(site.db, tor.id);
    if (!stored) return plain(reply, 404, req.ctx.t(notFound));
    return sendTorrentFile(reply, tor, personalisedTorrent(site, stored, tor, user.passkey));
  });
}
