/**
 * The torrent pages:
 *
 *   GET  /t/<id>                   short link: 301 to the canonical URL
 *   GET  /torrents/<id>            301 to the canonical URL
 *   GET  /torrents/<id>/<slug>     the torrent page (a wrong slug: 301 to the canonical one)
 *   GET  /torrents/<id>/download   the .torrent personalised for the member (members only)
 *   POST /torrents/<id>/bookmark   adds or removes a bookmark, back to the page with a flash
 *   GET  /bookmarks                the member's bookmarks
 *
 * Deleted torrents answer 404 with the reason of the deletion; pending ones exist only for their
 * uploader and the staff (404 for everybody else, so that their existence does not leak). Torrents
 * of adult categories need a login, as T411 hid that section from visitors.
 */
import { factorRoutes, factorsSection } from './factors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isBookmarked, toggleBookmark } from '../../../site/members/bookmarks.js';
import {
  getStoredMetainfo,
  getTorrentDetails,
  listBookmarkedTorrents,
  listTorrentFiles,
  liveCounts,
  torrentVisibility,
  withLiveCounts,
  type TorrentDetails,
} from '../../../site/torrents/read.js';
import type { Site } from '../../../site/site.js';
import { HttpError, setFlash } from '../../context.js';
import { html } from '../../html.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import { mustVerifyEmail } from '../../../site/joining/verify.js';
import { personalisedTorrent, sendTorrentFile } from './download.js';
import { canonicalSlug, parseId, shortPath, torrentPath } from './links.js';
import { memberOrLogin } from './login.js';
import { deletedBody, torrentPageBody } from './page.js';
import { renderTorrentList } from './table.js';
import { commentsSection, loadTorrentCommunity, reactionsSection } from '../community/torrent-section.js';
import { moderationPanel } from '../moderation/panel.js';

type IdParams = { Params: { id: string } };

/**
 * The torrent of a request if the viewer may see it; otherwise the answer (404 page, deletion page,
 * login redirect) has been sent and null is returned.
 */
async function visibleTorrent(site: Site, req: FastifyRequest, reply: FastifyReply, idParam: string): Promise<TorrentDetails | null> {
  const ctx = req.ctx;
  const id = parseId(idParam);
  const details = id === null ? undefined : await getTorrentDetails(site.db, id);
  if (!details) {
    void errorPage(reply, ctx, 404, ctx.t('torrent.not_found'));
    return null;
  }
  const vis = torrentVisibility(details.torrent, ctx.user);
  // A duplicate merged into another torrent leads to the one kept.
  if (vis === 'deleted' && details.torrent.merged_into !== null) {
    void reply.redirect(shortPath(details.torrent.merged_into), 301);
    return null;
  }
  if (vis === 'deleted') {
    void sendPage(reply, ctx, { title: ctx.t('torrent.deleted.title'), body: deletedBody(ctx, details.torrent) }, 404);
    return null;
  }
  if (vis === 'hidden') {
    void errorPage(reply, ctx, 404, ctx.t('torrent.not_found'));
    return null;
  }
  if (!ctx.user && (details.category?.adult === 1 || details.parent?.adult === 1)) {
    memberOrLogin(req, reply);
    return null;
  }
  return details;
}

export function routes(app: FastifyInstance, site: Site): void {
  const redirectToCanonical = async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
    const details = await visibleTorrent(site, req, reply, req.params.id);
    if (!details) return reply;
    return reply.redirect(torrentPath(details.torrent), 301);
  };
  app.get<IdParams>('/t/:id', redirectToCanonical);
  app.get<IdParams>('/torrents/:id', redirectToCanonical);

  app.get<{ Params: { id: string; slug: string } }>('/torrents/:id/:slug', async (req, reply) => {
    const ctx = req.ctx;
    const details = await visibleTorrent(site, req, reply, req.params.id);
    if (!details) return reply;
    const tor = details.torrent;
    if (req.params.slug !== canonicalSlug(tor)) return reply.redirect(torrentPath(tor), 301);
    const [files, bookmarked, moderation, factors] = await Promise.all([
      listTorrentFiles(site.db, tor.id),
      ctx.user ? isBookmarked(site.db, ctx.user.id, tor.id) : Promise.resolve(false),
      moderationPanel(ctx, details),
      factorsSection(ctx, site, tor),
    ]);
    const counts = liveCounts(site.tracker, [tor])[0]!;
    const canonical = `${site.publicUrl}${torrentPath(tor)}`;
    const community = await loadTorrentCommunity(site, ctx.user, tor, torrentPath(tor), (req.query as Record<string, unknown>).comments);
    return sendPage(reply, ctx, {
      title: tor.name,
      head: html`<link rel="canonical" href="${canonical}">`,
      body: torrentPageBody(ctx, { details, files, counts, bookmarked, moderation, factors, reactions: reactionsSection(ctx, community), comments: commentsSection(ctx, community) }),
    });
  });

  app.get<IdParams>('/torrents/:id/download', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const details = await visibleTorrent(site, req, reply, req.params.id);
    if (!details) return reply;
    const tor = details.torrent;
    // New accounts verify their address first (src/site/joining/verify.ts).
    if (mustVerifyEmail(site, user)) throw new HttpError(403, 'joining.verify.download_refused');
    const stored = await getStoredMetainfo(site.db, tor.id);
    if (!stored) throw new HttpError(404, 'torrent.no_metainfo');
    return sendTorrentFile(reply, tor, personalisedTorrent(site, stored, tor, user.passkey));
  });

  factorRoutes(app, site);

  app.post<IdParams>('/torrents/:id/bookmark', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const details = await visibleTorrent(site, req, reply, req.params.id);
    if (!details) return reply;
    const r = await toggleBookmark(site.db, user.id, details.torrent.id, site.now());
    setFlash(reply, r === 'added' ? 'torrent.bookmark.added' : 'torrent.bookmark.removed');
    const back = (req.body as Record<string, unknown> | undefined)?.back;
    return reply.redirect(back === '/bookmarks' ? '/bookmarks' : torrentPath(details.torrent), 303);
  });

  app.get('/bookmarks', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const rows = withLiveCounts(site.tracker, await listBookmarkedTorrents(site.db, user.id, { viewer: user, limit: 1000 }));
    return sendPage(reply, ctx, {
      title: ctx.t('torrent.bookmarks.title'),
      body: html`<h1>${ctx.t('torrent.bookmarks.title')}</h1>
${renderTorrentList(ctx, rows, {
  caption: ctx.t('torrent.bookmarks.caption'),
  empty: ctx.t('torrent.bookmarks.empty'),
  showStatus: true,
  extra: [
    {
      header: ctx.t('torrent.bookmarks.actions'),
      cell: (r) => html`<form method="post" action="/torrents/${r.id}/bookmark" class="inline">${csrfField(ctx)}<input type="hidden" name="back" value="/bookmarks"><button type="submit" class="link">${ctx.t('torrent.bookmark.remove')}<span class="visually-hidden"> ${r.name}</span></button></form>`,
    },
  ],
})}`,
    });
  });
}
