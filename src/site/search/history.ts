/**
 * A member's recent searches (the last RECENT_SEARCHES, newest first) and saved searches (named,
 * re-runnable, each with its own RSS feed). Both store the listing's query string (q, category,
 * terms, sort), as `parseListingQuery` reads it back.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/errors.js';
import { inTransaction } from '../../db/util.js';

export const RECENT_SEARCHES = 10;
export const MAX_SAVED_SEARCHES = 100;
export const MAX_SAVED_SEARCH_NAME = 100;
/** Longer query strings are not stored (a listing query string is far shorter). */
export const MAX_STORED_QUERY = 4_000;

export interface StoredSearch {
  id: number;
  query: string;
  created_at: number;
}

export interface SavedSearch extends StoredSearch {
  user_id: number;
  name: string;
}

/**
 * Records a search at the top of the member's history: the same query moves up instead of being
 * listed twice; only the last RECENT_SEARCHES are kept.
 */
export async function recordSearch(db: Kysely<Database>, userId: number, query: string, now: number): Promise<void> {
  if (query.length === 0 || query.length > MAX_STORED_QUERY) return;
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom('search_history').where('user_id', '=', userId).where('query', '=', query).execute();
    await trx.insertInto('search_history').values({ user_id: userId, query, created_at: now }).execute();
    const keep = await trx
      .selectFrom('search_history')
      .select('id')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(RECENT_SEARCHES)
      .execute();
    if (keep.length === RECENT_SEARCHES) {
      await trx
        .deleteFrom('search_history')
        .where('user_id', '=', userId)
        .where('id', 'not in', keep.map((k) => k.id))
        .execute();
    }
  });
}

/** The member's recent searches, newest first. */
export async function recentSearches(db: Kysely<Database>, userId: number, limit = RECENT_SEARCHES): Promise<StoredSearch[]> {
  return db
    .selectFrom('search_history')
    .select(['id', 'query', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function clearSearchHistory(db: Kysely<Database>, userId: number): Promise<number> {
  const r = await db.deleteFrom('search_history').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export type SaveSearchResult =
  | { ok: true; id: number }
  | { ok: false; error: 'name_required' | 'name_too_long' | 'duplicate' | 'too_many' | 'query_too_long' };

/** Saves a search under a name (unique per member). */
export async function saveSearch(db: Kysely<Database>, userId: number, name: string, query: string, now: number): Promise<SaveSearchResult> {
  const n = name.trim();
  if (n.length === 0) return { ok: false, error: 'name_required' };
  if (n.length > MAX_SAVED_SEARCH_NAME) return { ok: false, error: 'name_too_long' };
  if (query.length > MAX_STORED_QUERY) return { ok: false, error: 'query_too_long' };
  const count = await db
    .selectFrom('saved_search')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_SAVED_SEARCHES) return { ok: false, error: 'too_many' };
  const existing = await db.selectFrom('saved_search').select('id').where('user_id', '=', userId).where('name', '=', n).executeTakeFirst();
  if (existing) return { ok: false, error: 'duplicate' };
  try {
    const r = await db.insertInto('saved_search').values({ user_id: userId, name: n, query, created_at: now }).returning('id').executeTakeFirstOrThrow();
    return { ok: true, id: r.id };
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, error: 'duplicate' };
    throw err;
  }
}

/** The member's saved searches, by name. */
export async function listSavedSearches(db: Kysely<Database>, userId: number): Promise<SavedSearch[]> {
  return db.selectFrom('saved_search').selectAll().where('user_id', '=', userId).orderBy('name').orderBy('id').execute();
}

/** A saved search by id (whoever owns it: the caller checks). */
export async function findSavedSearch(db: Kysely<Database>, id: number): Promise<SavedSearch | undefined> {
  return db.selectFrom('saved_search').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Deletes one of the member's saved searches; false when it is not theirs or does not exist. */
export async function deleteSavedSearch(db: Kysely<Database>, userId: number, id: number): Promise<boolean> {
  const r = await db.deleteFrom('saved_search').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
