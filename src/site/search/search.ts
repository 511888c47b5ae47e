/**
 * The torrent listing and search: text (the search language of query.ts), categories (any of
 * several, a parent takes its subcategories), terms (AND across term types, OR within one type),
 * alternatives (`anyOf`: categories, text and terms per alternative), bounds on seeders,
 * completions and the torrent's own factors, sort, pagination. One interface over SQLite FTS5 and
 * PostgreSQL full-text search.
 *
 * Built for a million torrents on SQLite (measured on `essaim demo` data: a word, two terms and a
 * sort answer in about 10 ms, a browse page in 2 to 15 ms):
 * - two steps: the ids of the page first, then the page's rows with category and uploader by id;
 * - the selective conditions (full-text match, each term type, category, uploader, bookmarks)
 *   are id sets read from indexes alone — the FTS5 doclist, torrent_term(term_id, torrent_id),
 *   (category_id, created_at), ... — intersected with INTERSECT (merged streams), less the
 *   inactive torrents and the excluded ones (EXCEPT); no torrent row is read to filter;
 * - a small result (n² ≤ (offset + limit) × max(id) / SET_PLAN_FACTOR) is read by id and sorted,
 *   its exact total counted by a window function on the way; a large one is found by walking the
 *   (status, <sort column>) index and testing membership by rowid (no row read), its total
 *   counted on the merged id streams up to the cap ("10,000+");
 * - plain browsing walks the sort index; a category alone uses (category_id, created_at) for the
 *   age order and is counted on that index;
 * - PostgreSQL gets the plain form (`t.id in (tsquery matches)`, `exists` per term type) and plans
 *   it with its statistics.
 *
 * A word found in nearly every torrent (a word of a shared description template) is the slow
 * case: its doclist is read whole (about 0.2 s at a million).
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
  /**
   * Any of these categories, each with its subcategories; combined with `categoryId` by union.
   * Unknown ids select nothing; an empty list (and no `categoryId`) selects nothing; absent: no
   * condition. `hideAdult` still removes adult ones.
   */
  categoryIds?: readonly number[] | null;
  /** Term ids: a torrent must carry, for each term type among them, at least one of them. */
  terms?: readonly number[];
  /**
   * Alternatives: a torrent must match at least one of them (each one its categories, text and
   * terms, read as above), besides every other condition. An empty list selects nothing.
   */
  anyOf?: readonly SearchBranch[] | null;
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
  /** Seeders at least / at most this many (database copy of the swarm counts). */
  minSeeders?: number | null;
  maxSeeders?: number | null;
  /** Completed at least this many times. */
  minCompleted?: number | null;
  /**
   * Bounds on the torrent's own factors (upload_factor, download_factor) at `now`: a factor whose
   * `factors_until` is past counts as 1. Site-wide windows are not the torrent's and are not
   * looked at (the caller decides on them for the whole query). Non-finite bounds are no bound.
   */
  downloadFactorAtMost?: number | null;
  /** The download factor in at least one of these bands (an empty list selects nothing). */
  downloadFactorBands?: readonly FactorBand[] | null;
  uploadFactorAtLeast?: number | null;
  /** Torrents whose download factor counts as 0 in the download bounds (a member's freeleech tokens). */
  freeTorrentIds?: readonly number[] | null;
  /** The time (seconds) factors are evaluated at; default: the clock. */
  now?: number;
  /** Only this member's uploads; anonymous ones only with `includeAnonymous`. */
  uploaderId?: number | null;
  includeAnonymous?: boolean;
  /** Only torrents bookmarked by this member. */
  bookmarkedBy?: number | null;
  /** Count the total up to this many (default DEFAULT_COUNT_CAP); 0 skips counting. */
  countCap?: number;
  /** SQLite's plan (tests and benchmarks): chosen by the sizes by default. */
  plan?: 'auto' | 'set' | 'walk';
}

/** One alternative of `anyOf`. */
export interface SearchBranch {
  categoryIds?: readonly number[] | null;
  text?: string | null;
  terms?: readonly number[];
}

/** A band of factors: above `above` (exclusive) and at most `atMost`; a missing end is open. */
export interface FactorBand {
  above?: number | null;
  atMost?: number | null;
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
  /** The torrent's own factors (freeleech badges), until factors_until when set. */
  upload_factor: number;
  download_factor: number;
  factors_until: number | null;
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
 * One condition of a search, in the forms the plans need:
 * - `check`: a condition on the row `t` (PostgreSQL uses only these);
 * - `ids` (SQLite): a subquery listing the ids of the torrents the condition admits ('set') or
 *   rejects ('minus'), read from an index only (full-text doclist, torrent_term(term_id,
 *   torrent_id), category, uploader, bookmark). 'row' conditions need the row (flags, seeder,
 *   completion and factor bounds). A set's ids are exactly the ids it admits (the plans count
 *   them as the total): several categories are one list, like a parent's subcategories; `anyOf`
 *   is the union of its alternatives' exact sets, or a 'row' check when one of them has none.
 */
interface Condition {
  kind: 'set' | 'minus' | 'row';
  check: RawBuilder<unknown>;
  ids?: RawBuilder<unknown>;
  /** The category condition (its own index serves the age sort best). */
  category?: boolean;
}

interface Filters {
  conditions: Condition[];
  /** Nothing can match (an unknown category). */
  empty: boolean;
}

const and = (parts: RawBuilder<unknown>[]) => sql.join(parts, sql` and `);

function clampInt(v: number | undefined | null, min: number, max: number, dflt: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return dflt;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}

/** Rows of the full-text index matching a compiled expression. */
function textMatches(pg: boolean, expr: string): RawBuilder<unknown> {
  return pg
    ? sql`select s.torrent_id as id from torrent_search s where s.document @@ to_tsquery('simple', ${expr})`
    : sql`select rowid as id from torrent_search where torrent_search match ${expr}`;
}

interface CategoryRow {
  id: number;
  parent_id: number | null;
  adult: IntBool;
}

/** The category table, read once per search when a condition needs it. */
class Categories {
  private rows: Promise<CategoryRow[]> | null = null;
  constructor(private readonly db: Kysely<Database>) {}
  all(): Promise<CategoryRow[]> {
    return (this.rows ??= this.db.selectFrom('category').select(['id', 'parent_id', 'adult']).execute());
  }
  /** The ids these categories select (each with its subcategories), adult ones left out when asked. */
  async expand(wanted: readonly number[], hideAdult: boolean): Promise<number[]> {
    const cats = await this.all();
    const byId = new Map(cats.map((c) => [c.id, c]));
    const out = new Set<number>();
    for (const id of wanted) {
      const c = byId.get(id);
      if (!c) continue;
      out.add(c.id);
      for (const x of cats) if (x.parent_id === c.id) out.add(x.id);
    }
    const adult = (id: number) => {
      const c = byId.get(id);
      return !!c && (c.adult === 1 || (c.parent_id !== null && byId.get(c.parent_id)?.adult === 1));
    };
    return [...out].filter((id) => !hideAdult || !adult(id)).sort((x, y) => x - y);
  }
  async adult(): Promise<number[]> {
    const cats = await this.all();
    const byId = new Map(cats.map((c) => [c.id, c]));
    return cats.filter((c) => c.adult === 1 || (c.parent_id !== null && byId.get(c.parent_id)?.adult === 1)).map((c) => c.id);
  }
}

const safeIds = (list: readonly number[] | null | undefined) => [...new Set((list ?? []).filter((x) => Number.isSafeInteger(x)))];

/** The condition of a category list (one category, a parent's subcategories, several: alike). */
function categoryCondition(ids: readonly number[]): Condition {
  const list = sql.join([...ids]);
  return { kind: 'set', category: true, check: sql`t.category_id in (${list})`, ids: sql`select c.id from torrent c where c.category_id in (${list})` };
}

function textConditions(pg: boolean, text: string | null | undefined): Condition[] {
  const out: Condition[] = [];
  const compiled = (pg ? compileTsquery : compileFts5)(parseQuery(text ?? ''));
  if (compiled.match) {
    const ids = textMatches(pg, compiled.match);
    out.push({ kind: 'set', ids, check: sql`t.id in (${ids})` });
  }
  if (compiled.exclude) {
    const ids = textMatches(pg, compiled.exclude);
    out.push({ kind: 'minus', ids, check: sql`t.id not in (${ids})` });
  }
  return out;
}

async function termConditions(db: Kysely<Database>, terms: readonly number[] | undefined): Promise<Condition[]> {
  const termIds = safeIds(terms);
  if (termIds.length === 0) return [];
  const known = await db.selectFrom('term').select(['id', 'term_type_id']).where('id', 'in', termIds).execute();
  const byType = new Map<number, number[]>();
  for (const k of known) {
    let list = byType.get(k.term_type_id);
    if (!list) byType.set(k.term_type_id, (list = []));
    list.push(k.id);
  }
  const out: Condition[] = [];
  for (const group of byType.values()) {
    const cond = group.length === 1 ? sql`tt.term_id = ${group[0]!}` : sql`tt.term_id in (${sql.join(group.sort((a, b) => a - b))})`;
    out.push({
      kind: 'set',
      check: sql`exists (select 1 from torrent_term tt where tt.torrent_id = t.id and ${cond})`,
      ids: sql`select tt.torrent_id as id from torrent_term tt where ${cond}`,
    });
  }
  return out;
}

/**
 * The alternatives of `anyOf` as one condition (null: one of them is no condition at all). On
 * SQLite it is a 'set' when every alternative is (its sets intersected, less its rejected ids: the
 * union of those is exactly the admitted ids), else a 'row' check.
 */
function anyOfCondition(branches: readonly Condition[][]): Condition | null {
  if (branches.some((b) => b.length === 0)) return null;
  const check = sql`(${sql.join(branches.map((b) => sql`(${and(b.map((c) => c.check))})`), sql` or `)})`;
  const enumerable = branches.every((b) => b.some((c) => c.kind === 'set') && b.every((c) => c.kind !== 'row'));
  if (!enumerable) return { kind: 'row', check };
  const parts = branches.map((b) => {
    const sets = sql.join(b.filter((c) => c.kind === 'set').map((c) => c.ids!), sql` intersect `);
    const minus = b.filter((c) => c.kind === 'minus').map((c) => c.ids!);
    return sql`select id from (${minus.length === 0 ? sets : sql`${sets} except ${sql.join(minus, sql` except `)}`}) b`;
  });
  // Wrapped: a compound's operators have equal precedence, and the plans intersect this with others.
  return { kind: 'set', check, ids: sql`select id from (${sql.join(parts, sql` union `)}) u` };
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const INT_MAX = 2_147_483_647;

/** The torrent's own download factor at `now` (an expired one is 1; a token's torrent is 0). */
function downloadFactor(now: number, free: readonly number[]): RawBuilder<unknown> {
  const token = free.length > 0 ? sql`when t.id in (${sql.join([...free])}) then 0 ` : sql``;
  return sql`(case ${token}when t.factors_until is not null and t.factors_until <= ${now} then 1 else t.download_factor end)`;
}

function band(factor: RawBuilder<unknown>, b: FactorBand): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (finite(b.above)) parts.push(sql`${factor} > ${b.above}`);
  if (finite(b.atMost)) parts.push(sql`${factor} <= ${b.atMost}`);
  return parts.length === 0 ? sql`1 = 1` : sql`(${and(parts)})`;
}

/** Seeder, completion and factor bounds: checks on the row. False: nothing can match. */
function boundConditions(input: SearchInput, out: Condition[]): boolean {
  const row = (check: RawBuilder<unknown>) => out.push({ kind: 'row', check });
  if (input.noSeeders) row(sql`t.seeders = 0`);
  if (finite(input.minSeeders) && input.minSeeders > 0) {
    const n = Math.ceil(input.minSeeders);
    if (n > INT_MAX) return false;
    row(sql`t.seeders >= ${n}`);
  }
  if (finite(input.maxSeeders) && input.maxSeeders < INT_MAX) {
    const n = Math.floor(input.maxSeeders);
    if (n < 0) return false;
    row(sql`t.seeders <= ${n}`);
  }
  if (finite(input.minCompleted) && input.minCompleted > 0) {
    const n = Math.ceil(input.minCompleted);
    if (n > Number.MAX_SAFE_INTEGER) return false;
    row(sql`t.times_completed >= ${n}`);
  }
  const bands = input.downloadFactorBands;
  const needsNow = finite(input.downloadFactorAtMost) || bands != null || finite(input.uploadFactorAtLeast);
  if (!needsNow) return true;
  const now = finite(input.now) ? Math.floor(input.now) : Math.floor(Date.now() / 1000);
  const down = downloadFactor(now, safeIds(input.freeTorrentIds));
  if (finite(input.downloadFactorAtMost)) row(sql`${down} <= ${input.downloadFactorAtMost}`);
  if (bands != null) {
    if (bands.length === 0) return false;
    row(sql`(${sql.join(bands.map((b) => band(down, b)), sql` or `)})`);
  }
  if (finite(input.uploadFactorAtLeast)) {
    row(sql`(case when t.factors_until is not null and t.factors_until <= ${now} then 1 else t.upload_factor end) >= ${input.uploadFactorAtLeast}`);
  }
  return true;
}

async function buildFilters(db: Kysely<Database>, input: SearchInput, pg: boolean): Promise<Filters> {
  const conditions: Condition[] = [...textConditions(pg, input.text)];
  const none: Filters = { conditions: [], empty: true };
  const categories = new Categories(db);
  const hideAdult = !!input.hideAdult;

  const wanted = [...(input.categoryId != null ? [input.categoryId] : []), ...(input.categoryIds ?? [])];
  if (input.categoryId != null || input.categoryIds != null) {
    const ids = await categories.expand(wanted, hideAdult);
    if (ids.length === 0) return none;
    conditions.push(categoryCondition(ids));
  } else if (hideAdult) {
    const adult = await categories.adult();
    if (adult.length > 0) {
      const list = sql.join(adult);
      conditions.push({
        kind: 'minus',
        check: sql`(t.category_id is null or t.category_id not in (${list}))`,
        ids: sql`select a.id from torrent a where a.category_id in (${list})`,
      });
    }
  }

  conditions.push(...(await termConditions(db, input.terms)));

  if (input.anyOf != null) {
    const branches: Condition[][] = [];
    for (const b of input.anyOf) {
      const conds = textConditions(pg, b.text);
      if (b.categoryIds != null) {
        const ids = await categories.expand(b.categoryIds, hideAdult);
        if (ids.length === 0) continue;
        conds.push(categoryCondition(ids));
      }
      conds.push(...(await termConditions(db, b.terms)));
      branches.push(conds);
    }
    if (branches.length === 0) return none;
    const c = anyOfCondition(branches);
    if (c) conditions.push(c);
  }

  if (input.uploaderId != null) {
    const uploader = input.uploaderId;
    conditions.push({ kind: 'set', check: sql`t.uploader_id = ${uploader}`, ids: sql`select u.id from torrent u where u.uploader_id = ${uploader}` });
    if (!input.includeAnonymous) conditions.push({ kind: 'row', check: sql`t.anonymous = 0` });
  }
  if (input.bookmarkedBy != null) {
    const member = input.bookmarkedBy;
    conditions.push({
      kind: 'set',
      check: sql`exists (select 1 from bookmark b where b.torrent_id = t.id and b.user_id = ${member})`,
      ids: sql`select b.torrent_id as id from bookmark b where b.user_id = ${member}`,
    });
  }
  if (input.verifiedOnly) conditions.push({ kind: 'row', check: sql`t.verified = 1` });
  if (!boundConditions(input, conditions)) return none;
  return { conditions, empty: false };
}

/**
 * On SQLite, a result set of n torrents is read and sorted ('set' plan) when n² ≤ (offset +
 * limit) × max(id) / SET_PLAN_FACTOR, else found by walking the sort index ('walk' plan): walking
 * reads about (offset + limit) × N / n index entries, cheap ones, where the set plan reads n rows.
 */
export const SET_PLAN_FACTOR = 8;

function orderClause(sort: SortKey, order: SortOrder, pg: boolean, indexable: boolean): RawBuilder<unknown> {
  const dir = sql.raw(sqlDirection(sort, order));
  // `+col` keeps SQLite from walking an index for the order (the plan reads a set and sorts it).
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

const ACTIVE = sql`t.status = 'active'`;

async function countOf(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from (${query}) x`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

interface Page {
  ids: number[];
  total: number;
  totalCapped: boolean;
}

/** The page where only dense conditions apply (status, flags, adult): walk, count up to the cap. */
async function walkDense(db: Kysely<Database>, where: RawBuilder<unknown>, order: RawBuilder<unknown>, limit: number, offset: number, cap: number): Promise<Page> {
  const r = await sql<{ id: number }>`select t.id from torrent t where ${where} order by ${order} limit ${limit} offset ${offset}`.execute(db);
  const ids = r.rows.map((x) => Number(x.id));
  if (ids.length < limit && (ids.length > 0 || offset === 0)) return { ids, total: offset + ids.length, totalCapped: false };
  if (cap === 0) return { ids, total: 0, totalCapped: false };
  const total = await countOf(db, sql`select 1 from torrent t where ${where} limit ${cap + 1}`);
  return { ids, total, totalCapped: false };
}

/** Beyond this many torrents, a category is checked row by row while walking (it is dense). */
export const DENSE_CATEGORY = 50_000;

async function ids(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<number[]> {
  return (await sql<{ id: number }>`${query}`.execute(db)).rows.map((y) => Number(y.id));
}

const short = (ids: number[], limit: number, offset: number) => ids.length < limit && (ids.length > 0 || offset === 0);

async function sqlitePage(db: Kysely<Database>, conds: readonly Condition[], sort: SortKey, order: SortOrder, limit: number, offset: number, cap: number, plan: 'auto' | 'set' | 'walk'): Promise<Page> {
  const sets = conds.filter((c) => c.kind === 'set');
  const rows = conds.filter((c) => c.kind === 'row').map((c) => c.check);
  const byIndex = orderClause(sort, order, false, true);
  const window = sql`limit ${limit} offset ${offset}`;
  if (sets.length === 0) {
    // Browsing: walk the sort column's index (status first); the other conditions are checks.
    return walkDense(db, and([ACTIVE, ...conds.map((c) => c.check)]), byIndex, limit, offset, cap);
  }
  // The admitted ids, from the indexes alone: the sets intersected, less the rejected ones.
  const minus = [sql`select n.id from torrent n where n.status in ('pending', 'deleted')`, ...conds.filter((c) => c.kind === 'minus').map((c) => c.ids!)];
  const x = sql`${sql.join(sets.map((c) => c.ids!), sql` intersect `)} except ${sql.join(minus, sql` except `)}`;
  const maxId = Number((await sql<{ m: number | null }>`select max(id) as m from torrent`.execute(db)).rows[0]?.m ?? 0);
  const small = (n: number) => n * n * SET_PLAN_FACTOR <= (offset + limit) * maxId;
  const setPage = async (): Promise<Page> => {
    // Read the set in id order, check the flags, sort what is left; the window counts it.
    const r = await sql<{ id: number; n: number }>`select t.id, count(*) over () as n from torrent t where ${and([sql`t.id in (${x})`, ...rows])}
      order by ${orderClause(sort, order, false, false)} ${window}`.execute(db);
    const found = r.rows.map((y) => Number(y.id));
    if (r.rows.length > 0) return { ids: found, total: Number(r.rows[0]!.n), totalCapped: false };
    return { ids: found, total: offset === 0 ? 0 : await countOf(db, sql`select 1 from torrent t where ${and([sql`t.id in (${x})`, ...rows])}`), totalCapped: false };
  };
  // Walk the sort index; membership in the set needs only the rowid (no row read).
  const walkSet = () => ids(db, sql`select t.id from torrent t where ${and([ACTIVE, sql`+t.id in (${x})`, ...rows])} order by ${byIndex} ${window}`);

  const category = sets.length === 1 && sets[0]!.category ? sets[0]! : null;
  if (category && plan === 'auto') {
    // A category alone: its own index when it gives the order (age), else by its size.
    const plain = and([ACTIVE, ...conds.map((c) => c.check)]);
    const size = await countOf(db, sql`${category.ids!} limit ${DENSE_CATEGORY + 1}`);
    let found: number[];
    if (sort !== 'age' && sort !== 'category' && small(size)) return setPage();
    if (sort === 'age' || sort === 'category') found = await ids(db, sql`select t.id from torrent t where ${plain} order by ${byIndex} ${window}`);
    else if (size <= DENSE_CATEGORY) found = await walkSet();
    else found = await ids(db, sql`select t.id from torrent t where ${and([ACTIVE, ...conds.map((c) => (c === category ? sql`+${c.check}` : c.check))])} order by ${byIndex} ${window}`);
    if (short(found, limit, offset)) return { ids: found, total: offset + found.length, totalCapped: false };
    if (cap === 0) return { ids: found, total: 0, totalCapped: false };
    if (conds.length === 1) {
      // Counted on the category index, less the torrents that are not active.
      const listed = await countOf(db, sql`${category.ids!} limit ${cap + 1}`);
      const inactive = await countOf(db, sql`select 1 from torrent n where n.status in ('pending', 'deleted') and n.id in (${category.ids!})`);
      if (listed <= cap || listed - inactive > cap) return { ids: found, total: listed - inactive, totalCapped: false };
    }
    return { ids: found, total: await countOf(db, sql`select 1 from torrent t where ${plain} limit ${cap + 1}`), totalCapped: false };
  }

  // Small enough to read and sort? Fetch up to the threshold, then page over the ids themselves.
  const threshold = plan === 'set' ? Number.MAX_SAFE_INTEGER : plan === 'walk' ? 0 : Math.floor(Math.sqrt(((offset + limit) * maxId) / SET_PLAN_FACTOR));
  if (threshold > 0) {
    const bounded = threshold === Number.MAX_SAFE_INTEGER ? x : sql`${x} limit ${threshold + 1}`;
    const members = await ids(db, sql`select id from (${bounded}) x`);
    if (members.length <= threshold) {
      if (members.length === 0) return { ids: [], total: 0, totalCapped: false };
      const list = sql.join(members);
      const r = await sql<{ id: number; n: number }>`select t.id, count(*) over () as n from torrent t where ${and([sql`t.id in (${list})`, ...rows])}
        order by ${orderClause(sort, order, false, false)} ${window}`.execute(db);
      const found = r.rows.map((y) => Number(y.id));
      if (r.rows.length > 0) return { ids: found, total: Number(r.rows[0]!.n), totalCapped: false };
      const total = rows.length === 0 ? members.length : await countOf(db, sql`select 1 from torrent t where ${and([sql`t.id in (${list})`, ...rows])}`);
      return { ids: found, total, totalCapped: false };
    }
  }
  const found = await walkSet();
  if (short(found, limit, offset)) return { ids: found, total: offset + found.length, totalCapped: false };
  if (cap === 0) return { ids: found, total: 0, totalCapped: false };
  // The set's size is the total unless flags are checked on the rows (merged streams: counting
  // stops at the cap).
  if (rows.length === 0) return { ids: found, total: await countOf(db, sql`${x} limit ${cap + 1}`), totalCapped: false };
  return { ids: found, total: await countOf(db, sql`select 1 from torrent t where ${and([sql`t.id in (${x})`, ...rows])} limit ${cap + 1}`), totalCapped: false };
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

  let page: Page;
  if (pg) {
    // PostgreSQL plans with its statistics: the plain form.
    page = await walkDense(db, and([ACTIVE, ...f.conditions.map((c) => c.check)]), orderClause(sort, order, true, true), limit, offset, cap);
  } else {
    page = await sqlitePage(db, f.conditions, sort, order, limit, offset, cap, input.plan ?? 'auto');
  }
  let { total, totalCapped } = page;
  if (cap === 0) {
    total = 0;
    totalCapped = false;
  } else if (total > cap) {
    total = cap;
    totalCapped = true;
  }
  return { rows: await listingRows(db, page.ids), total, totalCapped, offset, limit };
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
      't.upload_factor',
      't.download_factor',
      't.factors_until',
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
