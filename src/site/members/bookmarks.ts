/** A member's bookmarks: toggle and lookup (the list is listBookmarkedTorrents in torrents/read.ts). */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export async function isBookmarked(db: Kysely<Database>, userId: number, torrentId: number): Promise<boolean> {
  const r = await db.selectFrom('bookmark').select('id').where('user_id', '=', userId).where('torrent_id', '=', torrentId).executeTakeFirst();
  return r !== undefined;
}

/**
 * Adds the bookmark when the member has none on this torrent, removes it otherwise. Two toggles
 * racing end in one state or the other, never in an error (the insert ignores a duplicate).
 */
export async function toggleBookmark(db: Kysely<Database>, userId: number, torrentId: number, now: number): Promise<'added' | 'removed'> {
  const del = await db.deleteFrom('bookmark').where('user_id', '=', userId).where('torrent_id', '=', torrentId).executeTakeFirst();
  if (Number(del.numDeletedRows) > 0) return 'removed';
  await db
    .insertInto('bookmark')
    .values({ user_id: userId, torrent_id: torrentId, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'torrent_id']).doNothing())
    .execute();
  return 'added';
}

/** Removes a bookmark; true when there was one. */
export async function removeBookmark(db: Kysely<Database>, userId: number, torrentId: number): Promise<boolean> {
  const del = await db.deleteFrom('bookmark').where('user_id', '=', userId).where('torrent_id', '=', torrentId).executeTakeFirst();
  return Number(del.numDeletedRows) > 0;
}
