/**
 * RSS 2.0 documents: a channel (title, link, description, language, build date, ttl) and its
 * items (title, link to the torrent page, guid, RFC 822 pubDate, category, a description with the
 * size and category, and an enclosure pointing at the member's RSS download link). Every text and
 * attribute is XML-escaped.
 */
import { formatSize } from '../../format.js';
import { escapeHtml } from '../../html.js';
import type { Locale } from '../../i18n.js';
import type { Translate } from '../../context.js';
import type { TorrentListRow } from '../../../site/torrents/read.js';
import { torrentPath } from '../torrent/links.js';

export interface Channel {
  title: string;
  /** Absolute URL of the matching page on the site. */
  link: string;
  description: string;
  locale: Locale;
  /** Epoch seconds. */
  now: number;
}

/** RFC 822 date (as RSS 2.0 asks), always in GMT. */
export function rfc822(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toUTCString();
}

/** Characters XML 1.0 cannot carry even escaped (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Escapes text for XML content and attributes, dropping what XML cannot hold. */
export function xmlText(s: string): string {
  return escapeHtml(s.replace(NOT_XML, ''));
}

const x = xmlText;

export function renderFeed(
  ch: Channel,
  rows: readonly TorrentListRow[],
  o: { publicUrl: string; rssKey: string; t: Translate },
): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0">',
    '<channel>',
    `<title>${x(ch.title)}</title>`,
    `<link>${x(ch.link)}</link>`,
    `<description>${x(ch.description)}</description>`,
    `<language>${ch.locale}</language>`,
    `<lastBuildDate>${rfc822(ch.now)}</lastBuildDate>`,
    '<ttl>15</ttl>',
  ];
  for (const r of rows) {
    const link = `${o.publicUrl}${torrentPath(r)}`;
    const cat = ch.locale === 'fr' ? r.category_name_fr : r.category_name_en;
    const size = formatSize(o.t, ch.locale, r.size);
    const desc = cat ? o.t('rss.item.description', { size, category: cat, seeders: r.seeders, leechers: r.leechers }) : o.t('rss.item.description_nocat', { size, seeders: r.seeders, leechers: r.leechers });
    const enclosure = `${o.publicUrl}/rss/download/${r.id}?key=${encodeURIComponent(o.rssKey)}`;
    out.push(
      '<item>',
      `<title>${x(r.name)}</title>`,
      `<link>${x(link)}</link>`,
      `<guid isPermaLink="true">${x(`${o.publicUrl}/t/${r.id}`)}</guid>`,
      `<pubDate>${rfc822(r.created_at)}</pubDate>`,
      cat ? `<category>${x(cat)}</category>` : '',
      `<description>${x(desc)}</description>`,
      `<enclosure url="${x(enclosure)}" length="${Math.max(0, Math.trunc(r.size))}" type="application/x-bittorrent"/>`,
      '</item>',
    );
  }
  out.push('</channel>', '</rss>');
  return out.filter((l) => l !== '').join('\n') + '\n';
}
