/**
 * Top lists (T411's): the 100 most active torrents (seeders + leechers, as last copied from the
 * tracker), and the most completed in the last day, week or month (completions recorded in
 * user_torrent.completed_at). Results are kept for TOP_CACHE_MS: these lists change slowly and
 * counting completions reads the whole window.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.js';
import { listingRows, type ListingRow } from './search.js';

export const TOP_PERIODS = ['active', 'today', 'week', 'month'] as const;
export type TopPeriod = (typeof TOP_PERIODS)[number];
export const TOP_SIZE = 100;
export const TOP_CACHE_MS = 60_000;

const WINDOWS: Readonly<Record<Exclude<TopPeriod, 'active'>, number>> = { today: 86_400, week: 7 * 86_400, month: 30 * 86_400 };

export interface TopRow extends ListingRow {
  /** Completions in the window (today, week, month); seeders + leechers for 'active'. */
  score: number;
}

interface CacheEntry {
  at: number;
  rows: Promise<TopRow[]>;
}
const cache = new WeakMap<object, Map<string, CacheEntry>>();

/** Forgets cached top lists (tests, or after bulk changes). */
export function clearTopCache(db: Kysely<Database>): void {
  cache.delete(db);
}

function notAdult(): RawBuilder<unknown> {
  return sql`(t.category_id is null or t.category_id not in (select c.id from category c left join category p on p.id = c.parent_id where c.adult = 1 or p.adult = 1))`;
}

/**
 * A top list. `now` in epoch seconds; `hideAdult` for visitors; `verifiedOnly` when listings
 * are limited to verified torrents. Cached per list for TOP_CACHE_MS
 * (`nowMs` drives the cache, for tests).
 */
export async function topTorrents(
  db: Kysely<Database>,
  period: TopPeriod,
  o: { now: number; hideAdult?: boolean; limit?: number; nowMs?: number; verifiedOnly?: boolean },
): Promise<TopRow[]> {
  const limit = Math.min(TOP_SIZE, Math.max(1, Math.trunc(o.limit ?? TOP_SIZE)));
  const key = `${period}:${o.hideAdult ? 1 : 0}:${limit}:${o.verifiedOnly ? 1 : 0}`;
  const nowMs = o.nowMs ?? Date.now();
  let byKey = cache.get(db);
  if (!byKey) cache.set(db, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit && nowMs - hit.at < TOP_CACHE_MS) return hit.rows;
  const entry: CacheEntry = { at: nowMs, rows: computeTop(db, period, o.now, !!o.hideAdult, limit, !!o.verifiedOnly) };
  byKey.set(key, entry);
  entry.rows.catch(() => {
    if (byKey.get(key) === entry) byKey.delete(key);
  });
  return entry.rows;
}

async function computeTop(db: Kysely<Database>, period: TopPeriod, now: number, hideAdult: boolean, limit: number, verifiedOnly: boolean): Promise<TopRow[]> {
  const where: RawBuilder<unknown>[] = [sql`t.status = 'active'`];
  if (hideAdult) where.push(notAdult());
  if (verifiedOnly) where.push(sql`t.verified = 1`);
  let scored: Array<{ id: number; score: number }>;
  if (period === 'active') {
    scored = await mostActive(db, where, limit);
  } else {
    const since = now - WINDOWS[period];
    const r = await sql<{ id: number; n: number }>`select ut.torrent_id as id, count(*) as n
      from user_torrent ut join torrent t on t.id = ut.torrent_id
      where ut.completed_at >= ${since} and ${sql.join(where, sql` and `)}
      group by ut.torrent_id order by n desc, ut.torrent_id desc limit ${limit}`.execute(db);
    scored = r.rows.map((x) => ({ id: Number(x.id), score: Number(x.n) }));
  }
  const rows = await listingRows(db, scored.map((s) => s.id));
  const scores = new Map(scored.map((s) => [s.id, s.score]));
  return rows.map((r) => ({ ...r, score: scores.get(r.id) ?? 0 }));
}

/**
 * The most active torrents without sorting the whole table by seeders + leechers (Fagin's
 * threshold algorithm on the (status, seeders) and (status, leechers) indexes): the top K by
 * seeders and the top K by leechers are candidates; a torrent outside both has at most s_K + l_K
 * (the K-th values), so when the list's last sum exceeds that, the list is exact. K grows until it
 * does, or until the indexes are read to the end.
 */
async function mostActive(db: Kysely<Database>, where: RawBuilder<unknown>[], limit: number): Promise<Array<{ id: number; score: number }>> {
  const w = sql.join(where, sql` and `);
  type Row = { id: number; seeders: number; leechers: number; times_completed: number };
  const top = async (col: 'seeders' | 'leechers', k: number) =>
    (await sql<Row>`select t.id, t.seeders, t.leechers, t.times_completed from torrent t where ${w} order by t.${sql.raw(col)} desc, t.id desc limit ${k}`.execute(db)).rows.map((r) => ({
      id: Number(r.id),
      seeders: Number(r.seeders),
      leechers: Number(r.leechers),
      completed: Number(r.times_completed),
    }));
  for (let k = Math.max(limit, 200); ; k *= 4) {
    const bySeeders = await top('seeders', k);
    const byLeechers = await top('leechers', k);
    const candidates = new Map<number, { id: number; score: number; completed: number }>();
    for (const r of [...bySeeders, ...byLeechers]) candidates.set(r.id, { id: r.id, score: r.seeders + r.leechers, completed: r.completed });
    const ranked = [...candidates.values()]
      .filter((c) => c.score > 0)
      .sort((a, b) => b.score - a.score || b.completed - a.completed || b.id - a.id)
      .slice(0, limit);
    const exhausted = bySeeders.length < k || byLeechers.length < k;
    const bound = (bySeeders[k - 1]?.seeders ?? 0) + (byLeechers[k - 1]?.leechers ?? 0);
    if (exhausted || (ranked.length === limit && ranked[limit - 1]!.score > bound) || bound === 0) {
      return ranked.map((c) => ({ id: c.id, score: c.score }));
    }
  }
}
