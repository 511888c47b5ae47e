/**
 * The tracker's periodic work: flushing the traffic ledger to the database, refreshing the access
 * cache from the database, sweeping peers that stopped announcing, and pruning old baselines and
 * hourly traffic.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { pruneLedgerBatches, prunePeerBaselines, pruneUserTrafficHours, trafficHour } from '../db/ledger.repository.js';
import type { LedgerWriter } from '../db/ledger-writer.js';
import { listTrackerUsers } from '../db/user.repository.js';
import { listTrackerTorrents } from '../db/torrent.repository.js';
import { listClientRules } from '../db/client-rule.repository.js';
import { blockedSwarmHashes } from '../site/lawful/blocklist.js';
import { listFactorWindows, listTokenUses } from '../site/rules/freeleech.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { AccessCache } from '../swarm/access-cache.js';
import type { Ledger } from '../swarm/ledger.js';
import type { PeerStore } from '../swarm/peer-store.js';

/** Writes one batch; on failure the same batch is retried at the next flush. Returns false on failure. */
export async function flushLedger(writer: LedgerWriter, ledger: Ledger, log: Logger, metrics?: Metrics): Promise<boolean> {
  // Drain: a retried batch first, then what accumulated meanwhile.
  for (let i = 0; i < 4; i++) {
    const batch = ledger.take();
    if (batch === null) {
      metrics?.flushes.inc({ result: 'empty' });
      return true;
    }
    const t0 = performance.now();
    try {
      await writer.write(batch);
      ledger.done(batch);
      const ms = performance.now() - t0;
      metrics?.flushes.inc({ result: 'ok' });
      metrics?.flushDuration.observe({ result: 'ok' }, ms / 1000);
      log.debug({ entries: batch.entryCount, baselines: batch.baselineCount, ms: Math.round(ms) }, 'ledger flushed');
    } catch (err) {
      ledger.failed(batch);
      metrics?.flushes.inc({ result: 'failed' });
      metrics?.flushDuration.observe({ result: 'failed' }, (performance.now() - t0) / 1000);
      log.error({ err, entries: batch.entryCount }, 'ledger flush failed; the batch will be retried');
      return false;
    }
  }
  return true;
}

/**
 * Reloads passkeys (with the members' download refusals), torrents (with their factors), client
 * rules, the info-hash blocklist, freeleech windows and tokens from the database into the access
 * cache.
 */
export async function refreshAccess(
  db: Kysely<Database>,
  access: AccessCache,
  clock: Clock,
  unregisteredReasonTtl: number,
  opts: { requireVerifiedEmail?: boolean } = {},
): Promise<void> {
  const now = Math.floor(clock.nowMs() / 1000);
  const [users, torrents, rules, blocked, windows, tokens] = await Promise.all([
    listTrackerUsers(db, opts),
    listTrackerTorrents(db, { deletedSince: now - unregisteredReasonTtl }),
    listClientRules(db),
    blockedSwarmHashes(db),
    listFactorWindows(db, now),
    listTokenUses(db, now),
  ]);
  access.replaceAll({
    users,
    torrents,
    rules: rules.map((r) => ({ prefix: r.prefix, action: r.action })),
    blocked,
    windows,
    tokens,
  });
}

/** Reloads the info-hash blocklist alone (TrackerLink.blocklistChanged). */
export async function refreshBlocklist(db: Kysely<Database>, access: AccessCache): Promise<void> {
  access.setBlocklist(await blockedSwarmHashes(db));
}

/** Reloads freeleech windows and tokens alone (TrackerLink.freeleechChanged). */
export async function refreshFreeleech(db: Kysely<Database>, access: AccessCache, clock: Clock): Promise<void> {
  const now = Math.floor(clock.nowMs() / 1000);
  const [windows, tokens] = await Promise.all([listFactorWindows(db, now), listTokenUses(db, now)]);
  access.setWindows(windows);
  access.setTokens(tokens);
}

export async function sweepPeers(store: PeerStore, clock: Clock, peerTimeout: number): Promise<void> {
  await store.sweep(Math.floor(clock.nowMs() / 1000) - peerTimeout);
}

export interface PruneOptions {
  /** Seconds a peer baseline is kept after its last update (ledger.baseline_retention). */
  baselineRetention: number;
  /** Days of hourly member traffic kept (ledger.traffic_retention_days). */
  trafficRetentionDays: number;
}

/**
 * The hourly pruning of the ledger's tables: peer baselines not updated within their retention,
 * and user_traffic_hour rows of hours that ended more than the traffic retention ago.
 */
export async function pruneLedgerTables(db: Kysely<Database>, clock: Clock, o: PruneOptions): Promise<{ baselines: number; trafficHours: number; batches: number }> {
  const now = Math.floor(clock.nowMs() / 1000);
  const baselines = await prunePeerBaselines(db, now - o.baselineRetention);
  // The hour containing (now - retention) is kept whole.
  const trafficHours = await pruneUserTrafficHours(db, trafficHour(now - o.trafficRetentionDays * 86400));
  // Applied batch ids guard against a retried batch being counted twice; a retry comes within
  // seconds or minutes, so they are kept as long as the baselines (days).
  const batches = await pruneLedgerBatches(db, now - o.baselineRetention);
  return { baselines, trafficHours, batches };
}
