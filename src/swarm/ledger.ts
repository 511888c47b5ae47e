/**
 * The traffic ledger: the tracker records each announce's credited traffic here (memory only),
 * merged per (member, torrent), together with each peer's latest cumulative counters. A flush job
 * takes a batch and writes it in one transaction (totals and baselines together).
 *
 * Exactly-once: a batch has an id; when a flush fails the SAME batch (same id) is retried first,
 * before any newer traffic, so a flush that committed but whose acknowledgement was lost is not
 * applied twice (storage skips a batch id it already has), and nothing is lost either.
 */
import { randomBytes } from 'node:crypto';
import type { BaselineEntry, LedgerBatch, LedgerEntry } from '../shared/ledger-batch.js';

export interface LedgerRecord {
  userId: number;
  torrentId: number;
  /** Peer id, 40 lowercase hex. */
  peerId: string;
  rawUploaded: number;
  rawDownloaded: number;
  uploaded: number;
  downloaded: number;
  seedTime: number;
  leechTime: number;
  completed: boolean;
  /** The peer's cumulative counters as of this announce (the new baseline). */
  counterUploaded: number;
  counterDownloaded: number;
  /** The peer left (event=stopped): its baseline row is deleted. */
  removed: boolean;
  /** Epoch seconds. */
  now: number;
}

export class Ledger {
  private entries = new Map<string, LedgerEntry>();
  private baselines = new Map<string, BaselineEntry>();
  private pending: LedgerBatch | null = null;
  private seq = 0;
  private readonly node: string;

  constructor(nodeId?: string) {
    this.node = nodeId ?? randomBytes(6).toString('hex');
  }

  record(r: LedgerRecord): void {
    const ek = r.userId + ':' + r.torrentId;
    let e = this.entries.get(ek);
    if (e === undefined) {
      e = {
        userId: r.userId,
        torrentId: r.torrentId,
        uploaded: 0,
        downloaded: 0,
        rawUploaded: 0,
        rawDownloaded: 0,
        seedTime: 0,
        leechTime: 0,
        announces: 0,
        completions: 0,
        completedAt: null,
        firstSeenAt: r.now,
        lastSeenAt: r.now,
      };
      this.entries.set(ek, e);
    }
    e.uploaded += r.uploaded;
    e.downloaded += r.downloaded;
    e.rawUploaded += r.rawUploaded;
    e.rawDownloaded += r.rawDownloaded;
    e.seedTime += r.seedTime;
    e.leechTime += r.leechTime;
    e.announces += 1;
    if (r.completed) {
      e.completions += 1;
      if (e.completedAt === null) e.completedAt = r.now;
    }
    if (r.now > e.lastSeenAt) e.lastSeenAt = r.now;

    this.baselines.set(ek + ':' + r.peerId, {
      userId: r.userId,
      torrentId: r.torrentId,
      peerId: r.peerId,
      uploaded: r.counterUploaded,
      downloaded: r.counterDownloaded,
      updatedAt: r.now,
      removed: r.removed,
    });
  }

  /** Entries (member, torrent) and baselines waiting, not counting a pending retry. */
  depth(): number {
    return this.entries.size + (this.pending ? this.pending.entries.length : 0);
  }

  /**
   * The next batch to write: the pending (failed) one if any, else everything recorded so far.
   * Null when there is nothing to write. Call `done` or `failed` with it afterwards.
   */
  take(): LedgerBatch | null {
    if (this.pending) return this.pending;
    if (this.entries.size === 0 && this.baselines.size === 0) return null;
    const batch: LedgerBatch = {
      id: `${this.node}-${++this.seq}-${Date.now().toString(36)}`,
      entries: [...this.entries.values()],
      baselines: [...this.baselines.values()],
    };
    this.entries = new Map();
    this.baselines = new Map();
    this.pending = batch;
    return batch;
  }

  /** The batch was committed. */
  done(batch: LedgerBatch): void {
    if (this.pending === batch) this.pending = null;
  }

  /** The write failed: the same batch will be offered again by the next take(). */
  failed(batch: LedgerBatch): void {
    this.pending = batch;
  }
}
