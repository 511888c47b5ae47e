/**
 * Torrent tables outside the search listing (bookmarks, a member's uploads and current torrents):
 * the listing's own table (renderTorrentTable, without sort links), with a status column for the
 * uploader's and the staff's views (pending, anonymous) and any extra columns.
 */
import type { TorrentListRow } from '../../../site/torrents/read.js';
import type { RequestContext } from '../../context.js';
import { html, type HtmlValue } from '../../html.js';
import { renderTorrentTable } from '../browse/listing.js';

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
  /** A status column: "pending" for pending torrents. */
  showStatus?: boolean;
  /** In the status column, "anonymous" for anonymous uploads (the uploader's own lists). */
  showAnonymous?: boolean;
}

export function renderTorrentList<R extends TorrentListRow>(ctx: RequestContext, rows: readonly R[], o: TorrentTableOptions<R>) {
  const { t } = ctx;
  const extra: Array<TableColumn<R>> = [];
  if (o.showStatus || o.showAnonymous) {
    extra.push({
      header: t('torrent.col.status'),
      cell: (r) =>
        html`${o.showStatus && r.status === 'pending' ? html`<span class="badge pending">${t('torrent.status.pending')}</span> ` : ''}${o.showAnonymous && r.anonymous === 1 ? html`<span class="badge">${t('common.anonymous')}</span>` : ''}`,
    });
  }
  extra.push(...(o.extra ?? []));
  return renderTorrentTable(ctx, rows, null, { caption: o.caption, empty: o.empty, extra });
}
