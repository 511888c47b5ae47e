/**
 * A growable table of rows in typed arrays, found by key through an open-addressing hash index:
 * the traffic ledger's pending entries (key: member, torrent) and baselines (key: member, torrent,
 * peer id), and the baselines restored after a restart. No object per row: a row is a number,
 * its key lives in `ids` (2 u32 per row) and `peers` (20 bytes per row when keyed by peer id),
 * its values in `vals` (`stride` f64 per row) and `flags` (1 byte per row).
 *
 * Rows are only appended, so rows 0..count-1 are contiguous in every array; `clear()` forgets
 * them all (the arrays are kept for reuse, or shrunk when they were much larger than needed).
 * With `shared`, the row arrays (not the index) live on SharedArrayBuffers, so that views of
 * them can be posted to another thread without a copy.
 */
export class KeyedRows {
  count = 0;
  ids: Uint32Array;
  peers: Uint8Array;
  vals: Float64Array;
  flags: Uint8Array;
  private capacity: number;
  /** Row + 1 per slot, 0 = empty. At most half full. */
  private index: Int32Array;
  private mask: number;
  private readonly peerBytes: number;

  /**
   * @param stride f64 values per row
   * @param byPeer whether the key includes a 20-byte peer id
   * @param initialRows rows allocated up front (rounded up to a power of two)
   * @param shared row arrays on SharedArrayBuffers
   */
  constructor(
    readonly stride: number,
    byPeer: boolean,
    private readonly initialRows = 1024,
    private readonly shared = false,
  ) {
    this.peerBytes = byPeer ? 20 : 0;
    this.capacity = pow2(Math.max(16, initialRows));
    this.ids = new Uint32Array(this.buffer(this.capacity * 8));
    this.peers = new Uint8Array(this.buffer(this.capacity * this.peerBytes));
    this.vals = new Float64Array(this.buffer(this.capacity * stride * 8));
    this.flags = new Uint8Array(this.buffer(this.capacity));
    this.index = new Int32Array(this.capacity * 2);
    this.mask = this.capacity * 2 - 1;
  }

  /** The row of the key, or -1. `peer` is ignored unless the table is keyed by peer id. */
  find(a: number, b: number, peer?: Uint8Array): number {
    const idx = this.index;
    const ids = this.ids;
    let slot = this.hash(a, b, peer) & this.mask;
    for (;;) {
      const r = idx[slot]! - 1;
      if (r < 0) return -1;
      if (ids[2 * r] === a && ids[2 * r + 1] === b && (this.peerBytes === 0 || this.samePeer(r, peer!))) return r;
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * The row of the key, appended (values zero, flag 0) when absent; `isNew` tells which. The
   * returned row is valid until the next insert or clear (the arrays may be replaced on growth,
   * so read `vals`/`flags` from the table after inserting).
   */
  insert(a: number, b: number, peer?: Uint8Array): number {
    const ids = this.ids;
    let slot = this.hash(a, b, peer) & this.mask;
    for (;;) {
      const r = this.index[slot]! - 1;
      if (r < 0) break;
      if (ids[2 * r] === a && ids[2 * r + 1] === b && (this.peerBytes === 0 || this.samePeer(r, peer!))) {
        this.isNew = false;
        return r;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.count === this.capacity) {
      this.resize(this.capacity * 2);
      return this.insert(a, b, peer);
    }
    const r = this.count++;
    this.ids[2 * r] = a;
    this.ids[2 * r + 1] = b;
    if (this.peerBytes !== 0) this.peers.set(peer!.length === 20 ? peer! : peer!.subarray(0, 20), r * 20);
    this.index[slot] = r + 1;
    this.isNew = true;
    return r;
  }

  /** Whether the last insert() appended its row. */
  isNew = false;
  /** Consecutive clear() calls that found the arrays more than 4x too large. */
  private smallFills = 0;

  /**
   * Forgets every row. The arrays shrink once SHRINK_AFTER fills in a row needed less than a
   * quarter of them: a burst followed by a quiet flush does not free and reallocate megabytes at
   * each swing (which, with glibc's sliding mmap threshold, leaves the freed space resident).
   */
  clear(): void {
    const used = this.count;
    this.count = 0;
    const want = pow2(Math.max(16, this.initialRows, used * 2));
    this.smallFills = this.capacity > 4 * want ? this.smallFills + 1 : 0;
    if (this.smallFills >= SHRINK_AFTER) {
      this.smallFills = 0;
      this.resize(want, false);
      return;
    }
    this.index.fill(0);
    this.vals.fill(0, 0, used * this.stride);
    this.flags.fill(0, 0, used);
  }

  /** Bytes held by the arrays. */
  bytes(): number {
    return this.ids.byteLength + this.peers.byteLength + this.vals.byteLength + this.flags.byteLength + this.index.byteLength;
  }

  private buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }

  private samePeer(r: number, peer: Uint8Array): boolean {
    const p = this.peers;
    const o = r * 20;
    for (let i = 0; i < 20; i++) if (p[o + i] !== peer[i]) return false;
    return true;
  }

  private hash(a: number, b: number, peer?: Uint8Array): number {
    let h = Math.imul(a ^ 0x5bd1e995, 0x9e3779b1) ^ b;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    if (this.peerBytes !== 0) {
      const p = peer!;
      for (let i = 0; i < 20; i += 4) {
        const w = p[i]! | (p[i + 1]! << 8) | (p[i + 2]! << 16) | (p[i + 3]! << 24);
        h = Math.imul(h ^ w, 0xcc9e2d51);
        h ^= h >>> 15;
      }
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  private resize(capacity: number, keep = true): void {
    const n = keep ? this.count : 0;
    const ids = new Uint32Array(this.buffer(capacity * 8));
    const peers = new Uint8Array(this.buffer(capacity * this.peerBytes));
    const vals = new Float64Array(this.buffer(capacity * this.stride * 8));
    const flags = new Uint8Array(this.buffer(capacity));
    if (n > 0) {
      ids.set(this.ids.subarray(0, n * 2));
      peers.set(this.peers.subarray(0, n * this.peerBytes));
      vals.set(this.vals.subarray(0, n * this.stride));
      flags.set(this.flags.subarray(0, n));
    }
    this.ids = ids;
    this.peers = peers;
    this.vals = vals;
    this.flags = flags;
    this.capacity = capacity;
    this.index = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
    for (let r = 0; r < n; r++) {
      let slot = this.hash(ids[2 * r]!, ids[2 * r + 1]!, this.peerBytes !== 0 ? peers.subarray(r * 20, r * 20 + 20) : undefined) & this.mask;
      while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
      this.index[slot] = r + 1;
    }
  }
}

/** See clear(). */
export const SHRINK_AFTER = 16;

function pow2(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}
