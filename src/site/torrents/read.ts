/**
 * Torrent queries for the pages: one torrent with its category, uploader and terms (the torrent
 * page), its files, its stored metainfo (downloads), the rows of the simple torrent lists (a
 * member's uploads, bookmarks, feeds), who may see a torrent, and the live swarm counts.
 *
 * Works on SQLite and PostgreSQL (plain Kysely queries, no dialect-specific SQL).
 */
import type { Kysely } from 'kysely';
import type { Database, IntBool, Torrent, TorrentStatus, User, UserRole } from '../../db/schema.js';
import type { TrackerLink } from '../site.js';
import type { ListingRow } from '../search/search.js';

/** Roles that see everything (pending torrents, anonymous uploaders, private profiles). */
export const STAFF_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['moderator', 'supermod', 'admin']);

export function isStaff(user: Pick<User, 'role'> | null | undefined): boolean {
  return !!user && STAFF_ROLES.has(user.role);
}

export interface CategoryRef {
  id: number;
  name_en: string;
  name_fr: string;
  icon: string;
  adult: IntBool;
}

export interface TermRef {
  id: number;
  name_en: string;
  name_fr: string;
  typeId: number;
  typeName_en: string;
  typeName_fr: string;
}

export interface TorrentDetails {
  torrent: Torrent;
  /** The torrent's subcategory (null when it has none or it was removed). */
  category: CategoryRef | null;
  /** Its parent, when the category is a subcategory. */
  parent: CategoryRef | null;
  /** The uploader (null when the account is gone); whether to show it is the page's decision. */
  uploader: { id: number; username: string } | null;
  /** Sorted by term type position, then term position. */
  terms: TermRef[];
}

async function categoryRef(db: Kysely<Database>, id: number): Promise<(CategoryRef & { parent_id: number | null }) | undefined> {
  return db
    .selectFrom('category')
    .select(['id', 'parent_id', 'name_en', 'name_fr', 'icon', 'adult'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** One torrent with what its page shows (any status; visibility is decided by the caller). */
export async function getTorrentDetails(db: Kysely<Database>, id: number): Promise<TorrentDetails | undefined> {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  const torrent = await db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirst();
  if (!torrent) return undefined;
  let category: CategoryRef | null = null;
  let parent: CategoryRef | null = null;
  if (torrent.category_id !== null) {
    const c = await categoryRef(db, torrent.category_id);
    if (c) {
      const { parent_id, ...rest } = c;
      category = rest;
      if (parent_id !== null) {
        const p = await categoryRef(db, parent_id);
        if (p) {
          const { parent_id: _ignored, ...prest } = p;
          parent = prest;
        }
      }
    }
  }
  const uploader =
    torrent.uploader_id === null
      ? null
      : ((await db.selectFrom('user').select(['id', 'username']).where('id', '=', torrent.uploader_id).executeTakeFirst()) ?? null);
  const termRows = await db
    .selectFrom('torrent_term')
    .innerJoin('term', 'term.id', 'torrent_term.term_id')
    .innerJoin('term_type', 'term_type.id', 'term.term_type_id')
    .select([
      'term.id as id',
      'term.name_en as name_en',
      'term.name_fr as name_fr',
      'term_type.id as typeId',
      'term_type.name_en as typeName_en',
      'term_type.name_fr as typeName_fr',
    ])
    .where('torrent_term.torrent_id', '=', id)
    .orderBy('term_type.position')
    .orderBy('term_type.id')
    .orderBy('term.position')
    .orderBy('term.id')
    .execute();
  return { torrent, category, parent, uploader, terms: termRows };
}

/** The torrent's files in their metainfo order. */
export async function listTorrentFiles(db: Kysely<Database>, torrentId: number): Promise<Array<{ path: string; size: number }>> {
  return db.selectFrom('torrent_file').select(['path', 'size']).where('torrent_id', '=', torrentId).orderBy('idx').execute();
}

/** The stored .torrent (no announce URL), or undefined. */
export async function getStoredMetainfo(db: Kysely<Database>, torrentId: number): Promise<Buffer | undefined> {
  const r = await db.selectFrom('torrent_metainfo').select('data').where('torrent_id', '=', torrentId).executeTakeFirst();
  if (!r) return undefined;
  return Buffer.isBuffer(r.data) ? r.data : Buffer.from(r.data as Uint8Array);
}

export type Visibility = 'visible' | 'deleted' | 'hidden';

/**
 * Who may see a torrent: deleted ones are gone for everybody (the page says why); pending ones are
 * seen only by their uploader and the staff; active ones by everybody.
 */
export function torrentVisibility(t: { status: TorrentStatus; uploader_id: number | null }, viewer: Pick<User, 'id' | 'role'> | null): Visibility {
  switch (t.status) {
    case 'deleted':
      return 'deleted';
    case 'pending':
      return viewer && (isStaff(viewer) || viewer.id === t.uploader_id) ? 'visible' : 'hidden';
    case 'active':
      return 'visible';
  }
}

/** May the viewer see who uploaded this torrent? */
export function showUploader(t: { anonymous: IntBool; uploader_id: number | null }, viewer: Pick<User, 'id' | 'role'> | null): boolean {
  if (t.anonymous !== 1) return true;
  return !!viewer && (isStaff(viewer) || viewer.id === t.uploader_id);
}

// --- torrent lists -------------------------------------------------------------------------------

/**
 * A row of the simple torrent lists (uploads, bookmarks, feeds): a listing row without what only
 * the browse listings show (verified mark, parent category, factors).
 */
export type TorrentListRow = Omit<
  ListingRow,
  'verified' | 'category_parent_id' | 'category_slug' | 'upload_factor' | 'download_factor' | 'factors_until'
>;

/** The base query of the lists: torrent with its category and uploader, selected as a TorrentListRow. */
export function torrentListQuery(db: Kysely<Database>) {
  return db
    .selectFrom('torrent')
    .leftJoin('category', 'category.id', 'torrent.category_id')
    .leftJoin('user', 'user.id', 'torrent.uploader_id')
    .select([
      'torrent.id as id',
      'torrent.name as name',
      'torrent.slug as slug',
      'torrent.size as size',
      'torrent.status as status',
      'torrent.created_at as created_at',
      'torrent.seeders as seeders',
      'torrent.leechers as leechers',
      'torrent.times_completed as times_completed',
      'torrent.comment_count as comment_count',
      'torrent.file_count as file_count',
      'torrent.anonymous as anonymous',
      'torrent.uploader_id as uploader_id',
      'user.username as uploader_name',
      'torrent.category_id as category_id',
      'category.name_en as category_name_en',
      'category.name_fr as category_name_fr',
      'category.icon as category_icon',
      'torrent.info_hash_v1 as info_hash_v1',
      'torrent.info_hash_v2 as info_hash_v2',
    ]);
}

async function run(q: { execute(): Promise<unknown[]> }): Promise<TorrentListRow[]> {
  return (await q.execute()) as TorrentListRow[];
}

export interface Page {
  limit: number;
  offset?: number;
}

/**
 * A member's uploads, newest first. `includeAnonymous` and `includePending` are for the member
 * themself and the staff; deleted torrents are never listed.
 */
export async function listUploads(
  db: Kysely<Database>,
  uploaderId: number,
  o: Page & { includeAnonymous: boolean; includePending: boolean },
): Promise<TorrentListRow[]> {
  let q = torrentListQuery(db).where('torrent.uploader_id', '=', uploaderId);
  q = o.includePending ? q.where('torrent.status', 'in', ['active', 'pending']) : q.where('torrent.status', '=', 'active');
  if (!o.includeAnonymous) q = q.where('torrent.anonymous', '=', 0);
  return run(q.orderBy('torrent.created_at', 'desc').orderBy('torrent.id', 'desc').limit(o.limit).offset(o.offset ?? 0));
}

/** How many uploads listUploads would list without a limit. */
export async function countUploads(db: Kysely<Database>, uploaderId: number, o: { includeAnonymous: boolean; includePending: boolean }): Promise<number> {
  let q = db.selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).where('uploader_id', '=', uploaderId);
  q = o.includePending ? q.where('status', 'in', ['active', 'pending']) : q.where('status', '=', 'active');
  if (!o.includeAnonymous) q = q.where('anonymous', '=', 0);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Active torrents of a category (a parent includes its subcategories), newest first. */
export async function listCategoryTorrents(db: Kysely<Database>, categoryId: number, o: Page & { verifiedOnly?: boolean }): Promise<TorrentListRow[]> {
  let q = torrentListQuery(db)
    .where('torrent.status', '=', 'active')
    .where((eb) =>
      eb.or([
        eb('torrent.category_id', '=', categoryId),
        eb('torrent.category_id', 'in', eb.selectFrom('category as sub').select('sub.id').where('sub.parent_id', '=', categoryId)),
      ]),
    );
  if (o.verifiedOnly) q = q.where('torrent.verified', '=', 1);
  return run(q.orderBy('torrent.created_at', 'desc').orderBy('torrent.id', 'desc').limit(o.limit).offset(o.offset ?? 0));
}

/** The most active torrents (seeders + leechers as last copied from the tracker), T411's top 100. */
export async function listTopActive(db: Kysely<Database>, o: Page & { verifiedOnly?: boolean }): Promise<TorrentListRow[]> {
  const q = torrentListQuery(db)
    .where('torrent.status', '=', 'active')
    .$if(o.verifiedOnly === true, (qb) => qb.where('torrent.verified', '=', 1))
    .orderBy((eb) => eb('torrent.seeders', '+', eb.ref('torrent.leechers')), 'desc')
    .orderBy('torrent.times_completed', 'desc')
    .orderBy('torrent.id', 'desc');
  return run(q.limit(o.limit).offset(o.offset ?? 0));
}

/** Torrents by id, in the given order (missing ids skipped). */
export async function listTorrentsByIds(db: Kysely<Database>, ids: readonly number[]): Promise<TorrentListRow[]> {
  if (ids.length === 0) return [];
  const rows = await run(torrentListQuery(db).where('torrent.id', 'in', [...ids]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is TorrentListRow => r !== undefined);
}

/**
 * A member's bookmarks, most recently bookmarked first. Deleted torrents are left out; pending
 * ones only when `includePending` (the reader may see them).
 */
export async function listBookmarkedTorrents(
  db: Kysely<Database>,
  userId: number,
  o: Page & { viewer: Pick<User, 'id' | 'role'> },
): Promise<Array<TorrentListRow & { bookmarked_at: number }>> {
  let q = torrentListQuery(db)
    .innerJoin('bookmark', 'bookmark.torrent_id', 'torrent.id')
    .select('bookmark.created_at as bookmarked_at')
    .where('bookmark.user_id', '=', userId);
  if (isStaff(o.viewer)) q = q.where('torrent.status', '!=', 'deleted');
  else
    q = q.where((eb) =>
      eb.or([eb('torrent.status', '=', 'active'), eb.and([eb('torrent.status', '=', 'pending'), eb('torrent.uploader_id', '=', o.viewer.id)])]),
    );
  const rows = await q.orderBy('bookmark.created_at', 'desc').orderBy('bookmark.id', 'desc').limit(o.limit).offset(o.offset ?? 0).execute();
  return rows as Array<TorrentListRow & { bookmarked_at: number }>;
}

// --- live counts ---------------------------------------------------------------------------------

export interface SwarmNumbers {
  seeders: number;
  leechers: number;
}

/** The 40-hex swarm hashes of a torrent: v1, and the v2 hash truncated to 40 hex (BEP 52). */
export function swarmKeys(t: { info_hash_v1: string | null; info_hash_v2: string | null }): string[] {
  const out: string[] = [];
  if (t.info_hash_v1) out.push(t.info_hash_v1);
  if (t.info_hash_v2) out.push(t.info_hash_v2.slice(0, 40));
  return out;
}

/**
 * Seeders and leechers of each torrent from the tracker's memory when it runs in this process (a
 * hybrid torrent's two swarms summed), else the copy in the database. Completed downloads always
 * come from the database (times_completed, kept by the ledger across restarts).
 */
export function liveCounts<T extends { info_hash_v1: string | null; info_hash_v2: string | null; seeders: number; leechers: number }>(
  tracker: Pick<TrackerLink, 'swarmCounts'>,
  rows: readonly T[],
): SwarmNumbers[] {
  const hashes: string[] = [];
  const spans: Array<[number, number]> = [];
  for (const r of rows) {
    const keys = swarmKeys(r);
    spans.push([hashes.length, hashes.length + keys.length]);
    hashes.push(...keys);
  }
  const live = hashes.length > 0 ? tracker.swarmCounts(hashes) : null;
  return rows.map((r, i) => {
    if (!live || live.length !== hashes.length) return { seeders: r.seeders, leechers: r.leechers };
    const [from, to] = spans[i]!;
    let seeders = 0;
    let leechers = 0;
    for (let k = from; k < to; k++) {
      seeders += live[k]!.complete;
      leechers += live[k]!.incomplete;
    }
    return { seeders, leechers };
  });
}

/** The rows with their seeders/leechers replaced by the live counts. */
export function withLiveCounts<T extends { info_hash_v1: string | null; info_hash_v2: string | null; seeders: number; leechers: number }>(
  tracker: Pick<TrackerLink, 'swarmCounts'>,
  rows: readonly T[],
): T[] {
  const counts = liveCounts(tracker, rows);
  return rows.map((r, i) => ({ ...r, ...counts[i]! }));
}

// --- health --------------------------------------------------------------------------------------

export type Health = 'good' | 'fair' | 'poor' | 'dead';

/**
 * The health label of a swarm, from its seeders (a download needs a complete copy somewhere):
 * dead with no seeder, poor with 1 or 2, fair with 3 to 9, good with 10 or more. A swarm where
 * seeders are scarce for its demand (fewer seeders than a tenth of its leechers) drops one step.
 */
export function healthOf(seeders: number, leechers: number): Health {
  if (seeders <= 0) return 'dead';
  let level = seeders >= 10 ? 3 : seeders >= 3 ? 2 : 1;
  if (seeders * 10 < leechers && level > 1) level--;
  return level === 3 ? 'good' : level === 2 ? 'fair' : 'poor';
}
