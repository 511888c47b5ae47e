/**
 * The traffic ledger: the tracker records each announce's credited traffic here (memory only),
 * merged per (member, torrent), together with each peer's latest cumulative counters. A flush job
 * takes a batch and writes it in one transaction (totals, hourly traffic and baselines together).
 *
 * Allocation-free on the announce path: pending entries and baselines are rows of typed arrays
 * found through a hash index (keyed-rows.ts), not one object per announce. The rows are laid out
 * exactly as a columnar LedgerBatch (src/shared/ledger-batch.ts), on SharedArrayBuffers: take()
 * hands out views of them (no copy, no allocation), which the SQLite writer thread reads without
 * a copy either, and records go on in a second set of tables. Once the batch is done its tables
 * are cleared and become the spare set: two sets at most, reused for the life of the process.
 *
 * Exactly-once: a batch has an id; when a flush fails the SAME batch (same id) is retried first,
 * before any newer traffic, so a flush that committed but whose acknowledgement was lost is not
 * applied twice (storage skips a batch id it already has), and nothing is lost either.
 */
import { randomBytes } from 'node:crypto';
import {
  BASELINE_FIELDS,
  B_DOWNLOADED,
  B_UPDATED_AT,
  B_UPLOADED,
  E_ANNOUNCES,
  E_COMPLETED_AT,
  E_COMPLETIONS,
  E_DOWNLOADED,
  E_FIRST_SEEN_AT,
  E_LAST_SEEN_AT,
  E_LEECH_TIME,
  E_RAW_DOWNLOADED,
  E_RAW_UPLOADED,
  E_SEED_TIME,
  E_UPLOADED,
  ENTRY_FIELDS,
  NO_DATE,
  type LedgerBatch,
} from '../shared/ledger-batch.js';
import { KeyedRows } from './keyed-rows.js';

export interface LedgerOptions {
  /** Prefix of batch ids; random by default (unique per process). */
  nodeId?: string;
  /** Rows allocated up front for entries and for baselines (grown on demand). Default 4096. */
  initialRows?: number;
}

interface Tables {
  entries: KeyedRows;
  baselines: KeyedRows;
}

export class Ledger {
  private entries: KeyedRows;
  private baselines: KeyedRows;
  private spare: Tables | null = null;
  private pending: LedgerBatch | null = null;
  /** The tables whose rows the pending batch views. */
  private pendingTables: Tables | null = null;
  private readonly initialRows: number;
  private seq = 0;
  /** Latest announce time recorded in the current batch (its hour). */
  private latest = 0;
  private readonly node: string;

  constructor(opts: LedgerOptions | string = {}) {
    const o = typeof opts === 'string' ? { nodeId: opts } : opts;
    this.node = o.nodeId ?? randomBytes(6).toString('hex');
    this.initialRows = o.initialRows ?? 4096;
    const t = this.newTables();
    this.entries = t.entries;
    this.baselines = t.baselines;
  }

  private newTables(): Tables {
    return {
      entries: new KeyedRows(ENTRY_FIELDS, false, this.initialRows, true),
      baselines: new KeyedRows(BASELINE_FIELDS, true, this.initialRows, true),
    };
  }

  /**
   * Adds one announce's traffic to the (member, torrent) entry. Bytes and seconds; `now` is the
   * announce time in epoch seconds.
   */
  credit(
    userId: number,
    torrentId: number,
    rawUploaded: number,
    rawDownloaded: number,
    uploaded: number,
    downloaded: number,
    seedTime: number,
    leechTime: number,
    completed: boolean,
    now: number,
  ): void {
    const t = this.entries;
    const r = t.insert(userId, torrentId);
    const v = t.vals;
    const o = r * ENTRY_FIELDS;
    if (t.isNew) {
      v[o + E_COMPLETED_AT] = NO_DATE;
      v[o + E_FIRST_SEEN_AT] = now;
      v[o + E_LAST_SEEN_AT] = now;
    }
    v[o + E_UPLOADED]! += uploaded;
    v[o + E_DOWNLOADED]! += downloaded;
    v[o + E_RAW_UPLOADED]! += rawUploaded;
    v[o + E_RAW_DOWNLOADED]! += rawDownloaded;
    v[o + E_SEED_TIME]! += seedTime;
    v[o + E_LEECH_TIME]! += leechTime;
    v[o + E_ANNOUNCES]! += 1;
    if (completed) {
      v[o + E_COMPLETIONS]! += 1;
      if (v[o + E_COMPLETED_AT] === NO_DATE) v[o + E_COMPLETED_AT] = now;
    }
    if (now > v[o + E_LAST_SEEN_AT]!) v[o + E_LAST_SEEN_AT] = now;
    if (now < v[o + E_FIRST_SEEN_AT]!) v[o + E_FIRST_SEEN_AT] = now;
    if (now > this.latest) this.latest = now;
  }

  /**
   * Sets the peer's baseline (its cumulative counters as of this announce), or marks it removed
   * (the peer sent `stopped`). The last call for a peer within a batch wins. `peerId`: 20 bytes.
   */
  baseline(userId: number, torrentId: number, peerId: Uint8Array, uploaded: number, downloaded: number, removed: boolean, now: number): void {
    if (peerId.length !== 20) throw new RangeError('peer id must be 20 bytes');
    const t = this.baselines;
    const r = t.insert(userId, torrentId, peerId);
    const o = r * BASELINE_FIELDS;
    t.vals[o + B_UPLOADED] = uploaded;
    t.vals[o + B_DOWNLOADED] = downloaded;
    t.vals[o + B_UPDATED_AT] = now;
    t.flags[r] = removed ? 1 : 0;
  }

  /** (member, torrent) entries waiting, including those of a batch waiting for a retry. */
  depth(): number {
    return this.entries.count + (this.pending ? this.pending.entryCount : 0);
  }

  /** Bytes held by the ledger's tables (both sets: the one recording and the pending or spare one). */
  bytes(): number {
    const size = (t: Tables | null) => (t === null ? 0 : t.entries.bytes() + t.baselines.bytes());
    return this.entries.bytes() + this.baselines.bytes() + size(this.spare) + size(this.pendingTables);
  }

  /**
   * The next batch to write: the pending (failed) one if any, else everything recorded so far.
   * Null when there is nothing to write. Call `done` or `failed` with it afterwards. The batch
   * views the ledger's arrays: read it before calling `done` (which recycles them), not after.
   */
  take(): LedgerBatch | null {
    if (this.pending) return this.pending;
    const e = this.entries;
    const b = this.baselines;
    if (e.count === 0 && b.count === 0) return null;
    const batch: LedgerBatch = {
      id: `${this.node}-${++this.seq}-${Date.now().toString(36)}`,
      hour: Math.floor(this.latest / 3600),
      entryCount: e.count,
      entryIds: e.ids.subarray(0, 2 * e.count),
      entryValues: e.vals.subarray(0, ENTRY_FIELDS * e.count),
      baselineCount: b.count,
      baselineIds: b.ids.subarray(0, 2 * b.count),
      baselinePeerIds: b.peers.subarray(0, 20 * b.count),
      baselineValues: b.vals.subarray(0, BASELINE_FIELDS * b.count),
      baselineRemoved: b.flags.subarray(0, b.count),
    };
    this.pendingTables = { entries: e, baselines: b };
    const next = this.spare ?? this.newTables();
    this.spare = null;
    this.entries = next.entries;
    this.baselines = next.baselines;
    this.latest = 0;
    this.pending = batch;
    return batch;
  }

  /** The batch was committed: its arrays are cleared and kept for a later batch. */
  done(batch: LedgerBatch): void {
    if (this.pending !== batch) return;
    const t = this.pendingTables!;
    t.entries.clear();
    t.baselines.clear();
    this.spare = t;
    this.pending = null;
    this.pendingTables = null;
  }

  /** The write failed: the same batch will be offered again by the next take(). */
  failed(batch: LedgerBatch): void {
    // Nothing to do: the batch stays pending (and its tables untouched) until done().
    void batch;
  }
}
