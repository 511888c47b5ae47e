/**
 * Torrent access shared by every API, so that each applies the site's own rules: who may see a
 * torrent (pending ones: their uploader and the staff; deleted ones: nobody), whether listings
 * are limited to verified torrents, and the member's personalised .torrent file.
 */
import type { Site } from '../site/site.js';
import type { User } from '../db/schema.js';
import { getStoredMetainfo, getTorrentDetails, torrentVisibility, type TorrentDetails } from '../site/torrents/read.js';
import { listingsVerifiedOnly } from '../site/moderation/settings.js';
import { personalisedTorrent } from '../web/features/torrent/download.js';
import { ApiError, assertMayDownload } from './http.js';

/** The torrent if the member may see it; ApiError 404 otherwise (deleted, pending for others, unknown). */
export async function visibleTorrentFor(site: Site, user: User, id: number): Promise<TorrentDetails> {
  const details = Number.isSafeInteger(id) && id > 0 ? await getTorrentDetails(site.db, id) : undefined;
  if (!details || torrentVisibility(details.torrent, user) !== 'visible') throw new ApiError(404, 'not_found', 'No such torrent.');
  return details;
}

/** The member's personalised copy of a torrent (their passkey in the announce URLs). */
export async function downloadFor(site: Site, user: User, id: number): Promise<{ details: TorrentDetails; body: Buffer }> {
  const details = await visibleTorrentFor(site, user, id);
  assertMayDownload(site, user);
  const stored = await getStoredMetainfo(site.db, details.torrent.id);
  if (!stored) throw new ApiError(404, 'not_found', 'This torrent has no .torrent file.');
  return { details, body: personalisedTorrent(site, stored, details.torrent, user.passkey) };
}

/** Listing options every API applies for a member: verified-only when the staff set it. */
export async function listingScope(site: Site): Promise<{ verifiedOnly: boolean; hideAdult: false }> {
  return { verifiedOnly: await listingsVerifiedOnly(site.db), hideAdult: false };
}
