/**
 * The SQLite branch of applyLedgerBatch (ledger.repository.ts): the same writes, with the same
 * semantics, through prepared statements cached per connection, in one synchronous transaction.
 * The repository suite runs every case against this branch (SQLite) and the Kysely one
 * (PostgreSQL), so the two cannot drift apart unnoticed.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { BaselineEntry, LedgerEntry } from '../shared/ledger-batch.js';

interface Statements {
  claim: BetterSqlite3.Statement;
  completedAt: BetterSqlite3.Statement;
  upsertUserTorrent: BetterSqlite3.Statement;
  addUserTotals: BetterSqlite3.Statement;
  addTimesCompleted: BetterSqlite3.Statement;
  upsertBaseline: BetterSqlite3.Statement;
  deleteBaseline: BetterSqlite3.Statement;
}

const cache = new WeakMap<BetterSqlite3.Database, Statements>();

function statements(db: BetterSqlite3.Database): Statements {
  let s = cache.get(db);
  if (s === undefined) {
    s = {
      claim: db.prepare('insert into ledger_batch (id, applied_at) values (?, ?) on conflict (id) do nothing'),
      completedAt: db.prepare('select completed_at from user_torrent where user_id = ? and torrent_id = ?').pluck(),
      upsertUserTorrent: db.prepare(`
        insert into user_torrent (user_id, torrent_id, uploaded, downloaded, raw_uploaded, raw_downloaded,
          seed_time, leech_time, announces, completed_at, first_seen_at, last_seen_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        on conflict (user_id, torrent_id) do update set
          uploaded = user_torrent.uploaded + excluded.uploaded,
          downloaded = user_torrent.downloaded + excluded.downloaded,
          raw_uploaded = user_torrent.raw_uploaded + excluded.raw_uploaded,
          raw_downloaded = user_torrent.raw_downloaded + excluded.raw_downloaded,
          seed_time = user_torrent.seed_time + excluded.seed_time,
          leech_time = user_torrent.leech_time + excluded.leech_time,
          announces = user_torrent.announces + excluded.announces,
          completed_at = coalesce(user_torrent.completed_at, excluded.completed_at),
          last_seen_at = max(user_torrent.last_seen_at, excluded.last_seen_at)`),
      addUserTotals: db.prepare(`
        update "user" set uploaded = uploaded + ?, downloaded = downloaded + ?, raw_uploaded = raw_uploaded + ?,
          raw_downloaded = raw_downloaded + ?, seed_time = seed_time + ?, leech_time = leech_time + ?
        where id = ?`),
      addTimesCompleted: db.prepare('update torrent set times_completed = times_completed + ? where id = ?'),
      upsertBaseline: db.prepare(`
        insert into peer_baseline (user_id, torrent_id, peer_id, uploaded, downloaded, updated_at)
        values (?, ?, ?, ?, ?, ?)
        on conflict (user_id, torrent_id, peer_id) do update set
          uploaded = excluded.uploaded, downloaded = excluded.downloaded, updated_at = excluded.updated_at`),
      deleteBaseline: db.prepare('delete from peer_baseline where user_id = ? and torrent_id = ? and peer_id = ?'),
    };
    cache.set(db, s);
  }
  return s;
}

/** Entries and baselines must already be merged and normalised (integers). */
export function applySqliteBatch(
  db: BetterSqlite3.Database,
  batchId: string,
  now: number,
  entries: readonly LedgerEntry[],
  baselines: readonly BaselineEntry[],
): { applied: boolean } {
  const st = statements(db);
  const run = db.transaction((): { applied: boolean } => {
    if (st.claim.run(batchId, now).changes === 0) return { applied: false };
    const snatches = new Map<number, number>();
    const totals = new Map<number, number[]>();
    for (const e of entries) {
      if (e.completedAt !== null && (st.completedAt.get(e.userId, e.torrentId) ?? null) === null) {
        snatches.set(e.torrentId, (snatches.get(e.torrentId) ?? 0) + 1);
      }
      st.upsertUserTorrent.run(
        e.userId,
        e.torrentId,
        e.uploaded,
        e.downloaded,
        e.rawUploaded,
        e.rawDownloaded,
        e.seedTime,
        e.leechTime,
        e.announces,
        e.completedAt,
        e.firstSeenAt,
        e.lastSeenAt,
      );
      let t = totals.get(e.userId);
      if (t === undefined) totals.set(e.userId, (t = [0, 0, 0, 0, 0, 0]));
      t[0]! += e.uploaded;
      t[1]! += e.downloaded;
      t[2]! += e.rawUploaded;
      t[3]! += e.rawDownloaded;
      t[4]! += e.seedTime;
      t[5]! += e.leechTime;
    }
    for (const [userId, t] of totals) if (t.some((v) => v !== 0)) st.addUserTotals.run(t[0], t[1], t[2], t[3], t[4], t[5], userId);
    for (const [torrentId, n] of snatches) st.addTimesCompleted.run(n, torrentId);
    for (const b of baselines) {
      if (b.removed) st.deleteBaseline.run(b.userId, b.torrentId, b.peerId);
      else st.upsertBaseline.run(b.userId, b.torrentId, b.peerId, b.uploaded, b.downloaded, b.updatedAt);
    }
    return { applied: true };
  });
  return run.immediate();
}
