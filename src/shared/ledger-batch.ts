/**
 * What the tracker's traffic ledger hands to storage at each flush. Built by src/swarm/ledger.ts,
 * written in ONE transaction by src/db/ledger.repository.ts (totals, hourly traffic and peer
 * baselines together, so that a crash never credits twice nor loses a delta: see
 * docs/tracker.md, "Accounting").
 *
 * A batch is columnar: typed arrays (on SharedArrayBuffers when the ledger builds them, so that
 * posting a batch to the SQLite writer thread copies nothing) and one string, its id. Building
 * one costs a copy of the ledger's own typed arrays; no object is created per row. The object
 * forms below (LedgerEntry, BaselineEntry, LedgerBatchInit) are for callers that build batches
 * by hand (tests, tools) and for the PostgreSQL path; packLedgerBatch and the unpack functions
 * convert between the two.
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

/** Fields of one entry in LedgerBatch.entryValues, in this order (ENTRY_FIELDS numbers per entry). */
export const E_UPLOADED = 0;
export const E_DOWNLOADED = 1;
export const E_RAW_UPLOADED = 2;
export const E_RAW_DOWNLOADED = 3;
export const E_SEED_TIME = 4;
export const E_LEECH_TIME = 5;
export const E_ANNOUNCES = 6;
export const E_COMPLETIONS = 7;
/** NO_DATE when the entry has no completion. */
export const E_COMPLETED_AT = 8;
export const E_FIRST_SEEN_AT = 9;
export const E_LAST_SEEN_AT = 10;
export const ENTRY_FIELDS = 11;
/** E_COMPLETED_AT of an entry without a completion. */
export const NO_DATE = -1;

/** Fields of one baseline in LedgerBatch.baselineValues (BASELINE_FIELDS numbers per baseline). */
export const B_UPLOADED = 0;
export const B_DOWNLOADED = 1;
export const B_UPDATED_AT = 2;
export const BASELINE_FIELDS = 3;

export const PEER_ID_BYTES = 20;

/**
 * One flush. Row i of the entries is entryIds[2i] (member), entryIds[2i+1] (torrent) and
 * entryValues[ENTRY_FIELDS*i ...]; row j of the baselines is baselineIds[2j] (member),
 * baselineIds[2j+1] (torrent), baselinePeerIds[20j ... 20j+20] (peer id bytes),
 * baselineValues[BASELINE_FIELDS*j ...] and baselineRemoved[j] (1: delete the row).
 *
 * A batch built by the ledger or by packLedgerBatch holds each (member, torrent) and each peer at
 * most once; storage still accepts repeats (entries add up, the last baseline of a peer wins).
 */
export interface LedgerBatch {
  /** Unique id of this batch; a batch whose id was already applied is skipped (idempotent retry, #6). */
  id: string;
  /**
   * The hour (floor(epoch seconds / 3600)) whose user_traffic_hour rows receive this batch's
   * credited traffic: that of the latest announce in the batch. Part of the batch, so that a
   * retry credits the same hour.
   */
  hour: number;
  entryCount: number;
  entryIds: Uint32Array;
  entryValues: Float64Array;
  baselineCount: number;
  baselineIds: Uint32Array;
  baselinePeerIds: Uint8Array;
  baselineValues: Float64Array;
  baselineRemoved: Uint8Array;
}

/** A batch as objects (tests, tools). `hour` defaults to that of the latest lastSeenAt. */
export interface LedgerBatchInit {
  id: string;
  hour?: number;
  entries: readonly LedgerEntry[];
  baselines: readonly BaselineEntry[];
}

export function isLedgerBatch(b: LedgerBatch | LedgerBatchInit): b is LedgerBatch {
  return (b as LedgerBatch).entryIds !== undefined;
}

/** An integer for a counter column: rejects NaN and infinities, rounds fractions. */
export function ledgerInt(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new TypeError(`${what} must be a finite number (got ${v})`);
  return Number.isInteger(v) ? v : Math.round(v);
}

function checkId(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`${what} must be an integer id (got ${v})`);
  return v;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** Typed arrays of the given lengths, on SharedArrayBuffers when `shared` (see LedgerBatch). */
export function allocBatch(id: string, hour: number, entryCount: number, baselineCount: number, shared: boolean): LedgerBatch {
  const buf = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    id,
    hour,
    entryCount,
    entryIds: new Uint32Array(buf(entryCount * 8)),
    entryValues: new Float64Array(buf(entryCount * ENTRY_FIELDS * 8)),
    baselineCount,
    baselineIds: new Uint32Array(buf(baselineCount * 8)),
    baselinePeerIds: new Uint8Array(buf(baselineCount * PEER_ID_BYTES)),
    baselineValues: new Float64Array(buf(baselineCount * BASELINE_FIELDS * 8)),
    baselineRemoved: new Uint8Array(buf(baselineCount)),
  };
}

/**
 * Packs an object batch: entries of the same (member, torrent) are merged (sums; first
 * firstSeenAt, last lastSeenAt, first completedAt), the last baseline of each peer wins, numbers
 * are rounded to integers (non-finite ones throw), peer ids must be 40 hex characters.
 */
export function packLedgerBatch(init: LedgerBatchInit): LedgerBatch {
  const entries = mergeEntries(init.entries);
  const baselines = mergeBaselines(init.baselines);
  let latest = -Infinity;
  for (const e of entries) if (e.lastSeenAt > latest) latest = e.lastSeenAt;
  const hour = init.hour ?? (entries.length > 0 ? Math.floor(latest / 3600) : 0);
  if (!Number.isInteger(hour)) throw new TypeError(`batch hour must be an integer (got ${hour})`);
  const b = allocBatch(init.id, hour, entries.length, baselines.length, false);
  entries.forEach((e, i) => {
    b.entryIds[2 * i] = e.userId;
    b.entryIds[2 * i + 1] = e.torrentId;
    const v = b.entryValues;
    const o = i * ENTRY_FIELDS;
    v[o + E_UPLOADED] = e.uploaded;
    v[o + E_DOWNLOADED] = e.downloaded;
    v[o + E_RAW_UPLOADED] = e.rawUploaded;
    v[o + E_RAW_DOWNLOADED] = e.rawDownloaded;
    v[o + E_SEED_TIME] = e.seedTime;
    v[o + E_LEECH_TIME] = e.leechTime;
    v[o + E_ANNOUNCES] = e.announces;
    v[o + E_COMPLETIONS] = e.completions;
    v[o + E_COMPLETED_AT] = e.completedAt ?? NO_DATE;
    v[o + E_FIRST_SEEN_AT] = e.firstSeenAt;
    v[o + E_LAST_SEEN_AT] = e.lastSeenAt;
  });
  baselines.forEach((x, j) => {
    b.baselineIds[2 * j] = x.userId;
    b.baselineIds[2 * j + 1] = x.torrentId;
    b.baselinePeerIds.set(Buffer.from(x.peerId, 'hex'), j * PEER_ID_BYTES);
    const o = j * BASELINE_FIELDS;
    b.baselineValues[o + B_UPLOADED] = x.uploaded;
    b.baselineValues[o + B_DOWNLOADED] = x.downloaded;
    b.baselineValues[o + B_UPDATED_AT] = x.updatedAt;
    b.baselineRemoved[j] = x.removed ? 1 : 0;
  });
  return b;
}

/** The peer id of baseline j as 40 lowercase hex characters. */
export function baselinePeerHex(b: LedgerBatch, j: number): string {
  const p = b.baselinePeerIds;
  return Buffer.from(p.buffer, p.byteOffset + j * PEER_ID_BYTES, PEER_ID_BYTES).toString('hex');
}

/**
 * Entry i as an object, normalised: integers (non-finite numbers throw), and a completion always
 * has a date (its own, else the entry's lastSeenAt).
 */
export function entryAt(b: LedgerBatch, i: number): LedgerEntry {
  const userId = checkId(b.entryIds[2 * i]!, 'ledger entry userId');
  const torrentId = checkId(b.entryIds[2 * i + 1]!, 'ledger entry torrentId');
  const v = b.entryValues;
  const o = i * ENTRY_FIELDS;
  const n = (f: number, what: string) => ledgerInt(v[o + f]!, `ledger entry ${userId}/${torrentId} ${what}`);
  const completions = n(E_COMPLETIONS, 'completions');
  const lastSeenAt = n(E_LAST_SEEN_AT, 'lastSeenAt');
  const rawCompletedAt = v[o + E_COMPLETED_AT]!;
  const completedAt = rawCompletedAt !== NO_DATE ? n(E_COMPLETED_AT, 'completedAt') : completions > 0 ? lastSeenAt : null;
  return {
    userId,
    torrentId,
    uploaded: n(E_UPLOADED, 'uploaded'),
    downloaded: n(E_DOWNLOADED, 'downloaded'),
    rawUploaded: n(E_RAW_UPLOADED, 'rawUploaded'),
    rawDownloaded: n(E_RAW_DOWNLOADED, 'rawDownloaded'),
    seedTime: n(E_SEED_TIME, 'seedTime'),
    leechTime: n(E_LEECH_TIME, 'leechTime'),
    announces: n(E_ANNOUNCES, 'announces'),
    completions,
    completedAt,
    firstSeenAt: n(E_FIRST_SEEN_AT, 'firstSeenAt'),
    lastSeenAt,
  };
}

/** Baseline j as an object, normalised (integers; non-finite numbers throw). */
export function baselineAt(b: LedgerBatch, j: number): BaselineEntry {
  const userId = checkId(b.baselineIds[2 * j]!, 'baseline userId');
  const torrentId = checkId(b.baselineIds[2 * j + 1]!, 'baseline torrentId');
  const peerId = baselinePeerHex(b, j);
  const o = j * BASELINE_FIELDS;
  const what = `baseline ${userId}:${torrentId}:${peerId}`;
  return {
    userId,
    torrentId,
    peerId,
    uploaded: ledgerInt(b.baselineValues[o + B_UPLOADED]!, `${what} uploaded`),
    downloaded: ledgerInt(b.baselineValues[o + B_DOWNLOADED]!, `${what} downloaded`),
    updatedAt: ledgerInt(b.baselineValues[o + B_UPDATED_AT]!, `${what} updatedAt`),
    removed: b.baselineRemoved[j] !== 0,
  };
}

export function unpackEntries(b: LedgerBatch): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (let i = 0; i < b.entryCount; i++) out.push(entryAt(b, i));
  return out;
}

export function unpackBaselines(b: LedgerBatch): BaselineEntry[] {
  const out: BaselineEntry[] = [];
  for (let j = 0; j < b.baselineCount; j++) out.push(baselineAt(b, j));
  return out;
}

/**
 * Merges entries of the same (member, torrent), normalised as entryAt does, ordered by member then
 * torrent (PostgreSQL takes row locks in the same order in every flush).
 */
export function mergeEntries(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const byKey = new Map<string, LedgerEntry>();
  for (const raw of entries) {
    const e = normaliseEntry(raw);
    const key = `${e.userId}:${e.torrentId}`;
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, e);
      continue;
    }
    byKey.set(key, {
      userId: e.userId,
      torrentId: e.torrentId,
      uploaded: prev.uploaded + e.uploaded,
      downloaded: prev.downloaded + e.downloaded,
      rawUploaded: prev.rawUploaded + e.rawUploaded,
      rawDownloaded: prev.rawDownloaded + e.rawDownloaded,
      seedTime: prev.seedTime + e.seedTime,
      leechTime: prev.leechTime + e.leechTime,
      announces: prev.announces + e.announces,
      completions: prev.completions + e.completions,
      completedAt:
        prev.completedAt === null ? e.completedAt : e.completedAt === null ? prev.completedAt : Math.min(prev.completedAt, e.completedAt),
      firstSeenAt: Math.min(prev.firstSeenAt, e.firstSeenAt),
      lastSeenAt: Math.max(prev.lastSeenAt, e.lastSeenAt),
    });
  }
  return [...byKey.values()].sort((a, b) => a.userId - b.userId || a.torrentId - b.torrentId);
}

function normaliseEntry(e: LedgerEntry): LedgerEntry {
  const userId = checkId(e.userId, 'ledger entry userId');
  const torrentId = checkId(e.torrentId, 'ledger entry torrentId');
  const n = (v: number, what: string) => ledgerInt(v, `ledger entry ${userId}/${torrentId} ${what}`);
  const completions = n(e.completions, 'completions');
  // A completion always has a date: the entry's, else when it was last seen.
  const completedAt = e.completedAt !== null ? n(e.completedAt, 'completedAt') : completions > 0 ? n(e.lastSeenAt, 'lastSeenAt') : null;
  return {
    userId,
    torrentId,
    uploaded: n(e.uploaded, 'uploaded'),
    downloaded: n(e.downloaded, 'downloaded'),
    rawUploaded: n(e.rawUploaded, 'rawUploaded'),
    rawDownloaded: n(e.rawDownloaded, 'rawDownloaded'),
    seedTime: n(e.seedTime, 'seedTime'),
    leechTime: n(e.leechTime, 'leechTime'),
    announces: n(e.announces, 'announces'),
    completions,
    completedAt,
    firstSeenAt: n(e.firstSeenAt, 'firstSeenAt'),
    lastSeenAt: n(e.lastSeenAt, 'lastSeenAt'),
  };
}

/** Keeps the last baseline of each peer (in the order of the last occurrences), normalised. */
export function mergeBaselines(baselines: readonly BaselineEntry[]): BaselineEntry[] {
  const byKey = new Map<string, BaselineEntry>();
  for (const b of baselines) {
    if (!HEX40.test(b.peerId)) throw new TypeError(`baseline peer id must be 40 hex characters (got ${JSON.stringify(b.peerId)})`);
    const peerId = b.peerId.toLowerCase();
    const userId = checkId(b.userId, 'baseline userId');
    const torrentId = checkId(b.torrentId, 'baseline torrentId');
    const key = `${userId}:${torrentId}:${peerId}`;
    byKey.delete(key); // keep the order of the last occurrence
    byKey.set(key, {
      userId,
      torrentId,
      peerId,
      uploaded: ledgerInt(b.uploaded, `baseline ${key} uploaded`),
      downloaded: ledgerInt(b.downloaded, `baseline ${key} downloaded`),
      updatedAt: ledgerInt(b.updatedAt, `baseline ${key} updatedAt`),
      removed: b.removed,
    });
  }
  return [...byKey.values()];
}

/**
 * The credited traffic of each member in the batch (sums over its entries), members with no
 * traffic left out: the rows added to user_traffic_hour at the batch's hour.
 */
export function memberTraffic(entries: readonly LedgerEntry[]): Array<{ userId: number; uploaded: number; downloaded: number }> {
  const byUser = new Map<number, { userId: number; uploaded: number; downloaded: number }>();
  for (const e of entries) {
    if (e.uploaded === 0 && e.downloaded === 0) continue;
    const t = byUser.get(e.userId);
    if (t === undefined) byUser.set(e.userId, { userId: e.userId, uploaded: e.uploaded, downloaded: e.downloaded });
    else {
      t.uploaded += e.uploaded;
      t.downloaded += e.downloaded;
    }
  }
  return [...byUser.values()].sort((a, b) => a.userId - b.userId);
}
