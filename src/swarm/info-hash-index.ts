/**
 * Info hashes as keys, without strings: an info hash is read into five 32-bit words, from its 20
 * bytes as a request carries them or from its 40 hex characters, and hashed from those words.
 * The peer store's swarm table and the access cache's indexes (InfoHashIndex) both key on them,
 * so that an announce goes from the datagram or the query to both without building a hex string
 * (a fresh 40-character string per announce, hashed again by every Map it was looked up in, was
 * about a tenth of a UDP announce's JavaScript time).
 */
import { randomBytes } from 'node:crypto';
import type { InfoHash } from '../shared/types.js';

/** An info hash: 40 hex characters (either case) or its 20 bytes. */
export type InfoHashKey = InfoHash | string | Uint8Array;

const HEXVAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[97 + i] = 10 + i;
  HEXVAL[65 + i] = 10 + i;
}

/**
 * Reads an info hash into `w[0..4]` as five little-endian words of its bytes; false (w left in an
 * unspecified state) when it is neither 20 bytes nor 40 hex characters.
 */
export function loadInfoHash(key: InfoHashKey, w: Uint32Array): boolean {
  if (typeof key !== 'string') {
    if (key.length !== 20) return false;
    for (let k = 0, o = 0; k < 5; k++, o += 4) w[k] = key[o]! | (key[o + 1]! << 8) | (key[o + 2]! << 16) | (key[o + 3]! << 24);
    return true;
  }
  if (key.length !== 40) return false;
  for (let k = 0; k < 5; k++) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const i = (k * 4 + j) * 2;
      const c1 = key.charCodeAt(i);
      const c2 = key.charCodeAt(i + 1);
      const hi = c1 < 128 ? HEXVAL[c1]! : -1;
      const lo = c2 < 128 ? HEXVAL[c2]! : -1;
      if ((hi | lo) < 0) return false;
      v |= ((hi << 4) | lo) << (j * 8);
    }
    w[k] = v;
  }
  return true;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** The info hash as 40 lowercase hex characters, or null when it is neither 20 bytes nor 40 hex. */
export function infoHashHex(key: InfoHashKey): InfoHash | null {
  if (typeof key === 'string') return HEX40.test(key) ? (key.toLowerCase() as InfoHash) : null;
  if (key.length !== 20) return null;
  return Buffer.from(key.buffer, key.byteOffset, 20).toString('hex') as InfoHash;
}

/** One step of MurmurHash3's 32-bit body. */
export function mixIn(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: an unsigned 32-bit hash. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the info hash in w[o .. o+4], from `seed`. */
export function infoHashWordsHash(seed: number, w: Uint32Array, o: number): number {
  let h = mixIn(seed, w[o]!);
  h = mixIn(h, w[o + 1]!);
  h = mixIn(h, w[o + 2]!);
  h = mixIn(h, w[o + 3]!);
  h = mixIn(h, w[o + 4]!);
  return fmix(h);
}

/** The key being looked up (every use is synchronous). */
const KW = new Uint32Array(5);

/** Words per table slot: the key's five words, its entry number + 1 (0 = empty), two spare. */
const SW = 8;
const S_ENTRY = 5;

/**
 * A map from info hashes to values. The table is a power-of-two array of 32-byte slots holding
 * each key's five words beside its entry number, so that a probe reads one cache line (keys kept
 * apart from the table cost a second miss per lookup, measurable on the announce path); linear
 * probing, at most three quarters full, backward-shift deletion (no tombstones). Values live in
 * an array by entry number. The hash's seed is random per index, so that which registered hashes
 * share a probe run differs from process to process.
 */
export class InfoHashIndex<V> {
  private table: Uint32Array;
  private mask: number;
  private vals: Array<V | undefined> = [];
  private readonly freeEntries: number[] = [];
  private count = 0;
  private readonly seed = randomBytes(4).readInt32LE(0);

  constructor(capacity = 16) {
    let c = 16;
    while (c * 3 < capacity * 4) c *= 2;
    this.table = new Uint32Array(c * SW);
    this.mask = c - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: InfoHashKey): V | undefined {
    if (!loadInfoHash(key, KW)) return undefined;
    const slot = this.find();
    return slot < 0 ? undefined : this.vals[this.table[slot * SW + S_ENTRY]! - 1];
  }

  has(key: InfoHashKey): boolean {
    return loadInfoHash(key, KW) && this.find() >= 0;
  }

  /** Sets the value of `key`; returns false (and stores nothing) when `key` is not an info hash. */
  set(key: InfoHashKey, value: V): boolean {
    if (!loadInfoHash(key, KW)) return false;
    const slot = this.find();
    if (slot >= 0) {
      this.vals[this.table[slot * SW + S_ENTRY]! - 1] = value;
      return true;
    }
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const e = this.freeEntries.length > 0 ? this.freeEntries.pop()! : this.vals.length;
    this.vals[e] = value;
    const t = this.table;
    let i = infoHashWordsHash(this.seed, KW, 0) & this.mask;
    while (t[i * SW + S_ENTRY] !== 0) i = (i + 1) & this.mask;
    t.set(KW, i * SW);
    t[i * SW + S_ENTRY] = e + 1;
    this.count++;
    return true;
  }

  delete(key: InfoHashKey): boolean {
    if (!loadInfoHash(key, KW)) return false;
    let hole = this.find();
    if (hole < 0) return false;
    const t = this.table;
    const mask = this.mask;
    const e = t[hole * SW + S_ENTRY]! - 1;
    this.vals[e] = undefined;
    this.freeEntries.push(e);
    this.count--;
    // Backward shift: entries after the hole whose home is not in (hole, j] move into it.
    t[hole * SW + S_ENTRY] = 0;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      if (t[j * SW + S_ENTRY] === 0) break;
      const home = infoHashWordsHash(this.seed, t, j * SW) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        t.copyWithin(hole * SW, j * SW, j * SW + SW);
        t[j * SW + S_ENTRY] = 0;
        hole = j;
      }
    }
    return true;
  }

  /** The table slot holding the key in KW, or -1. */
  private find(): number {
    const t = this.table;
    const mask = this.mask;
    const k0 = KW[0]!;
    let i = infoHashWordsHash(this.seed, KW, 0) & mask;
    for (;;) {
      const o = i * SW;
      if (t[o + S_ENTRY] === 0) return -1;
      if (t[o] === k0 && t[o + 1] === KW[1] && t[o + 2] === KW[2] && t[o + 3] === KW[3] && t[o + 4] === KW[4]) return i;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const size = (this.mask + 1) * 2;
    const t = new Uint32Array(size * SW);
    const mask = size - 1;
    for (let s = 0; s < old.length; s += SW) {
      if (old[s + S_ENTRY] === 0) continue;
      let i = infoHashWordsHash(this.seed, old, s) & mask;
      while (t[i * SW + S_ENTRY] !== 0) i = (i + 1) & mask;
      t.set(old.subarray(s, s + SW), i * SW);
    }
    this.table = t;
    this.mask = mask;
  }
}
