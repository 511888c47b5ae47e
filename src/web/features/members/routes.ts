/**
 * Members' pages:
 *
 *   GET /u/<id>              the profile (members only), within the member's privacy level
 *   GET /u/<id>/traffic.svg  the daily traffic chart of the last 30 days (an SVG image)
 *   GET /my/torrents         the member's own uploads, anonymous and pending ones included
 *
 * What another member sees follows profileAccess (src/site/members/profile.ts): low shows
 * everything; normal hides what the member is seeding and leeching; strong shows only the
 * username, the class and the join date. The member themself and the staff see everything.
 */
import type { FastifyInstance } from 'fastify';
import type { User } from '../../../db/schema.js';
import { classDisplayName } from '../../../site/joining/classes.js';
import { currentActivity, dailyTraffic, profileAccess, trafficLast24Hours, type ActivityRow } from '../../../site/members/profile.js';
import { countUploads, listUploads, withLiveCounts } from '../../../site/torrents/read.js';
import type { Site } from '../../../site/site.js';
import type { RequestContext } from '../../context.js';
import { formatDate, formatRatio, formatSize } from '../../format.js';
import { html, type Html } from '../../html.js';
import { errorPage, sendPage } from '../../layout.js';
import { parseId } from '../torrent/links.js';
import { memberOrLogin } from '../torrent/login.js';
import { renderTorrentList } from '../torrent/table.js';
import { chartText, trafficChartSvg } from './chart.js';
import { rulesSection } from './rules.js';
import { profileActions } from '../community/people-routes.js';
import { viewerCan } from '../../staff.js';

const CHART_DAYS = 30;
const LIST_LIMIT = 100;

async function findMember(site: Site, idParam: string): Promise<User | undefined> {
  const id = parseId(idParam);
  if (id === null) return undefined;
  return site.db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
}

function activityColumns(ctx: RequestContext) {
  return [
    { header: ctx.t('members.col.member_uploaded'), num: true, cell: (r: ActivityRow) => formatSize(ctx.t, ctx.locale, r.member_uploaded) },
    { header: ctx.t('members.col.member_downloaded'), num: true, cell: (r: ActivityRow) => formatSize(ctx.t, ctx.locale, r.member_downloaded) },
  ];
}

function pagination(ctx: RequestContext, base: string, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  const link = (p: number) => `${base}?page=${p}`;
  return html`<nav class="pagination" aria-label="${ctx.t('common.pagination')}">
${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">${ctx.t('common.previous')}</a>` : ''}
<span aria-current="page">${ctx.t('common.page', { n: page })}</span>
${page < pages ? html`<a href="${link(page + 1)}" rel="next">${ctx.t('common.next')}</a>` : ''}
</nav>`;
}

export function routes(app: FastifyInstance, site: Site): void {
  app.get<{ Params: { id: string } }>('/u/:id', async (req, reply) => {
    const viewer = memberOrLogin(req, reply);
    if (!viewer) return reply;
    const ctx = req.ctx;
    const { t, locale } = ctx;
    const m = await findMember(site, req.params.id);
    if (!m) return errorPage(reply, ctx, 404, t('members.not_found'));
    const access = profileAccess(m, viewer);
    const self = viewer.id === m.id;
    const now = site.now();

    const facts: Html[] = [
      // The member class on the ladder (src/site/joining/classes.ts); a role beyond member as a badge.
      html`<dt>${t('members.class')}</dt><dd>${await classDisplayName(site.db, m.class, locale)}${m.role !== 'member' ? html` <span class="badge role">${t(`members.role.${m.role}`)}</span>` : ''}</dd>`,
      html`<dt>${t('members.joined')}</dt><dd><time datetime="${new Date(m.created_at * 1000).toISOString()}">${formatDate(locale, m.created_at)}</time></dd>`,
    ];
    if (access.full && m.enabled !== 1) facts.push(html`<dt>${t('members.status')}</dt><dd class="error">${t('members.disabled')}</dd>`);
    const sections: Html[] = [];

    if (access.stats) {
      const last24 = await trafficLast24Hours(site.db, m.id, now);
      if (m.title) facts.splice(1, 0, html`<dt>${t('members.title_label')}</dt><dd>${m.title}</dd>`);
      facts.push(
        html`<dt>${t('common.uploaded')}</dt><dd>${formatSize(t, locale, m.uploaded)}</dd>`,
        html`<dt>${t('common.downloaded')}</dt><dd>${formatSize(t, locale, m.downloaded)}</dd>`,
        html`<dt>${t('common.ratio')}</dt><dd>${formatRatio(locale, m.uploaded, m.downloaded)}</dd>`,
        html`<dt>${t('members.last24.uploaded')}</dt><dd>${formatSize(t, locale, last24.uploaded)}</dd>`,
        html`<dt>${t('members.last24.downloaded')}</dt><dd>${formatSize(t, locale, last24.downloaded)}</dd>`,
      );
      const days = await dailyTraffic(site.db, m.id, now, CHART_DAYS);
      const text = chartText(ctx, m.username, days);
      sections.push(html`<section aria-labelledby="h-traffic">
<h2 id="h-traffic">${t('members.traffic.heading')}</h2>
<figure class="chart">
<img src="/u/${m.id}/traffic.svg" alt="${text.summary}" width="760" height="260">
<figcaption>${text.title}</figcaption>
</figure>
</section>`);
    }

    if (access.activity) {
      const act = await currentActivity(site.db, m.id, { now, peerTimeout: site.config.tracker.peer_timeout, includePending: access.full, limit: LIST_LIMIT });
      const seeding = withLiveCounts(site.tracker, act.seeding);
      const leeching = withLiveCounts(site.tracker, act.leeching);
      sections.push(html`<section aria-labelledby="h-seeding">
<h2 id="h-seeding">${t('members.seeding.heading', { n: seeding.length })}</h2>
${renderTorrentList(ctx, seeding, { caption: t('members.seeding.caption', { name: m.username }), empty: t('members.seeding.empty'), extra: activityColumns(ctx), showStatus: access.full })}
</section>
<section aria-labelledby="h-leeching">
<h2 id="h-leeching">${t('members.leeching.heading', { n: leeching.length })}</h2>
${renderTorrentList(ctx, leeching, { caption: t('members.leeching.caption', { name: m.username }), empty: t('members.leeching.empty'), extra: activityColumns(ctx), showStatus: access.full })}
</section>`);
    }

    if (access.uploads) {
      const o = { includeAnonymous: access.full, includePending: access.full };
      const [rows, total] = await Promise.all([listUploads(site.db, m.id, { ...o, limit: LIST_LIMIT }), countUploads(site.db, m.id, o)]);
      sections.push(html`<section aria-labelledby="h-uploads">
<h2 id="h-uploads">${t('members.uploads.heading', { n: total })}</h2>
${renderTorrentList(ctx, withLiveCounts(site.tracker, rows), { caption: t('members.uploads.caption', { name: m.username }), empty: t('members.uploads.empty'), showStatus: access.full, showAnonymous: access.full })}
${total > rows.length ? html`<p class="note">${t('members.uploads.more', { shown: rows.length, n: total })}${self ? html` <a href="/my/torrents">${t('common.nav.mytorrents')}</a>` : ''}</p>` : ''}
</section>`);
    }

    // The sharing rules' state (ratio watch, refusal, hit-and-runs): the member and the staff only.
    if (self || access.full) sections.unshift(await rulesSection(ctx, site, m, now));

    const hidden = !access.stats || !access.activity;
    const communityActions = await profileActions(ctx, m);
    const staffLink = !self && (await viewerCan(req, 'user.view_private')) ? html`<p class="staff-link"><a href="/staff/users/${m.id}">${t('discipline.member.staff_link')}</a></p>` : '';
    return sendPage(reply, ctx, {
      title: m.username,
      body: html`<article class="profile">
<h1>${m.username}</h1>
${communityActions}
${self ? html`<p class="note">${t('members.own_privacy', { level: t(`members.privacy.${m.privacy}`) })} <a href="/account">${t('common.nav.account')}</a></p>` : ''}
${!self && access.full ? html`<p class="note">${t('members.staff_view', { level: t(`members.privacy.${m.privacy}`) })}</p>` : ''}
${staffLink}
<dl class="facts">${facts}</dl>
${!self ? html`<p class="moderation-report"><a href="/report/user/${m.id}" rel="nofollow">${t('moderation.report.link_member')}</a></p>` : ''}
${hidden ? html`<p class="note">${t(`members.hidden.${m.privacy === 'strong' ? 'strong' : 'normal'}`)}</p>` : ''}
${sections}
</article>`,
    });
  });

  app.get<{ Params: { id: string } }>('/u/:id/traffic.svg', async (req, reply) => {
    const viewer = memberOrLogin(req, reply);
    if (!viewer) return reply;
    const ctx = req.ctx;
    const m = await findMember(site, req.params.id);
    if (!m || !profileAccess(m, viewer).stats) return errorPage(reply, ctx, 404, ctx.t('members.not_found'));
    const days = await dailyTraffic(site.db, m.id, site.now(), CHART_DAYS);
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('Cache-Control', 'private, max-age=300')
      .send(trafficChartSvg(ctx, m.username, days));
  });

  app.get<{ Querystring: { page?: string } }>('/my/torrents', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const size = site.config.web.page_size;
    const o = { includeAnonymous: true, includePending: true };
    const total = await countUploads(site.db, user.id, o);
    const pages = Math.max(1, Math.ceil(total / size));
    const page = Math.min(pages, Math.max(1, parseId(req.query.page) ?? 1));
    const rows = withLiveCounts(site.tracker, await listUploads(site.db, user.id, { ...o, limit: size, offset: (page - 1) * size }));
    return sendPage(reply, ctx, {
      title: ctx.t('members.my_torrents.title'),
      body: html`<h1>${ctx.t('members.my_torrents.title')}</h1>
<p>${ctx.t('members.my_torrents.count', { n: total })}</p>
${renderTorrentList(ctx, rows, { caption: ctx.t('members.my_torrents.caption'), empty: ctx.t('members.my_torrents.empty'), showStatus: true, showAnonymous: true })}
${pagination(ctx, '/my/torrents', page, pages)}`,
    });
  });
}
