/**
 * Writing the tracker's traffic ledger (src/shared/ledger-batch.ts) and its peer baselines.
 *
 * applyLedgerBatch writes one batch in ONE transaction, idempotently: the batch id is recorded in
 * ledger_batch in the same transaction, so a retried batch (after a failure whose commit did in
 * fact happen) is skipped rather than credited twice.
 */
import { sql, type Kysely } from 'kysely';
import {
  isLedgerBatch,
  memberTraffic,
  mergeBaselines,
  mergeEntries,
  packLedgerBatch,
  unpackBaselines,
  unpackEntries,
  type BaselineEntry,
  type LedgerBatch,
  type LedgerBatchInit,
  type LedgerEntry,
} from '../shared/ledger-batch.js';
import type { Database } from './schema.js';
import { chunksFor, inTransaction, nowSeconds, valuesRows } from './util.js';
import { sqliteHandle } from './database.js';
import { applySqliteBatch } from './ledger.sqlite.js';

export { mergeBaselines, mergeEntries };

export interface PeerBaselineRecord {
  userId: number;
  torrentId: number;
  /** 40 lowercase hex characters. */
  peerId: string;
  uploaded: number;
  downloaded: number;
  /** Epoch seconds. */
  updatedAt: number;
}

/**
 * Applies a batch: adds each entry's deltas to user_torrent (created if needed; completed_at set
 * only while still null, first_seen_at kept, last_seen_at the later one), adds the totals to each
 * member, adds each member's credited uploaded/downloaded to its user_traffic_hour row of the
 * batch's hour (members without traffic in the batch get no row), counts a snatch in
 * torrent.times_completed only for a member who had not completed the torrent before, and sets
 * (or, with `removed`, deletes) the peer baselines.
 *
 * Several entries for the same (member, torrent), or baselines for the same peer, are merged
 * (the last baseline wins). Non-integer counters are rounded; non-finite ones throw.
 *
 * @param batch the columnar batch of the ledger, or the same as objects (packed first)
 * @param now epoch seconds recorded with the batch id (for pruneLedgerBatches); defaults to the clock.
 * @returns applied: false when a batch with this id was already applied (nothing was written).
 */
export async function applyLedgerBatch(
  db: Kysely<Database>,
  input: LedgerBatch | LedgerBatchInit,
  now: number = nowSeconds(),
): Promise<{ applied: boolean }> {
  const batch = isLedgerBatch(input) ? input : packLedgerBatch(input);
  const raw = sqliteHandle(db);
  if (raw !== undefined) {
    // SQLite: the same writes through cached prepared statements, in one synchronous transaction
    // (5-10x cheaper than compiling multi-row statements).
    return db.connection().execute(async () => applySqliteBatch(raw, batch, now));
  }
  const entries = mergeEntries(unpackEntries(batch));
  const baselines = mergeBaselines(unpackBaselines(batch));
  return inTransaction(db, async (trx) => {
    const claimed = await trx
      .insertInto('ledger_batch')
      .values({ id: batch.id, applied_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!claimed) return { applied: false };

    const snatches = await newSnatches(trx, entries);
    await upsertUserTorrents(trx, entries);
    await addUserTotals(trx, entries);
    await addTrafficHour(trx, batch.hour, entries);
    await addTimesCompleted(trx, snatches);
    await writeBaselines(trx, baselines);
    return { applied: true };
  });
}

/** The torrents (with how many members) whose completing entries come from members without a completion yet. */
async function newSnatches(trx: Kysely<Database>, entries: readonly LedgerEntry[]): Promise<Map<number, number>> {
  const completing = entries.filter((e) => e.completedAt !== null);
  const already = new Set<string>();
  for (const part of chunksFor(completing, 2)) {
    const rows = await sql<{ user_id: number; torrent_id: number }>`
      select user_id, torrent_id from user_torrent
      where completed_at is not null
        and (user_id, torrent_id) in (values ${valuesRows(
          part.map((e) => [e.userId, e.torrentId]),
          ['integer', 'integer'],
        )})`.execute(trx);
    for (const r of rows.rows) already.add(`${r.user_id}:${r.torrent_id}`);
  }
  const perTorrent = new Map<number, number>();
  for (const e of completing) {
    if (already.has(`${e.userId}:${e.torrentId}`)) continue;
    perTorrent.set(e.torrentId, (perTorrent.get(e.torrentId) ?? 0) + 1);
  }
  return perTorrent;
}

async function upsertUserTorrents(trx: Kysely<Database>, entries: readonly LedgerEntry[]): Promise<void> {
  for (const part of chunksFor(entries, 12)) {
    await trx
      .insertInto('user_torrent')
      .values(
        part.map((e) => ({
          user_id: e.userId,
          torrent_id: e.torrentId,
          uploaded: e.uploaded,
          downloaded: e.downloaded,
          raw_uploaded: e.rawUploaded,
          raw_downloaded: e.rawDownloaded,
          seed_time: e.seedTime,
          leech_time: e.leechTime,
          announces: e.announces,
          completed_at: e.completedAt,
          first_seen_at: e.firstSeenAt,
          last_seen_at: e.lastSeenAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['user_id', 'torrent_id']).doUpdateSet((eb) => ({
          uploaded: eb('user_torrent.uploaded', '+', eb.ref('excluded.uploaded')),
          downloaded: eb('user_torrent.downloaded', '+', eb.ref('excluded.downloaded')),
          raw_uploaded: eb('user_torrent.raw_uploaded', '+', eb.ref('excluded.raw_uploaded')),
          raw_downloaded: eb('user_torrent.raw_downloaded', '+', eb.ref('excluded.raw_downloaded')),
          seed_time: eb('user_torrent.seed_time', '+', eb.ref('excluded.seed_time')),
          leech_time: eb('user_torrent.leech_time', '+', eb.ref('excluded.leech_time')),
          announces: eb('user_torrent.announces', '+', eb.ref('excluded.announces')),
          completed_at: eb.fn.coalesce('user_torrent.completed_at', 'excluded.completed_at'),
          // max() on SQLite, greatest() on PostgreSQL: a CASE works on both.
          last_seen_at: eb
            .case()
            .when('excluded.last_seen_at', '>', eb.ref('user_torrent.last_seen_at'))
            .then(eb.ref('excluded.last_seen_at'))
            .else(eb.ref('user_torrent.last_seen_at'))
            .end(),
        })),
      )
      .execute();
  }
}

async function addUserTotals(trx: Kysely<Database>, entries: readonly LedgerEntry[]): Promise<void> {
  const totals = new Map<number, [number, number, number, number, number, number, number]>();
  for (const e of entries) {
    const t = totals.get(e.userId) ?? [e.userId, 0, 0, 0, 0, 0, 0];
    t[1] += e.uploaded;
    t[2] += e.downloaded;
    t[3] += e.rawUploaded;
    t[4] += e.rawDownloaded;
    t[5] += e.seedTime;
    t[6] += e.leechTime;
    totals.set(e.userId, t);
  }
  const rows = [...totals.values()].filter((t) => t.slice(1).some((v) => v !== 0));
  const u = (col: string) => sql.ref(`user.${col}`);
  for (const part of chunksFor(rows, 7)) {
    await sql`
      update ${sql.table('user')} set
        uploaded = ${u('uploaded')} + v.column2,
        downloaded = ${u('downloaded')} + v.column3,
        raw_uploaded = ${u('raw_uploaded')} + v.column4,
        raw_downloaded = ${u('raw_downloaded')} + v.column5,
        seed_time = ${u('seed_time')} + v.column6,
        leech_time = ${u('leech_time')} + v.column7
      from (values ${valuesRows(part, ['integer', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'])}) as v
      where ${u('id')} = v.column1`.execute(trx);
  }
}

async function addTrafficHour(trx: Kysely<Database>, hour: number, entries: readonly LedgerEntry[]): Promise<void> {
  const rows = memberTraffic(entries);
  for (const part of chunksFor(rows, 4)) {
    await trx
      .insertInto('user_traffic_hour')
      .values(part.map((r) => ({ user_id: r.userId, hour, uploaded: r.uploaded, downloaded: r.downloaded })))
      .onConflict((oc) =>
        oc.columns(['user_id', 'hour']).doUpdateSet((eb) => ({
          uploaded: eb('user_traffic_hour.uploaded', '+', eb.ref('excluded.uploaded')),
          downloaded: eb('user_traffic_hour.downloaded', '+', eb.ref('excluded.downloaded')),
        })),
      )
      .execute();
  }
}

async function addTimesCompleted(trx: Kysely<Database>, perTorrent: ReadonlyMap<number, number>): Promise<void> {
  const rows = [...perTorrent.entries()].sort((a, b) => a[0] - b[0]);
  for (const part of chunksFor(rows, 2)) {
    await sql`
      update torrent set times_completed = ${sql.ref('torrent.times_completed')} + v.column2
      from (values ${valuesRows(part, ['integer', 'bigint'])}) as v
      where ${sql.ref('torrent.id')} = v.column1`.execute(trx);
  }
}

async function writeBaselines(trx: Kysely<Database>, baselines: readonly BaselineEntry[]): Promise<void> {
  const kept = baselines.filter((b) => !b.removed);
  const removed = baselines.filter((b) => b.removed);
  for (const part of chunksFor(kept, 6)) {
    await trx
      .insertInto('peer_baseline')
      .values(
        part.map((b) => ({
          user_id: b.userId,
          torrent_id: b.torrentId,
          peer_id: b.peerId,
          uploaded: b.uploaded,
          downloaded: b.downloaded,
          updated_at: b.updatedAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['user_id', 'torrent_id', 'peer_id']).doUpdateSet((eb) => ({
          uploaded: eb.ref('excluded.uploaded'),
          downloaded: eb.ref('excluded.downloaded'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const part of chunksFor(removed, 3)) {
    await sql`
      delete from peer_baseline
      where (user_id, torrent_id, peer_id) in (values ${valuesRows(
        part.map((b) => [b.userId, b.torrentId, b.peerId]),
        ['integer', 'integer', 'text'],
      )})`.execute(trx);
  }
}

/** Baselines updated at or after `since` (epoch seconds), to restore the tracker's state after a restart. */
export async function loadPeerBaselines(db: Kysely<Database>, since: number): Promise<PeerBaselineRecord[]> {
  const out: PeerBaselineRecord[] = [];
  await forEachPeerBaselinePage(db, since, (rows) => void out.push(...rows));
  return out;
}

/**
 * Reads the baselines updated at or after `since` (epoch seconds) one page at a time, in key order
 * (member, torrent, peer id), and hands each page to `onPage`: a restart with a million baselines
 * never holds more than one page of row objects. Returns how many rows were read.
 */
export async function forEachPeerBaselinePage(
  db: Kysely<Database>,
  since: number,
  onPage: (rows: PeerBaselineRecord[]) => void,
  pageSize = 10_000,
): Promise<number> {
  if (!(pageSize >= 1)) throw new RangeError('pageSize must be at least 1');
  let after: [number, number, string] | null = null;
  let total = 0;
  for (;;) {
    let q = db
      .selectFrom('peer_baseline')
      .selectAll()
      .where('updated_at', '>=', since)
      .orderBy('user_id')
      .orderBy('torrent_id')
      .orderBy('peer_id')
      .limit(pageSize);
    if (after !== null) {
      const [u, t, p]: [number, number, string] = after;
      q = q.where((eb) => eb(eb.refTuple('user_id', 'torrent_id', 'peer_id'), '>', eb.tuple(u, t, p)));
    }
    const rows = await q.execute();
    if (rows.length === 0) return total;
    total += rows.length;
    const last = rows[rows.length - 1]!;
    after = [last.user_id, last.torrent_id, last.peer_id];
    onPage(
      rows.map((r) => ({
        userId: r.user_id,
        torrentId: r.torrent_id,
        peerId: r.peer_id,
        uploaded: r.uploaded,
        downloaded: r.downloaded,
        updatedAt: r.updated_at,
      })),
    );
    if (rows.length < pageSize) return total;
  }
}

/** Deletes baselines last updated before `olderThan` (epoch seconds); returns how many. */
export async function prunePeerBaselines(db: Kysely<Database>, olderThan: number): Promise<number> {
  const r = await db.deleteFrom('peer_baseline').where('updated_at', '<', olderThan).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Forgets applied batch ids recorded before `olderThan` (epoch seconds); returns how many. Keep
 * them longer than a batch can be retried for.
 */
export async function pruneLedgerBatches(db: Kysely<Database>, olderThan: number): Promise<number> {
  const r = await db.deleteFrom('ledger_batch').where('applied_at', '<', olderThan).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The hour number of user_traffic_hour: floor(epoch seconds / 3600). */
export function trafficHour(epochSeconds: number): number {
  return Math.floor(epochSeconds / 3600);
}

/** A member's credited traffic during one hour (bytes). */
export interface TrafficHour {
  /** floor(epoch seconds / 3600) of the hour's start. */
  hour: number;
  uploaded: number;
  downloaded: number;
}

/**
 * A member's credited traffic per hour for the hours fromHour..toHour (inclusive), oldest first.
 * Hours without traffic have no row and are absent.
 */
export async function listUserTrafficHours(db: Kysely<Database>, userId: number, fromHour: number, toHour: number): Promise<TrafficHour[]> {
  const rows = await db
    .selectFrom('user_traffic_hour')
    .select(['hour', 'uploaded', 'downloaded'])
    .where('user_id', '=', userId)
    .where('hour', '>=', fromHour)
    .where('hour', '<=', toHour)
    .orderBy('hour')
    .execute();
  return rows.map((r) => ({ hour: r.hour, uploaded: Number(r.uploaded), downloaded: Number(r.downloaded) }));
}

/** Deletes the hourly traffic of hours before `beforeHour` (all members); returns how many rows. */
export async function pruneUserTrafficHours(db: Kysely<Database>, beforeHour: number): Promise<number> {
  const r = await db.deleteFrom('user_traffic_hour').where('hour', '<', beforeHour).executeTakeFirst();
  return Number(r.numDeletedRows);
}
