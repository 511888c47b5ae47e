/**
 * Test fixtures for the torrent pages, members and feeds: categories, term types and terms
 * (ids from 80000 up, clear of the default taxonomy), and torrents stored as the upload stores
 * them (prepareForSite over a parsed .torrent, files, terms, swarm rows, the full-text index),
 * written directly to the database. Not used by the application.
 */
import type { Kysely } from 'kysely';
import type { Database, DescriptionFormat, IntBool, TorrentStatus } from '../../db/schema.js';
import { registerTorrent } from '../../db/torrent.repository.js';
import { prepareForSite } from '../../metainfo/site-torrent.js';
import { parseTorrentFile } from '../../metainfo/torrent-file.js';
import { indexTorrent } from '../search/indexer.js';

export interface FixtureCategory {
  id: number;
  parent_id?: number | null;
  name_en: string;
  name_fr?: string;
  adult?: IntBool;
}

/** Inserts categories (parents before their subcategories). */
export async function insertCategories(db: Kysely<Database>, cats: readonly FixtureCategory[]): Promise<void> {
  for (const c of cats) {
    await db
      .insertInto('category')
      .values({
        id: c.id,
        parent_id: c.parent_id ?? null,
        slug: `fixture-${c.id}`,
        icon: 'video-movie',
        name_en: c.name_en,
        name_fr: c.name_fr ?? `${c.name_en} (fr)`,
        adult: c.adult ?? 0,
      })
      .execute();
  }
}

/** Inserts a term type bound to categories, with its terms. */
export async function insertTermType(
  db: Kysely<Database>,
  t: { id: number; name_en: string; name_fr?: string; mode?: 'single' | 'multi'; categories: number[]; terms: Array<{ id: number; name_en: string; name_fr?: string }> },
): Promise<void> {
  await db.insertInto('term_type').values({ id: t.id, name_en: t.name_en, name_fr: t.name_fr ?? `${t.name_en} (fr)`, mode: t.mode ?? 'single' }).execute();
  for (const c of t.categories) await db.insertInto('category_term_type').values({ category_id: c, term_type_id: t.id }).execute();
  for (const [i, term] of t.terms.entries()) {
    await db
      .insertInto('term')
      .values({ id: term.id, term_type_id: t.id, name_en: term.name_en, name_fr: term.name_fr ?? `${term.name_en} (fr)`, position: i })
      .execute();
  }
}

export interface FixtureTorrent {
  /** The .torrent as uploaded (any announce; it is prepared as the upload does). */
  raw: Uint8Array;
  source?: string;
  name?: string;
  categoryId?: number | null;
  uploaderId?: number | null;
  anonymous?: IntBool;
  status?: TorrentStatus;
  deletedReason?: string | null;
  description?: string;
  descriptionFormat?: DescriptionFormat;
  nfo?: string | null;
  termIds?: number[];
  createdAt?: number;
  seeders?: number;
  leechers?: number;
  timesCompleted?: number;
}

export interface InsertedTorrent {
  id: number;
  slug: string;
  metainfo: Buffer;
  infoHashV1: string | null;
  infoHashV2: string | null;
}

/** Stores a torrent as the upload would (throws when the .torrent does not parse). */
export async function insertTorrent(db: Kysely<Database>, f: FixtureTorrent): Promise<InsertedTorrent> {
  const parsed = parseTorrentFile(f.raw);
  if (!parsed.ok) throw new Error(`fixture torrent does not parse: ${parsed.error.message}`);
  const p = parsed.torrent;
  const site = prepareForSite(p, { source: f.source ?? 'essaim-test' });
  const now = f.createdAt ?? Math.floor(Date.now() / 1000);
  const name = f.name ?? p.name;
  const slug = name.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'torrent';
  const { id } = await registerTorrent(db, {
    name,
    infoHashV1: site.infoHashV1,
    infoHashV2: site.infoHashV2,
    size: p.totalSize,
    uploaderId: f.uploaderId ?? null,
    status: f.status ?? 'active',
    now,
  });
  const termIds = f.termIds ?? [];
  await db
    .updateTable('torrent')
    .set({
      slug,
      category_id: f.categoryId ?? null,
      description: f.description ?? '',
      description_format: f.descriptionFormat ?? 'bbcode',
      nfo: f.nfo ?? null,
      anonymous: f.anonymous ?? 0,
      file_count: p.files.length,
      seeders: f.seeders ?? 0,
      leechers: f.leechers ?? 0,
      times_completed: f.timesCompleted ?? 0,
      deleted_reason: f.status === 'deleted' ? (f.deletedReason ?? null) : null,
      deleted_at: f.status === 'deleted' ? now : null,
    })
    .where('id', '=', id)
    .execute();
  await db.insertInto('torrent_metainfo').values({ torrent_id: id, data: site.metainfo }).execute();
  if (p.files.length > 0) {
    await db
      .insertInto('torrent_file')
      .values(p.files.map((file, idx) => ({ torrent_id: id, idx, path: file.path.join('/'), size: file.size })))
      .execute();
  }
  for (const termId of termIds) {
    const term = await db.selectFrom('term').select('term_type_id').where('id', '=', termId).executeTakeFirstOrThrow();
    await db.insertInto('torrent_term').values({ torrent_id: id, term_id: termId, term_type_id: term.term_type_id }).execute();
  }
  await indexTorrent(db, id);
  return { id, slug, metainfo: site.metainfo, infoHashV1: site.infoHashV1, infoHashV2: site.infoHashV2 };
}
