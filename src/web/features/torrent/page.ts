/** The torrent page. */
import { renderDescription } from '../../../markup/render.js';
import { healthOf, isStaff, showUploader, type SwarmNumbers, type TorrentDetails } from '../../../site/torrents/read.js';
import type { RequestContext } from '../../context.js';
import { formatDate, formatNumber, formatSize } from '../../format.js';
import { html, raw, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import { buildFileTree, renderFileTree } from './file-tree.js';
import { browseCategoryPath, torrentPath } from './links.js';
import { plural } from './plural.js';

export interface TorrentPageData {
  details: TorrentDetails;
  files: ReadonlyArray<{ path: string; size: number }>;
  counts: SwarmNumbers;
  bookmarked: boolean;
  /** Moderation: the uploader's pending notice, the staff's actions, the report link (features/moderation/panel.ts). */
  moderation?: Html;
  /** Rating and thanks (features/community/torrent-section.ts), under the facts. */
  reactions?: Html;
  /** Comments (features/community/torrent-section.ts), at the end of the page. */
  comments?: Html;
  /** Freeleech badges and the token button (features/torrent/factors.ts), under the actions. */
  factors?: Html;
}

function localName(ctx: RequestContext, o: { name_en: string; name_fr: string }): string {
  return ctx.locale === 'fr' ? o.name_fr : o.name_en;
}

export function healthLabel(ctx: RequestContext, seeders: number, leechers: number): { level: ReturnType<typeof healthOf>; text: string } {
  const level = healthOf(seeders, leechers);
  const s = plural(ctx, seeders, 'torrent.count.seeders.one', 'torrent.count.seeders.other');
  const l = plural(ctx, leechers, 'torrent.count.leechers.one', 'torrent.count.leechers.other');
  return { level, text: ctx.t(`torrent.health.${level}`, { seeders: s, leechers: l }) };
}

export function torrentPageBody(ctx: RequestContext, d: TorrentPageData): Html {
  const { t, locale, user, site } = ctx;
  const { torrent: tor, category, parent, uploader, terms } = d.details;
  const health = healthLabel(ctx, d.counts.seeders, d.counts.leechers);

  const categoryLinks: Html[] = [];
  if (parent) categoryLinks.push(html`<a href="${browseCategoryPath(parent.id)}">${localName(ctx, parent)}</a>`);
  if (category) categoryLinks.push(html`<a href="${browseCategoryPath(category.id)}">${localName(ctx, category)}</a>`);

  // Terms grouped by type, each a link to the subcategory's listing filtered by that term.
  const groups: Array<{ name: string; terms: Html[] }> = [];
  for (const term of terms) {
    const typeName = locale === 'fr' ? term.typeName_fr : term.typeName_en;
    let g = groups[groups.length - 1];
    if (!g || g.name !== typeName) groups.push((g = { name: typeName, terms: [] }));
    const href = category ? browseCategoryPath(category.id, term.id) : `/browse?term=${term.id}`;
    g.terms.push(html`<a href="${href}">${localName(ctx, term)}</a>`);
  }

  let uploaderHtml: Html;
  if (!uploader) uploaderHtml = html`${t('common.anonymous')}`;
  else if (tor.anonymous !== 1) uploaderHtml = html`<a href="/u/${uploader.id}">${uploader.username}</a>`;
  else if (showUploader(tor, user)) uploaderHtml = html`${t('common.anonymous')} (<a href="/u/${uploader.id}">${uploader.username}</a>)`;
  else uploaderHtml = html`${t('common.anonymous')}`;

  const actions = user
    ? html`<div class="torrent-actions">
<a class="button download" href="/torrents/${tor.id}/download" rel="nofollow">${t('torrent.download')}</a>
<form method="post" action="/torrents/${tor.id}/bookmark" class="inline">
${csrfField(ctx)}
<button type="submit"${d.bookmarked ? html` class="bookmarked"` : ''} aria-pressed="${d.bookmarked ? 'true' : 'false'}">${d.bookmarked ? t('torrent.bookmark.remove') : t('torrent.bookmark.add')}</button>
</form>
</div>`
    : html`<p class="torrent-actions"><a class="button" href="/login?next=${encodeURIComponent(torrentPath(tor))}">${t('torrent.download_login')}</a></p>`;

  const description = tor.description.trim()
    ? raw(renderDescription(tor.description, tor.description_format, { externalImages: site.config.web.external_images }))
    : null;

  return html`<article class="torrent-page">
<h1>${tor.name}</h1>
${tor.status === 'pending' ? html`<p class="notice pending">${t('torrent.pending_notice')}</p>` : ''}
${actions}
${d.factors}
${d.moderation}
<dl class="facts">
<dt>${t('torrent.category')}</dt><dd>${categoryLinks.length > 0 ? html`${categoryLinks.map((l, i) => (i === 0 ? l : html` › ${l}`))}` : t('torrent.no_category')}</dd>
${groups.map((g) => html`<dt>${g.name}</dt><dd class="tags">${g.terms}</dd>`)}
<dt>${t('torrent.uploader')}</dt><dd>${uploaderHtml}</dd>
<dt>${t('torrent.added')}</dt><dd><time datetime="${new Date(tor.created_at * 1000).toISOString()}">${formatDate(locale, tor.created_at)}</time></dd>
<dt>${t('torrent.size')}</dt><dd>${formatSize(t, locale, tor.size)} (${plural(ctx, d.files.length, 'torrent.files.count_one', 'torrent.files.count')})</dd>
${tor.info_hash_v1 ? html`<dt>${t('torrent.info_hash_v1')}</dt><dd><code class="hash">${tor.info_hash_v1}</code></dd>` : ''}
${tor.info_hash_v2 ? html`<dt>${t('torrent.info_hash_v2')}</dt><dd><code class="hash">${tor.info_hash_v2}</code></dd>` : ''}
<dt>${t('torrent.seeders')}</dt><dd class="seeders">${formatNumber(locale, d.counts.seeders)}</dd>
<dt>${t('torrent.leechers')}</dt><dd class="leechers">${formatNumber(locale, d.counts.leechers)}</dd>
<dt>${t('torrent.completed')}</dt><dd>${formatNumber(locale, tor.times_completed)}</dd>
<dt>${t('torrent.health')}</dt><dd class="health health-${health.level}">${health.text}</dd>
${isStaff(user) ? html`<dt>${t('torrent.status')}</dt><dd>${t(`torrent.status.${tor.status}`)}</dd>` : ''}
</dl>
${d.reactions}
<section class="description-section" aria-labelledby="h-description">
<h2 id="h-description">${t('torrent.description')}</h2>
${description ? html`<div class="description">${description}</div>` : html`<p class="empty">${t('torrent.no_description')}</p>`}
</section>
${tor.nfo ? html`<section aria-labelledby="h-nfo"><h2 id="h-nfo">${t('torrent.nfo')}</h2><pre class="nfo">${tor.nfo}</pre></section>` : ''}
<section aria-labelledby="h-files">
<h2 id="h-files">${t('torrent.files')}</h2>
${d.files.length > 0 ? renderFileTree(ctx, buildFileTree(d.files)) : html`<p class="empty">${t('torrent.no_files')}</p>`}
</section>
${d.comments}
</article>`;
}

/** The 404 page of a deleted torrent, saying why it was removed. */
export function deletedBody(ctx: RequestContext, tor: { name: string; deleted_reason: string | null; deleted_at: number | null }): Html {
  const { t, locale } = ctx;
  return html`<h1>${t('torrent.deleted.title')}</h1>
<p class="error">${t('torrent.deleted.text', { name: tor.name })}</p>
${tor.deleted_reason ? html`<p>${t('torrent.deleted.reason')} <q class="reason">${tor.deleted_reason}</q></p>` : ''}
${tor.deleted_at ? html`<p>${t('torrent.deleted.when', { date: formatDate(locale, tor.deleted_at) })}</p>` : ''}`;
}
