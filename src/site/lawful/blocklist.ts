/**
 * The info-hash blocklist: hashes that may never be registered again (enforced at upload by
 * src/site/torrents/upload.ts) nor announced (enforced by the tracker's access cache, which loads
 * `listBlockedHashes`). A takedown adds the hashes of the removed torrents (with the notice's id);
 * staff holding `blocklist.manage` add and remove hashes by hand at /staff/blocklist.
 *
 * Hashes are stored as written in a .torrent: 40 lowercase hex (a v1 SHA-1) or 64 (a full v2
 * SHA-256). The tracker sees a v2 swarm under the first 40 hex characters of its hash (BEP 52), so
 * `swarmHashOf` gives the 40-hex form to compare announces with, and a 40-hex entry also blocks
 * any 64-hex hash that starts with it (which is what the tracker would see of it).
 *
 * For the tracker's rules (announce enforcement):
 *   - `listBlockedHashes(db)` gives every entry with its 40-hex swarm form, for a full reload;
 *   - `blockedSwarmHashes(db)` the same as a Map from the 40-hex swarm hash to the reason;
 *   - adding or removing an entry whose hash belongs to a registered torrent calls
 *     `site.tracker.torrentChanged(torrentId)`, so a cache that checks the blocklist when it
 *     reloads a torrent picks the change up at once.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, InfohashBlockTable } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import type { LawfulSite } from './site.js';
import { audit } from '../staff/audit.js';

export type BlockRow = Selectable<InfohashBlockTable>;

const HEX = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The hash in canonical form (trimmed, lowercase) when it is 40 or 64 hex characters, else null. */
export function normaliseInfoHash(s: string): string | null {
  const h = s.trim().toLowerCase();
  return HEX.test(h) ? h : null;
}

/** What the tracker sees of a hash: the 40 hex characters of a v1 hash or of a truncated v2 hash. */
export function swarmHashOf(infoHash: string): string {
  return infoHash.slice(0, 40);
}

export interface BlockedHash {
  /** As stored: 40 or 64 lowercase hex. */
  infoHash: string;
  /** The 40-hex form an announce carries. */
  swarmHash: string;
  reason: string;
  noticeId: number | null;
}

/** Every blocked hash (for the tracker's access cache). */
export async function listBlockedHashes(db: Kysely<Database>): Promise<BlockedHash[]> {
  const rows = await db.selectFrom('infohash_block').select(['info_hash', 'reason', 'notice_id']).orderBy('info_hash').execute();
  return rows.map((r) => ({ infoHash: r.info_hash, swarmHash: swarmHashOf(r.info_hash), reason: r.reason, noticeId: r.notice_id }));
}

/** The blocked 40-hex swarm hashes, each with its reason. */
export async function blockedSwarmHashes(db: Kysely<Database>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of await listBlockedHashes(db)) if (!out.has(b.swarmHash)) out.set(b.swarmHash, b.reason);
  return out;
}

/**
 * The first block that applies to a torrent with these hashes (v1: 40 hex, v2: 64 hex), or null.
 * A v2 hash is blocked by its own entry or by an entry of its 40-hex truncation; a 64-hex entry
 * also blocks the 40-hex swarm hash of a v2 torrent seen only truncated.
 */
export async function findBlock(db: Kysely<Database>, hashes: { v1?: string | null; v2?: string | null }): Promise<BlockRow | null> {
  const v1 = hashes.v1?.toLowerCase() ?? null;
  const v2 = hashes.v2?.toLowerCase() ?? null;
  const exact = [v1, v2, v2 ? v2.slice(0, 40) : null].filter((x): x is string => x !== null);
  if (exact.length === 0) return null;
  const row = await db.selectFrom('infohash_block').selectAll().where('info_hash', 'in', exact).orderBy('created_at').orderBy('info_hash').executeTakeFirst();
  if (row) return row;
  // A 64-hex entry whose truncation is the v1-looking hash given (a v2 swarm hash).
  if (v1) {
    const long = await db
      .selectFrom('infohash_block')
      .selectAll()
      // v1 is 40 hex characters: no LIKE wildcard in it.
      .where('info_hash', 'like', v1 + '%')
      .orderBy('info_hash')
      .executeTakeFirst();
    if (long && long.info_hash.startsWith(v1)) return long;
  }
  return null;
}

export async function listBlocks(db: Kysely<Database>, opts: { limit?: number; offset?: number } = {}): Promise<Array<BlockRow & { created_by_name: string | null }>> {
  return db
    .selectFrom('infohash_block')
    .leftJoin('user', 'user.id', 'infohash_block.created_by')
    .selectAll('infohash_block')
    .select('user.username as created_by_name')
    .orderBy('infohash_block.created_at', 'desc')
    .orderBy('infohash_block.info_hash')
    .limit(opts.limit ?? 200)
    .offset(opts.offset ?? 0)
    .execute();
}

export async function countBlocks(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('infohash_block').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The registered torrent a blocklist hash belongs to, if any. */
async function torrentOfHash(db: Kysely<Database>, infoHash: string): Promise<number | null> {
  const swarm = await db.selectFrom('torrent_swarm').select('torrent_id').where('info_hash', '=', swarmHashOf(infoHash)).executeTakeFirst();
  if (swarm) return swarm.torrent_id;
  if (infoHash.length === 64) {
    const t = await db.selectFrom('torrent').select('id').where('info_hash_v2', '=', infoHash).executeTakeFirst();
    if (t) return t.id;
  }
  return null;
}

export interface Actor {
  id: number;
  username: string;
}

export type BlockError = 'hash_invalid' | 'reason_required' | 'reason_too_long' | 'already_blocked';
export const BLOCK_REASON_MAX = 500;

/** Adds a hash by hand (audited). */
export async function addBlock(site: LawfulSite, actor: Actor, input: { infoHash: string; reason: string }): Promise<{ ok: true; infoHash: string } | { ok: false; errors: Partial<Record<'info_hash' | 'reason', BlockError>> }> {
  const errors: Partial<Record<'info_hash' | 'reason', BlockError>> = {};
  const infoHash = normaliseInfoHash(input.infoHash);
  const reason = input.reason.trim();
  if (!infoHash) errors.info_hash = 'hash_invalid';
  if (reason === '') errors.reason = 'reason_required';
  else if (reason.length > BLOCK_REASON_MAX) errors.reason = 'reason_too_long';
  if (infoHash && (await site.db.selectFrom('infohash_block').select('info_hash').where('info_hash', '=', infoHash).executeTakeFirst())) errors.info_hash = 'already_blocked';
  if (!infoHash || Object.keys(errors).length > 0) return { ok: false, errors };
  const now = site.now();
  await inTransaction(site.db, async (trx) => {
    await trx.insertInto('infohash_block').values({ info_hash: infoHash, reason, notice_id: null, created_by: actor.id, created_at: now }).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'blocklist.add', targetType: 'infohash', reason, after: { info_hash: infoHash, reason }, now });
  });
  await tellTracker(site, infoHash);
  return { ok: true, infoHash };
}

/** Removes a hash (audited). False when it was not blocked. */
export async function removeBlock(site: LawfulSite, actor: Actor, infoHashRaw: string, reason: string | null = null): Promise<boolean> {
  const infoHash = normaliseInfoHash(infoHashRaw);
  if (!infoHash) return false;
  const now = site.now();
  const removed = await inTransaction(site.db, async (trx) => {
    const row = await trx.selectFrom('infohash_block').selectAll().where('info_hash', '=', infoHash).executeTakeFirst();
    if (!row) return false;
    await trx.deleteFrom('infohash_block').where('info_hash', '=', infoHash).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'blocklist.remove', targetType: 'infohash', reason, before: row, now });
    return true;
  });
  if (removed) await tellTracker(site, infoHash);
  return removed;
}

async function tellTracker(site: LawfulSite, infoHash: string): Promise<void> {
  const torrentId = await torrentOfHash(site.db, infoHash);
  try {
    // The tracker reloads its blocklist (hashes of no registered torrent, e.g. in public mode),
    // and the torrent's entry when there is one.
    await site.tracker.blocklistChanged?.();
    if (torrentId !== null) await site.tracker.torrentChanged(torrentId);
  } catch (err) {
    site.log.error({ err, torrentId }, 'telling the tracker about a blocklist change failed');
  }
}
