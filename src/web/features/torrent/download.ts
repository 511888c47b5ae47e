/**
 * The member's copy of a stored torrent, and the HTTP answer that carries it. Used by the torrent
 * page's download button and by the RSS enclosure links (authenticated by the RSS key).
 *
 * announce: the member's private HTTP announce URL; announce-list: the HTTP tier first, then the
 * UDP one when UDP is enabled (some clients cannot send the passkey over UDP, so HTTP must be
 * tried first); comment: the torrent's short link; created by: the uploader's profile link, or
 * the site's name for an anonymous upload. The info dictionary is copied byte for byte
 * (personaliseTorrent), so the info hash is the stored one.
 */
import type { FastifyReply } from 'fastify';
import { personaliseTorrent } from '../../../metainfo/site-torrent.js';
import type { Site } from '../../../site/site.js';
import { slugify } from '../../format.js';

export interface DownloadableTorrent {
  id: number;
  name: string;
  slug: string | null;
  anonymous: 0 | 1;
  uploader_id: number | null;
}

export function personalisedTorrent(site: Site, stored: Uint8Array, torrent: DownloadableTorrent, passkey: string): Buffer {
  const urls = site.announceUrls(passkey);
  const tiers = urls.udp ? [[urls.http], [urls.udp]] : [[urls.http]];
  const createdBy = torrent.anonymous === 1 || torrent.uploader_id === null ? site.config.site.name : `${site.publicUrl}/u/${torrent.uploader_id}`;
  return personaliseTorrent(stored, {
    announce: urls.http,
    announceList: tiers,
    comment: `${site.publicUrl}/t/${torrent.id}`,
    createdBy,
  });
}

/** RFC 5987 / RFC 8187 value: UTF-8, percent-encoded beyond the attr-char set. */
function extValue(s: string): string {
  return "UTF-8''" + encodeURIComponent(s).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** `attachment; filename="<slug>.torrent"; filename*=UTF-8''<slug>.torrent` */
export function contentDisposition(torrent: Pick<DownloadableTorrent, 'name' | 'slug'>): string {
  const base = torrent.slug || slugify(torrent.name);
  const file = `${base}.torrent`;
  // The slug is ASCII letters, digits and dashes already; the ASCII form is kept safe regardless.
  const ascii = file.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=${extValue(file)}`;
}

/** Sends the .torrent: not cacheable by anybody else (it holds the passkey). */
export function sendTorrentFile(reply: FastifyReply, torrent: Pick<DownloadableTorrent, 'name' | 'slug'>, body: Buffer): FastifyReply {
  return reply
    .code(200)
    .header('Content-Type', 'application/x-bittorrent')
    .header('Content-Disposition', contentDisposition(torrent))
    .header('Cache-Control', 'private, no-store')
    .send(body);
}
