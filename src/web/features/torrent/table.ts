/**
 * A plain table of torrents (bookmarks, a member's uploads and current torrents) for lists that
 * are not the search listing: category, name, age, size, completed, seeders, leechers.
 */
import type { RequestContext } from '../../context.js';
import { formatAge, formatNumber, formatSize } from '../../format.js';
import { html, type Html, type HtmlValue } from '../../html.js';
import type { TorrentListRow } from '../../../site/torrents/read.js';
import { browseCategoryPath, torrentPath } from './links.js';

export interface TableColumn<R> {
  header: string;
  cell: (r: R) => HtmlValue;
  num?: boolean;
}

export interface TorrentTableOptions<R extends TorrentListRow> {
  caption: string;
  /** Shown instead of an empty table. */
  empty: string;
  /** Extra columns after the standard ones. */
  extra?: Array<TableColumn<R>>;
  /** Show "pending" next to the name of pending torrents. */
  showStatus?: boolean;
  /** Show "anonymous" next to the name of anonymous uploads (the uploader's own lists). */
  showAnonymous?: boolean;
}

export function renderTorrentList<R extends TorrentListRow>(ctx: RequestContext, rows: readonly R[], o: TorrentTableOptions<R>): Html {
  const { t, locale } = ctx;
  if (rows.length === 0) return html`<p class="empty">${o.empty}</p>`;
  const now = ctx.site.now();
  const extra = o.extra ?? [];
  const catName = (r: R) => (locale === 'fr' ? r.category_name_fr : r.category_name_en);
  return html`<div class="table-wrap"><table class="torrents">
<caption>${o.caption}</caption>
<thead><tr>
<th scope="col">${t('torrent.col.category')}</th>
<th scope="col">${t('torrent.col.name')}</th>
<th scope="col" class="num">${t('torrent.col.age')}</th>
<th scope="col" class="num">${t('torrent.col.size')}</th>
<th scope="col" class="num">${t('torrent.col.completed')}</th>
<th scope="col" class="num">${t('torrent.col.seeders')}</th>
<th scope="col" class="num">${t('torrent.col.leechers')}</th>
${extra.map((c) => html`<th scope="col"${c.num ? html` class="num"` : ''}>${c.header}</th>`)}
</tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr>
<td>${r.category_id !== null && catName(r) ? html`<a href="${browseCategoryPath(r.category_id)}">${catName(r)}</a>` : ''}</td>
<td><a href="${torrentPath(r)}">${r.name}</a>${o.showStatus && r.status === 'pending' ? html` <span class="badge pending">${t('torrent.status.pending')}</span>` : ''}${o.showAnonymous && r.anonymous === 1 ? html` <span class="badge">${t('common.anonymous')}</span>` : ''}</td>
<td class="num">${formatAge(t, now - r.created_at)}</td>
<td class="num">${formatSize(t, locale, r.size)}</td>
<td class="num">${formatNumber(locale, r.times_completed)}</td>
<td class="num seeders">${formatNumber(locale, r.seeders)}</td>
<td class="num leechers">${formatNumber(locale, r.leechers)}</td>
${extra.map((c) => html`<td${c.num ? html` class="num"` : ''}>${c.cell(r)}</td>`)}
</tr>`,
)}
</tbody>
</table></div>`;
}
