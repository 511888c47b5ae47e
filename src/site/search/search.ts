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
import { compileFts5, compileTsquery, parseQuery, type CompiledQuery, type QueryNode } from './query.js';

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

interface Filters {
  /** Conditions on `t` (the torrent table), SQL fragments. */
  where: RawBuilder<unknown>[];
  /** Full-text conditions (kept apart: the planner hint depends on them). */
  text: CompiledQuery;
  /** Nothing can match (an unknown category). */
  empty: boolean;
}

function clampInt(v: number | undefined | null, min: number, max: number, dflt: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return dflt;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}

async function buildFilters(db: Kysely<Database>, input: SearchInput, pg: boolean): Promise<Filters> {
  const where: RawBuilder<unknown>[] = [sql`t.status = 'active'`];
  let empty = false;
  const node = parseQuery(input.text ?? '');
  const text = pg ? compileTsquery(node) : compileFts5(node);

  const needCategories = input.categoryId != null || input.hideAdult;
  if (needCategories) {
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
      else if (ids.length === 1) where.push(sql`t.category_id = ${ids[0]!}`);
      else where.push(sql`t.category_id in (${sql.join(ids)})`);
    } else if (input.hideAdult) {
      const adult = cats.filter((c) => isAdult(c.id)).map((c) => c.id);
      if (adult.length > 0) where.push(sql`(t.category_id is null or t.category_id not in (${sql.join(adult)}))`);
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
    for (const ids of byType.values()) {
      const cond = ids.length === 1 ? sql`tt.term_id = ${ids[0]!}` : sql`tt.term_id in (${sql.join(ids.sort((a, b) => a - b))})`;
      where.push(sql`exists (select 1 from torrent_term tt where tt.torrent_id = t.id and ${cond})`);
    }
  }

  if (input.verifiedOnly) where.push(sql`t.verified = 1`);
  if (input.noSeeders) where.push(sql`t.seeders = 0`);
  if (input.uploaderId != null) {
    where.push(sql`t.uploader_id = ${input.uploaderId}`);
    if (!input.includeAnonymous) where.push(sql`t.anonymous = 0`);
  }
  if (input.bookmarkedBy != null) {
    where.push(sql`exists (select 1 from bookmark b where b.torrent_id = t.id and b.user_id = ${input.bookmarkedBy})`);
  }
  return { where, text, empty };
}

/** Rows of the full-text index matching a compiled expression. */
function textMatches(pg: boolean, expr: string): RawBuilder<unknown> {
  return pg
    ? sql`select s.torrent_id from torrent_search s where s.document @@ to_tsquery('simple', ${expr})`
    : sql`select rowid from torrent_search where torrent_search match ${expr}`;
}

/**
 * Past this many text matches, SQLite walks the sort index and probes the matches; below, it
 * reads the matches and sorts them.
 */
export const SELECTIVE_TEXT_MATCHES = 4_000;

/**
 * How to join the text condition on SQLite: driving from the matches (few of them) or from the
 * sort index (many: sorting them all would be slower than finding a page of them in order).
 */
async function drivesFromIndex(db: Kysely<Database>, pg: boolean, text: CompiledQuery): Promise<boolean> {
  if (pg || !text.match) return false;
  const r = await sql<{ n: number }>`select count(*) as n from (select rowid from torrent_search where torrent_search match ${text.match} limit ${SELECTIVE_TEXT_MATCHES})`.execute(db);
  return Number(r.rows[0]?.n ?? 0) >= SELECTIVE_TEXT_MATCHES;
}

function whereClause(pg: boolean, f: Filters, indexDriven: boolean): RawBuilder<unknown> {
  const conds = [...f.where];
  if (f.text.match) {
    // `+t.id` is not an index term for SQLite: the planner keeps the sort index and probes.
    conds.push(indexDriven ? sql`+t.id in (${textMatches(pg, f.text.match)})` : sql`t.id in (${textMatches(pg, f.text.match)})`);
  }
  if (f.text.exclude) conds.push(sql`t.id not in (${textMatches(pg, f.text.exclude)})`);
  return sql.join(conds, sql` and `);
}

function orderClause(sort: SortKey, order: SortOrder, pg: boolean): RawBuilder<unknown> {
  const dir = sql.raw(sqlDirection(sort, order));
  const col = sql.raw(`t.${SORT_COLUMNS[sort]}`);
  // Ties broken by id in the same direction: stable pages, and the (status, column) index (whose
  // entries end with the rowid on SQLite) still gives the order.
  if (sort === 'category') {
    // Torrents without a category come first in ascending order on both engines (SQLite's way).
    const nulls = pg ? sql.raw(order === 'asc' ? ' nulls first' : ' nulls last') : sql``;
    return sql`${col} ${dir}${nulls}, t.created_at ${dir}, t.id ${dir}`;
  }
  if (sort === 'age') return sql`t.created_at ${dir}, t.id ${dir}`;
  return sql`${col} ${dir}, t.id ${dir}`;
}

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

  const indexDriven = await drivesFromIndex(db, pg, f.text);
  const where = whereClause(pg, f, indexDriven);
  const idRows = await sql<{ id: number }>`select t.id from torrent t where ${where} order by ${orderClause(sort, order, pg)} limit ${limit} offset ${offset}`.execute(db);
  const ids = idRows.rows.map((r) => Number(r.id));

  let total = 0;
  let totalCapped = false;
  if (cap > 0) {
    if (ids.length > 0 && ids.length < limit) {
      total = offset + ids.length;
    } else {
      const r = await sql<{ n: number }>`select count(*) as n from (select 1 from torrent t where ${where} limit ${cap + 1}) x`.execute(db);
      total = Number(r.rows[0]?.n ?? 0);
      if (total > cap) {
        total = cap;
        totalCapped = true;
      }
    }
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
