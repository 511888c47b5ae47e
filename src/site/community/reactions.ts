/**
 * "Thank you" and ratings on torrents. A member thanks a torrent once (thanks_count) and rates it
 * from 1 to 10 once, changing their score at will (rating_sum and rating_count keep the average
 * without reading the votes). Uploaders neither thank nor rate their own torrents.
 *
 * Each change runs in one transaction that first writes the torrent row (which locks it on
 * PostgreSQL), so concurrent votes on one torrent apply one after the other and the counters
 * always equal what the rows say.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { fail, touched, type Result } from './common.js';

export const RATING_MIN = 1;
export const RATING_MAX = 10;

type TorrentRef = { id: number; uploader_id: number | null };

/** Locks the torrent row for the rest of the transaction; false when the torrent does not exist. */
async function lockTorrent(trx: Kysely<Database>, torrentId: number): Promise<boolean> {
  const r = await trx.updateTable('torrent').set((eb) => ({ thanks_count: eb.ref('thanks_count') })).where('id', '=', torrentId).executeTakeFirst();
  return touched(r) === 1;
}

export async function thankTorrent(db: Kysely<Database>, torrent: TorrentRef, userId: number, now: number): Promise<Result<{ thanked: boolean }, 'own' | 'not_found'>> {
  if (torrent.uploader_id === userId) return fail('own');
  return inTransaction(db, async (trx) => {
    if (!(await lockTorrent(trx, torrent.id))) return fail('not_found' as const);
    const ins = await trx
      .insertInto('thanks')
      .values({ torrent_id: torrent.id, user_id: userId, created_at: now })
      .onConflict((oc) => oc.columns(['torrent_id', 'user_id']).doNothing())
      .executeTakeFirst();
    const thanked = touched(ins) === 1;
    if (thanked) await trx.updateTable('torrent').set((eb) => ({ thanks_count: eb('thanks_count', '+', 1) })).where('id', '=', torrent.id).execute();
    return { ok: true as const, thanked };
  });
}

export async function hasThanked(db: Kysely<Database>, torrentId: number, userId: number): Promise<boolean> {
  const r = await db.selectFrom('thanks').select('user_id').where('torrent_id', '=', torrentId).where('user_id', '=', userId).executeTakeFirst();
  return r !== undefined;
}

/** The latest members who thanked a torrent (accounts not deleted), newest first. */
export async function latestThanks(db: Kysely<Database>, torrentId: number, limit = 20): Promise<Array<{ id: number; username: string }>> {
  return db
    .selectFrom('thanks')
    .innerJoin('user', 'user.id', 'thanks.user_id')
    .select(['user.id as id', 'user.username as username'])
    .where('thanks.torrent_id', '=', torrentId)
    .where('user.deleted_at', 'is', null)
    .orderBy('thanks.created_at', 'desc')
    .orderBy('user.id', 'desc')
    .limit(limit)
    .execute();
}

/** A score from a form: an integer from RATING_MIN to RATING_MAX, or null. */
export function parseScore(v: unknown): number | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const s = String(v).trim();
  if (!/^\d{1,2}$/.test(s)) return null;
  const n = Number(s);
  return n >= RATING_MIN && n <= RATING_MAX ? n : null;
}

/** Records or changes a member's score; 'new', 'changed' or 'same'. */
export async function rateTorrent(
  db: Kysely<Database>,
  torrent: TorrentRef,
  userId: number,
  score: number,
  now: number,
): Promise<Result<{ vote: 'new' | 'changed' | 'same' }, 'out_of_range' | 'own' | 'not_found'>> {
  if (!Number.isInteger(score) || score < RATING_MIN || score > RATING_MAX) return fail('out_of_range');
  if (torrent.uploader_id === userId) return fail('own');
  return inTransaction(db, async (trx) => {
    if (!(await lockTorrent(trx, torrent.id))) return fail('not_found' as const);
    const old = await trx.selectFrom('rating').select('score').where('torrent_id', '=', torrent.id).where('user_id', '=', userId).executeTakeFirst();
    if (!old) {
      await trx.insertInto('rating').values({ torrent_id: torrent.id, user_id: userId, score, created_at: now }).execute();
      await trx
        .updateTable('torrent')
        .set((eb) => ({ rating_sum: eb('rating_sum', '+', score), rating_count: eb('rating_count', '+', 1) }))
        .where('id', '=', torrent.id)
        .execute();
      return { ok: true as const, vote: 'new' as const };
    }
    if (old.score === score) return { ok: true as const, vote: 'same' as const };
    await trx.updateTable('rating').set({ score, created_at: now }).where('torrent_id', '=', torrent.id).where('user_id', '=', userId).execute();
    await trx
      .updateTable('torrent')
      .set((eb) => ({ rating_sum: eb('rating_sum', '+', score - old.score) }))
      .where('id', '=', torrent.id)
      .execute();
    return { ok: true as const, vote: 'changed' as const };
  });
}

export async function myRating(db: Kysely<Database>, torrentId: number, userId: number): Promise<number | null> {
  const r = await db.selectFrom('rating').select('score').where('torrent_id', '=', torrentId).where('user_id', '=', userId).executeTakeFirst();
  return r?.score ?? null;
}

/** The average score with one decimal, or null without votes. */
export function averageRating(sum: number, count: number): number | null {
  if (count <= 0) return null;
  return Math.round((sum / count) * 10) / 10;
}
