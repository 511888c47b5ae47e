/**
 * Bookmarks as T411's API has them. A member has at most one bookmark per torrent, so the
 * torrent's id serves as the bookmark's id: `save` answers it, `delete` takes a list of them.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Bookmarks the torrent; 'exists' when the member already had it bookmarked. */
export async function saveBookmark(db: Kysely<Database>, userId: number, torrentId: number, now: number): Promise<'saved' | 'exists'> {
  const inserted = await db
    .insertInto('bookmark')
    .values({ user_id: userId, torrent_id: torrentId, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'torrent_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ? 'saved' : 'exists';
}

/** Removes the member's bookmarks of these torrents; the number removed. */
export async function deleteBookmarks(db: Kysely<Database>, userId: number, torrentIds: readonly number[]): Promise<number> {
  if (torrentIds.length === 0) return 0;
  const r = await db.deleteFrom('bookmark').where('user_id', '=', userId).where('torrent_id', 'in', [...torrentIds]).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The torrent ids of `/bookmarks/delete/{ids}`: comma-separated positive integers (others ignored), at most 1000. */
export function parseIdList(s: string): number[] {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const p = part.trim();
    if (!/^\d{1,15}$/.test(p)) continue;
    const n = Number(p);
    if (n > 0) out.add(n);
    if (out.size >= 1000) break;
  }
  return [...out];
}
