/**
 * Torrents and their swarms: registration (v1, v2 and hybrid, BEP 52), lookup by info hash,
 * deletion, ratio factors and the tracker's list of swarms.
 */
import type { Kysely } from 'kysely';
import { DuplicateInfoHashError, isUniqueViolation } from './errors.js';
import type { Database, DescriptionFormat, Torrent, TorrentStatus, UserTorrent } from './schema.js';
import { inTransaction } from './util.js';

export { DuplicateInfoHashError };

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export interface RegisterTorrentInput {
  name: string;
  /** SHA-1 of the info dictionary, 40 hex characters (any case). */
  infoHashV1?: string | null;
  /** Full SHA-256 of the info dictionary, 64 hex characters (any case). */
  infoHashV2?: string | null;
  /** Bytes. */
  size?: number;
  uploaderId?: number | null;
  status?: TorrentStatus;
  /** Epoch seconds. */
  now: number;
  // Directory metadata (#3), all optional: the columns' defaults apply when left out.
  /** URL slug of the name. */
  slug?: string | null;
  /** A subcategory. */
  categoryId?: number | null;
  description?: string;
  descriptionFormat?: DescriptionFormat;
  /** NFO text, already decoded. */
  nfo?: string | null;
  anonymous?: boolean;
  fileCount?: number;
  /** Epoch seconds. */
  updatedAt?: number | null;
}

/** The swarm hashes of a torrent: its v1 hash and/or its v2 hash truncated to 20 bytes (BEP 52). */
export function swarmHashes(v1: string | null, v2: string | null): Array<{ infoHash: string; version: 1 | 2 }> {
  const out: Array<{ infoHash: string; version: 1 | 2 }> = [];
  if (v1) out.push({ infoHash: v1, version: 1 });
  if (v2) out.push({ infoHash: v2.slice(0, 40), version: 2 });
  return out;
}

/**
 * Registers a torrent and its swarm rows in one transaction. Throws DuplicateInfoHashError
 * (carrying the existing torrent's id) when one of its swarm hashes is already registered,
 * including by a deleted torrent; TypeError when the hashes are malformed or both missing.
 */
export async function registerTorrent(db: Kysely<Database>, input: RegisterTorrentInput): Promise<{ id: number }> {
  const v1 = input.infoHashV1 ? input.infoHashV1.toLowerCase() : null;
  const v2 = input.infoHashV2 ? input.infoHashV2.toLowerCase() : null;
  if (v1 !== null && !HEX40.test(v1)) throw new TypeError(`infoHashV1 must be 40 hex characters (got ${JSON.stringify(input.infoHashV1)})`);
  if (v2 !== null && !HEX64.test(v2)) throw new TypeError(`infoHashV2 must be 64 hex characters (got ${JSON.stringify(input.infoHashV2)})`);
  if (v1 === null && v2 === null) throw new TypeError('a torrent needs infoHashV1, infoHashV2 or both');
  const swarms = swarmHashes(v1, v2);
  try {
    return await inTransaction(db, async (trx) => {
      await assertUnregistered(trx, swarms);
      const { id } = await trx
        .insertInto('torrent')
        .values({
          name: input.name,
          info_hash_v1: v1,
          info_hash_v2: v2,
          size: input.size ?? 0,
          status: input.status ?? 'active',
          deleted_reason: null,
          deleted_at: null,
          uploader_id: input.uploaderId ?? null,
          created_at: input.now,
          ...(input.slug !== undefined ? { slug: input.slug } : {}),
          ...(input.categoryId !== undefined ? { category_id: input.categoryId } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.descriptionFormat !== undefined ? { description_format: input.descriptionFormat } : {}),
          ...(input.nfo !== undefined ? { nfo: input.nfo } : {}),
          ...(input.anonymous !== undefined ? { anonymous: input.anonymous ? (1 as const) : (0 as const) } : {}),
          ...(input.fileCount !== undefined ? { file_count: input.fileCount } : {}),
          ...(input.updatedAt !== undefined ? { updated_at: input.updatedAt } : {}),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('torrent_swarm')
        .values(swarms.map((s) => ({ info_hash: s.infoHash, torrent_id: id, version: s.version })))
        .execute();
      return { id };
    });
  } catch (err) {
    // Lost a race with a concurrent registration: report it as a duplicate all the same.
    if (isUniqueViolation(err)) await assertUnregistered(db, swarms);
    throw err;
  }
}

async function assertUnregistered(db: Kysely<Database>, swarms: ReadonlyArray<{ infoHash: string }>): Promise<void> {
  const taken = await db
    .selectFrom('torrent_swarm')
    .select(['info_hash', 'torrent_id'])
    .where(
      'info_hash',
      'in',
      swarms.map((s) => s.infoHash),
    )
    .orderBy('info_hash')
    .executeTakeFirst();
  if (taken) throw new DuplicateInfoHashError(taken.info_hash, taken.torrent_id);
}

/** The torrent a swarm hash (40 hex, any case: a v1 hash or a truncated v2 hash) belongs to, whatever its status. */
export async function findTorrentByInfoHash(db: Kysely<Database>, infoHash: string): Promise<Torrent | undefined> {
  return db
    .selectFrom('torrent_swarm')
    .innerJoin('torrent', 'torrent.id', 'torrent_swarm.torrent_id')
    .selectAll('torrent')
    .where('torrent_swarm.info_hash', '=', infoHash.toLowerCase())
    .executeTakeFirst();
}

export async function findTorrentById(db: Kysely<Database>, id: number): Promise<Torrent | undefined> {
  return db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Marks a torrent deleted (its swarms stay registered, so that the tracker can tell clients why).
 * Returns false when there is no such torrent or it was already deleted (its reason is kept).
 */
export async function deleteTorrent(db: Kysely<Database>, torrentId: number, reason: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('torrent')
    .set({ status: 'deleted', deleted_reason: reason, deleted_at: now })
    .where('id', '=', torrentId)
    .where('status', '!=', 'deleted')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Sets the upload and download factors (e.g. 0 download for freeleech). Returns false if no such torrent. */
export async function setTorrentFactors(db: Kysely<Database>, id: number, up: number, down: number): Promise<boolean> {
  for (const [name, f] of [['upload', up], ['download', down]] as const) {
    if (!Number.isFinite(f) || f < 0) throw new TypeError(`${name} factor must be a finite number ≥ 0 (got ${f})`);
  }
  const r = await db
    .updateTable('torrent')
    .set({ upload_factor: up, download_factor: down })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface TrackerTorrent {
  torrentId: number;
  /** A swarm hash: 40 lowercase hex. */
  infoHash: string;
  status: TorrentStatus;
  deletedReason: string | null;
  /** Epoch seconds. */
  deletedAt: number | null;
  uploadFactor: number;
  downloadFactor: number;
  /** Epoch seconds after which the factors fall back to 1; null: no expiry. */
  factorsUntil: number | null;
}

/**
 * One row per swarm hash, for the tracker's access cache: active and pending torrents, plus
 * deleted ones whose deleted_at ≥ deletedSince (so that their clients get the reason for a while).
 */
export async function listTrackerTorrents(db: Kysely<Database>, opts: { deletedSince: number }): Promise<TrackerTorrent[]> {
  const rows = await db
    .selectFrom('torrent_swarm')
    .innerJoin('torrent', 'torrent.id', 'torrent_swarm.torrent_id')
    .select([
      'torrent_swarm.info_hash',
      'torrent.id',
      'torrent.status',
      'torrent.deleted_reason',
      'torrent.deleted_at',
      'torrent.upload_factor',
      'torrent.download_factor',
      'torrent.factors_until',
    ])
    .where((eb) =>
      eb.or([
        eb('torrent.status', 'in', ['active', 'pending']),
        eb.and([eb('torrent.status', '=', 'deleted'), eb('torrent.deleted_at', '>=', opts.deletedSince)]),
      ]),
    )
    .orderBy('torrent_swarm.info_hash')
    .execute();
  return rows.map((r) => ({
    torrentId: r.id,
    infoHash: r.info_hash,
    status: r.status,
    deletedReason: r.deleted_reason,
    deletedAt: r.deleted_at,
    uploadFactor: r.upload_factor,
    downloadFactor: r.download_factor,
    factorsUntil: r.factors_until,
  }));
}

/** A member's traffic row on a torrent, or undefined if they never announced it. */
export async function getUserTorrent(db: Kysely<Database>, userId: number, torrentId: number): Promise<UserTorrent | undefined> {
  return db
    .selectFrom('user_torrent')
    .selectAll()
    .where('user_id', '=', userId)
    .where('torrent_id', '=', torrentId)
    .executeTakeFirst();
}
