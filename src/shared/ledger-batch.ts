/**
 * What the tracker's traffic ledger hands to storage at each flush. Built by src/swarm/ledger.ts,
 * written in ONE transaction by src/db/ledger.repository.ts (totals and peer baselines together,
 * so that a crash never credits twice nor loses a delta: see docs/tracker.md, "Accounting").
 */

/** Merged traffic of one (member, torrent) since the previous flush. Bytes and seconds. */
export interface LedgerEntry {
  userId: number;
  torrentId: number;
  /** Credited (after the torrent's factors). */
  uploaded: number;
  downloaded: number;
  /** As reported by the clients (deltas of their cumulative counters). */
  rawUploaded: number;
  rawDownloaded: number;
  seedTime: number;
  leechTime: number;
  announces: number;
  /** Number of event=completed announces in this batch (a snatch is recorded once per member). */
  completions: number;
  /** Epoch seconds of the first completion in this batch, or null. */
  completedAt: number | null;
  /** Epoch seconds. */
  firstSeenAt: number;
  lastSeenAt: number;
}

/**
 * The last counters of one peer that the entries above credit up to. Persisted with the totals,
 * they are the baseline after a restart. `removed` deletes the row (the peer sent `stopped`).
 */
export interface BaselineEntry {
  userId: number;
  torrentId: number;
  /** The peer id as 40 lowercase hex characters. */
  peerId: string;
  uploaded: number;
  downloaded: number;
  /** Epoch seconds. */
  updatedAt: number;
  removed: boolean;
}

export interface LedgerBatch {
  /** Unique id of this batch; a batch whose id was already applied is skipped (idempotent retry, #6). */
  id: string;
  entries: LedgerEntry[];
  baselines: BaselineEntry[];
}
