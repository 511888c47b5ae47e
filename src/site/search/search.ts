/**
 * The torrent listing and search: text (the search language of query.ts), category (a parent
 * takes its subcategories), terms (AND across term types, OR within one type), sort, pagination.
 * One interface over SQLite FTS5 and PostgreSQL full-text search.
 *
 * Built for a million torrents on SQLite:
 * - two steps: the ids of the page first (only the `torrent` table, its (status, <sort column>)
 *   indexes and the filters), then the page's rows with their category and uploader, by id;
 * - the text filter is a rowid subquery into the full-text index (`t.id in (select rowid from
 *   torrent_search where torrent_search match ?)`); when the words are frequent, the planner is
 *   kept on the sort index (`+t.id`) so that it walks torrents in order and probes the matches,
 *   instead of sorting them all (see chooseTextPlan);
 * - terms as `exists (select 1 from torrent_term where torrent_id = t.id and term_id in (...))`,
 *   one per term type (the primary key (torrent_id, term_id) answers it);
 * - the total is counted up to a cap (`count(*)` over a limited subquery), shown as "10,000+".
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, IntBool, TorrentStatus } from '../../db/schema.js';
import { isPostgres } from './dialect.js';
import { searchWords } from './normalize.js';
import { compileFts5, compileTsquery, parseQuery, type QueryNode } from './query.js';

export const SORT_KEYS = ['category', 'name', 'comments', 'age', 'size', 'completed', 'seeders', 'leechers'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';

export function isSortKey(s: unknown): s is SortKey {
  return typeof s === 'string' && (SORT_KEYS as readonly string[]).includes(s);
}

/** Totals are counted up to this by default; beyond, the result says `totalCapped`. */
export const DEFAULT_COUNT_CAP = 10_000;
export const MAX_LIMIT = 200;

export interface SearchInput {
  /** Search text in the query language (query.ts); empty or absent: no text condition. */
  text?: string | null;
  /** A parent category (with all its subcategories) or a subcategory. */
  categoryId?: number | null;
  /** Term ids: a torrent must carry, for each term type among them, at least one of them. */
  terms?: readonly number[];
  /**
   * Sort column. The order is the order of the column as displayed: `age` ascending lists the
   * youngest first. Default: age ascending (newest first).
   */
  sort?: SortKey;
  order?: SortOrder;
  offset?: number;
  /** Rows per page, 1 to MAX_LIMIT (default 50). */
  limit?: number;
  /** Only torrents approved by the staff (verified = 1). */
  verifiedOnly?: boolean;
  /** Leave out adult categories (visitors who are not logged in). */
  hideAdult?: boolean;
  /** Only torrents without any seeder (database copy of the swarm counts). */
  noSeeders?: boolean;
  /** Only this member's uploads; anonymous ones only with `includeAnonymous`. */
  uploaderId?: number | null;
  includeAnonymous?: boolean;
  /** Only torrents bookmarked by this member. */
  bookmarkedBy?: number | null;
  /** Count the total up to this many (default DEFAULT_COUNT_CAP); 0 skips counting. */
  countCap?: number;
}

/** A row of a torrent listing (the uploader is null when anonymous). */
export interface ListingRow {
  id: number;
  name: string;
  slug: string | null;
  size: number;
  status: TorrentStatus;
  created_at: number;
  seeders: number;
  leechers: number;
  times_completed: number;
  comment_count: number;
  file_count: number;
  anonymous: IntBool;
  verified: IntBool;
  /** Null for anonymous uploads (never leaked into listings). */
  uploader_id: number | null;
  uploader_name: string | null;
  category_id: number | null;
  category_parent_id: number | null;
  category_name_en: string | null;
  category_name_fr: string | null;
  category_icon: string | null;
  category_slug: string | null;
  info_hash_v1: string | null;
  info_hash_v2: string | null;
}

export interface SearchResult {
  rows: ListingRow[];
  /** Matching torrents, at most the count cap. */
  total: number;
  /** True when there are more than `total`. */
  totalCapped: boolean;
  offset: number;
  limit: number;
}

const SORT_COLUMNS: Readonly<Record<SortKey, string>> = {
  category: 'category_id',
  name: 'name',
  comments: 'comment_count',
  age: 'created_at',
  size: 'size',
  completed: 'times_completed',
  seeders: 'seeders',
  leechers: 'leechers',
};

/** The SQL direction of a displayed order (age is displayed, the date is stored). */
function sqlDirection(sort: SortKey, order: SortOrder): 'asc' | 'desc' {
  if (sort === 'age') return order === 'asc' ? 'desc' : 'asc';
  return order;
}

/**
 * One condition of a search. Every condition can check a torrent (`check`, with `t` bound); the
 * selective ones can also list their torrents (`ids`), which the SQLite plan may drive from.
 */
interface Condition {
  /** The check. `indexable: false` hides the column from SQLite's planner (`+t.col`). */
  check(indexable: boolean): RawBuilder<unknown>;
  /** A subquery selecting the ids of the torrents it admits (any status). */
  ids?: RawBuilder<unknown>;
}

interface Filters {
  conditions: Condition[];
  /** Nothing can match (an unknown category). */
  empty: boolean;
}

function clampInt(v: number | undefined | null, min: number, max: number, dflt: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return dflt;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}

const plus = (indexable: boolean) => (indexable ? sql`` : sql`+`);

/** Rows of the full-text index matching a compiled expression. */
function textMatches(pg: boolean, expr: string): RawBuilder<unknown> {
  return pg
    ? sql`select s.torrent_id from torrent_search s where s.document @@ to_tsquery('simple', ${expr})`
    : sql`select rowid from torrent_search where torrent_search match ${expr}`;
}

async function buildFilters(db: Kysely<Database>, input: SearchInput, pg: boolean): Promise<Filters> {
  const conditions: Condition[] = [{ check: (ix) => sql`${plus(ix)}t.status = 'active'` }];
  let empty = false;
  const text = (pg ? compileTsquery : compileFts5)(parseQuery(input.text ?? ''));
  if (text.match) {
    const ids = textMatches(pg, text.match);
    conditions.push({ ids, check: (ix) => sql`${plus(ix)}t.id in (${ids})` });
  }
  if (text.exclude) {
    const ids = textMatches(pg, text.exclude);
    conditions.push({ check: () => sql`t.id not in (${ids})` });
  }

  if (input.categoryId != null || input.hideAdult) {
    const cats = await db.selectFrom('category').select(['id', 'parent_id', 'adult']).execute();
    const byId = new Map(cats.map((c) => [c.id, c]));
    const isAdult = (id: number) => {
      const c = byId.get(id);
      return !!c && (c.adult === 1 || (c.parent_id !== null && byId.get(c.parent_id)?.adult === 1));
    };
    if (input.categoryId != null) {
      const c = byId.get(input.categoryId);
      let ids = c ? [c.id, ...cats.filter((x) => x.parent_id === c.id).map((x) => x.id)] : [];
      if (input.hideAdult) ids = ids.filter((id) => !isAdult(id));
      if (ids.length === 0) empty = true;
      else {
        const list = sql.join(ids.sort((a, b) => a - b));
        conditions.push({
          check: (ix) => sql`${plus(ix)}t.category_id in (${list})`,
          ids: sql`select c.id from torrent c where c.category_id in (${list})`,
        });
      }
    } else {
      const adult = cats.filter((c) => isAdult(c.id)).map((c) => c.id);
      if (adult.length > 0) conditions.push({ check: () => sql`(t.category_id is null or t.category_id not in (${sql.join(adult)}))` });
    }
  }

  const termIds = [...new Set((input.terms ?? []).filter((x) => Number.isSafeInteger(x)))];
  if (termIds.length > 0) {
    const known = await db.selectFrom('term').select(['id', 'term_type_id']).where('id', 'in', termIds).execute();
    const byType = new Map<number, number[]>();
    for (const k of known) {
      let list = byType.get(k.term_type_id);
      if (!list) byType.set(k.term_type_id, (list = []));
      list.push(k.id);
    }
    for (const group of byType.values()) {
      const cond = group.length === 1 ? sql`tt.term_id = ${group[0]!}` : sql`tt.term_id in (${sql.join(group.sort((a, b) => a - b))})`;
      conditions.push({
        check: () => sql`exists (select 1 from torrent_term tt where tt.torrent_id = t.id and ${cond})`,
        ids: sql`select tt.torrent_id from torrent_term tt where ${cond}`,
      });
    }
  }

  if (input.verifiedOnly) conditions.push({ check: () => sql`t.verified = 1` });
  if (input.noSeeders) conditions.push({ check: () => sql`t.seeders = 0` });
  if (input.uploaderId != null) {
    const uploader = input.uploaderId;
    conditions.push({
      check: (ix) => sql`${plus(ix)}t.uploader_id = ${uploader}`,
      ids: sql`select u.id from torrent u where u.uploader_id = ${uploader}`,
    });
    if (!input.includeAnonymous) conditions.push({ check: () => sql`t.anonymous = 0` });
  }
  if (input.bookmarkedBy != null) {
    const member = input.bookmarkedBy;
    conditions.push({
      check: () => sql`exists (select 1 from bookmark b where b.torrent_id = t.id and b.user_id = ${member})`,
      ids: sql`select b.torrent_id from bookmark b where b.user_id = ${member}`,
    });
  }
  return { conditions, empty };
}

/**
 * SQLite drives from the smallest selective condition when it admits at most this many torrents
 * (reading them in id order, checking the others, sorting what is left); beyond, it walks the
 * sort column's index and checks each torrent until the page is full.
 */
export const DRIVING_SET_LIMIT = 20_000;
/** Candidates read to bound the total from below when no condition is small enough. */
export const LOWER_BOUND_WORK = 10_000;

interface Plan {
  /** The condition driven from, with its size (≤ DRIVING_SET_LIMIT), or null: walk the sort index. */
  driving: { index: number; size: number } | null;
  /** The smallest selective condition (for bounding the total), or null when there is none. */
  smallest: number | null;
}

/** Sizes the selective conditions (each counted up to DRIVING_SET_LIMIT + 1) and picks a plan. */
async function choosePlan(db: Kysely<Database>, conditions: readonly Condition[]): Promise<Plan> {
  let best: { index: number; size: number } | null = null;
  for (const [index, c] of conditions.entries()) {
    if (!c.ids) continue;
    const r = await sql<{ n: number }>`select count(*) as n from (${c.ids} limit ${DRIVING_SET_LIMIT + 1}) x`.execute(db);
    const size = Number(r.rows[0]?.n ?? 0);
    if (!best || size < best.size) best = { index, size };
    if (size === 0) break;
  }
  if (!best) return { driving: null, smallest: null };
  return { driving: best.size <= DRIVING_SET_LIMIT ? best : null, smallest: best.index };
}

function orderClause(sort: SortKey, order: SortOrder, pg: boolean, indexable: boolean): RawBuilder<unknown> {
  const dir = sql.raw(sqlDirection(sort, order));
  // `+col` keeps SQLite from walking an index for the order (the plan drives from a set).
  const col = (name: string) => sql.raw(`${indexable ? '' : '+'}t.${name}`);
  // Ties broken by id in the same direction: stable pages, and the (status, column) index (whose
  // entries end with the rowid on SQLite) still gives the order.
  if (sort === 'category') {
    // Torrents without a category come first in ascending order on both engines (SQLite's way).
    const nulls = pg ? sql.raw(order === 'asc' ? ' nulls first' : ' nulls last') : sql``;
    return sql`${col('category_id')} ${dir}${nulls}, ${col('created_at')} ${dir}, t.id ${dir}`;
  }
  if (sort === 'age') return sql`${col('created_at')} ${dir}, t.id ${dir}`;
  return sql`${col(SORT_COLUMNS[sort])} ${dir}, t.id ${dir}`;
}

const and = (parts: RawBuilder<unknown>[]) => sql.join(parts, sql` and `);

/** The listing query: one page of matching torrents, and their total up to a cap. */
export async function searchTorrents(db: Kysely<Database>, input: SearchInput = {}): Promise<SearchResult> {
  const pg = isPostgres(db);
  const limit = clampInt(input.limit, 1, MAX_LIMIT, 50);
  const offset = clampInt(input.offset, 0, 1_000_000_000, 0);
  const sort: SortKey = isSortKey(input.sort) ? input.sort : 'age';
  const order: SortOrder = input.order === 'desc' ? 'desc' : input.order === 'asc' ? 'asc' : sort === 'age' || sort === 'name' || sort === 'category' ? 'asc' : 'desc';
  const cap = clampInt(input.countCap, 0, 10_000_000, DEFAULT_COUNT_CAP);
  const f = await buildFilters(db, input, pg);
  if (f.empty) return { rows: [], total: 0, totalCapped: false, offset, limit };
  const conds = f.conditions;

  let ids: number[];
  let total = 0;
  let totalCapped = false;

  if (pg) {
    // PostgreSQL plans with its statistics: the plain form.
    const where = and(conds.map((c) => c.check(true)));
    const r = await sql<{ id: number }>`select t.id from torrent t where ${where} order by ${orderClause(sort, order, pg, true)} limit ${limit} offset ${offset}`.execute(db);
    ids = r.rows.map((x) => Number(x.id));
    if (cap > 0 && !(ids.length > 0 && ids.length < limit)) {
      const c = await sql<{ n: number }>`select count(*) as n from (select 1 from torrent t where ${where} limit ${cap + 1}) x`.execute(db);
      total = Number(c.rows[0]?.n ?? 0);
    } else total = offset + ids.length;
  } else {
    const plan = await choosePlan(db, conds);
    if (plan.driving) {
      // Drive from the smallest set: `t.id in (...)` is read in id order; every other condition
      // is a check; the survivors are sorted; the window count gives the exact total on the way.
      const d = plan.driving.index;
      const where = and(conds.map((c, i) => (i === d ? sql`t.id in (${c.ids!})` : c.check(false))));
      const r = await sql<{ id: number; n: number }>`select t.id, count(*) over () as n from torrent t where ${where}
        order by ${orderClause(sort, order, pg, false)} limit ${limit} offset ${offset}`.execute(db);
      ids = r.rows.map((x) => Number(x.id));
      if (r.rows.length > 0) total = Number(r.rows[0]!.n);
      else if (offset > 0) {
        const c = await sql<{ n: number }>`select count(*) as n from torrent t where ${where}`.execute(db);
        total = Number(c.rows[0]?.n ?? 0);
      }
    } else {
      // Walk the index of the sort column (status first), checking each torrent.
      const where = and(conds.map((c, i) => c.check(i === 0)));
      const r = await sql<{ id: number }>`select t.id from torrent t where ${where} order by ${orderClause(sort, order, pg, true)} limit ${limit} offset ${offset}`.execute(db);
      ids = r.rows.map((x) => Number(x.id));
      if (ids.length > 0 && ids.length < limit) total = offset + ids.length;
      else if (cap > 0 && plan.smallest === null) {
        // Only dense conditions (status, flags): counting up to the cap is quick.
        const c = await sql<{ n: number }>`select count(*) as n from (select 1 from torrent t where ${where} limit ${cap + 1}) x`.execute(db);
        total = Number(c.rows[0]?.n ?? 0);
      } else if (cap > 0) {
        // Every selective condition admits many torrents: count the matches among the first
        // LOWER_BOUND_WORK of the smallest one, a lower bound (shown as "more than").
        const s = plan.smallest!;
        const bounded = and(conds.map((c, i) => (i === s ? sql`t.id in (${c.ids!} limit ${LOWER_BOUND_WORK})` : c.check(false))));
        const c = await sql<{ n: number }>`select count(*) as n from torrent t where ${bounded}`.execute(db);
        total = Math.max(Number(c.rows[0]?.n ?? 0), offset + ids.length + (ids.length === limit ? 1 : 0));
        totalCapped = true;
      }
    }
  }
  if (cap === 0) {
    total = 0;
    totalCapped = false;
  } else if (total > cap) {
    total = cap;
    totalCapped = true;
  }
  return { rows: await listingRows(db, ids), total, totalCapped, offset, limit };
}

/** Listing rows by id, in the given order (missing ids skipped); anonymous uploaders masked. */
export async function listingRows(db: Kysely<Database>, ids: readonly number[]): Promise<ListingRow[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('torrent as t')
    .leftJoin('category as c', 'c.id', 't.category_id')
    .leftJoin('user as u', 'u.id', 't.uploader_id')
    .select([
      't.id',
      't.name',
      't.slug',
      't.size',
      't.status',
      't.created_at',
      't.seeders',
      't.leechers',
      't.times_completed',
      't.comment_count',
      't.file_count',
      't.anonymous',
      't.verified',
      't.uploader_id',
      'u.username as uploader_name',
      't.category_id',
      'c.parent_id as category_parent_id',
      'c.name_en as category_name_en',
      'c.name_fr as category_name_fr',
      'c.icon as category_icon',
      'c.slug as category_slug',
      't.info_hash_v1',
      't.info_hash_v2',
    ])
    .where('t.id', 'in', [...ids])
    .execute();
  const byId = new Map<number, ListingRow>();
  for (const r of rows) {
    const row: ListingRow = { ...r, size: Number(r.size), times_completed: Number(r.times_completed), created_at: Number(r.created_at) };
    if (row.anonymous === 1) {
      row.uploader_id = null;
      row.uploader_name = null;
    }
    byId.set(row.id, row);
  }
  return ids.map((id) => byId.get(id)).filter((r): r is ListingRow => r !== undefined);
}

/** Most suggestions returned. */
export const MAX_SUGGESTIONS = 10;

/**
 * Names for the search box's autocomplete: active torrents whose name holds every word typed, the
 * last one as a prefix (at least two characters), among the most recent matches, the most seeded
 * first. Fast by construction: it reads at most a few hundred index entries.
 */
export async function suggestNames(db: Kysely<Database>, text: string, o: { hideAdult?: boolean; limit?: number } = {}): Promise<string[]> {
  const words = searchWords(text).slice(0, 8);
  if (words.length === 0) return [];
  const limit = clampInt(o.limit, 1, MAX_SUGGESTIONS, MAX_SUGGESTIONS);
  const last = words[words.length - 1]!;
  const node: QueryNode = {
    kind: 'and',
    children: words.map((w, i) => ({ kind: 'term' as const, words: [w], prefix: i === words.length - 1 && last.length >= 2, field: 'name' as const })),
  };
  const pg = isPostgres(db);
  const expr = (pg ? compileTsquery(node) : compileFts5(node)).match!;
  const recent = pg
    ? sql`select s.torrent_id from torrent_search s where s.document @@ to_tsquery('simple', ${expr}) order by s.torrent_id desc limit 300`
    : sql`select rowid from torrent_search where torrent_search match ${expr} order by rowid desc limit 300`;
  const where: RawBuilder<unknown>[] = [sql`t.status = 'active'`, sql`t.id in (${recent})`];
  if (o.hideAdult) {
    where.push(sql`(t.category_id is null or t.category_id not in (select c.id from category c left join category p on p.id = c.parent_id where c.adult = 1 or p.adult = 1))`);
  }
  const r = await sql<{ name: string }>`select t.name from torrent t where ${sql.join(where, sql` and `)} order by t.seeders desc, t.id desc limit ${limit * 3}`.execute(db);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const { name } of r.rows) {
    const key = name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(name);
    if (out.length >= limit) break;
  }
  return out;
}
