/**
 * The in-memory peer store: the tracker's hot path. No JS object is kept per peer or per swarm.
 *
 * Peers
 * -----
 * Peers live in one slab: a single ArrayBuffer of 64-byte records indexed by a slot number, read and
 * written through three typed-array views of the same buffer (Float64, Uint32, Uint8). Records
 * rather than one array per field: an announce touches its own peer and ~numwant others at random
 * places in a slab far larger than the CPU caches; with one array per field the announcing peer
 * cost ~7 cache misses and each selected peer 3 (link, flags, address), with records about one
 * each. Measured at 1M peers (scripts/peer-store-memory.ts, scattered joins): ~1.15x the
 * re-announce rate of the struct-of-arrays version, for 1 byte more per peer. Free slots form a LIFO
 * free list threaded through `next`. When the slab is full its capacity doubles: a new buffer, one
 * copy.
 *
 *   bytes   view      field
 *   0-7     Float64   uploaded (last reported cumulative counter; exceeds 2^32)
 *   8-15    Float64   downloaded
 *   16-19   Uint32    next    ring links (seeder ring or leecher ring of the swarm), free list
 *   20-23   Uint32    prev
 *   24-27   Uint32    swarm number
 *   28-31   Uint32    user id (0 = public)
 *   32-35   Uint32    last announce, seconds since the epoch
 *   36-55   Uint8     peer id (20 bytes)
 *   56-61   Uint8     IPv4: compact ip + port (BEP 23), copied out as is;
 *                     IPv6: bytes 56-59 = index into the IPv6 side slab (Uint32)
 *   62      Uint8     flags: USED, SEEDER, V6, COMPLETED
 *   63      -         spare
 *
 * IPv6 addresses live in a side slab of 18-byte compact entries (BEP 7: ip + port) with its own free
 * stack (4 bytes): 22 bytes per IPv6 peer only.
 *
 * Each swarm has two circular doubly-linked rings, seeders and leechers. A ring has no head, only a
 * cursor: selection walks from the cursor, takes what it needs and leaves the cursor after the last
 * peer taken, so selection is O(numwant) and round-robin (every peer is handed out once per lap).
 * A new peer is inserted just before the cursor (the end of the current lap). A peer whose `left`
 * goes to 0 moves from the leecher ring to the seeder ring (and back if it goes above 0).
 *
 * Peer lookup by (swarm, user id, peer id) goes through an open-addressing table (Uint32Array of
 * slot + 1, 0 = empty; power-of-two capacity, load <= 0.75, linear probing, backward-shift
 * deletion, so no tombstones). The hash is a murmur3-style mix of the swarm number and the user id,
 * plus the peer id bytes only for user 0. For a private user, all of their peers in one swarm thus
 * share a home bucket and sit in one probe run: the miss that precedes the insertion of a new peer
 * walks that run anyway, and counts the user's peers on the way. The per-user cap therefore costs
 * nothing extra (no walk of the swarm). The price is that those (at most maxPeersPerUser) keys
 * collide; with the usual caps (1-5) this is negligible.
 *
 * Swarms
 * ------
 * Swarms are 48-byte records in a Uint32Array indexed by a swarm number: seeder cursor, leecher
 * cursor, seeder count, leecher count, completed count, live flag, and the info hash as 20 bytes.
 * The 40-hex info hash is parsed into those 20 bytes and looked up in a second open-addressing
 * table (swarm number + 1, same scheme as the peer table). A JS Map of hex strings was the first
 * version: ~100 bytes per swarm of Map entry and key string, and with a fresh request string per
 * announce the Map lookup was a quarter of the announce time (the typed table: ~1.3x the announce
 * rate, 5 bytes less per peer). Freed swarm numbers are reused.
 *
 * Byte budget per peer at 1,000,000 peers over 100,000 torrents:
 *   slab           64 B x 2^20 slots / 1e6 peers             ~ 67 B
 *   peer table      4 B x 2^21 buckets / 1e6 peers            ~  8.4 B
 *   IPv6 side slab 22 B x 5 % of the peers                    ~  1.1 B
 *   swarms         48 B x 2^17 records + 4 B x 2^18 buckets,
 *                  / 1e6 peers                                ~  7.3 B
 *                                                             -------
 *                                                             ~ 84 B (target: 100)
 * (scripts/peer-store-memory.ts measures it.)
 *
 * Semantics (the rest is the PeerStore contract):
 * - Selection: a seeder is given leechers only. A leecher is given a mix proportional to the swarm
 *   (seeders' share rounded up, at least one seeder when there is one), seeders first; whatever one
 *   side cannot fill is taken from the other. Never the announcing peer itself.
 * - event=completed increments the swarm's completed counter once per peer key (a COMPLETED flag
 *   bit); after a stop the key is gone and a new completion counts again.
 * - event=paused (BEP 21) is an ordinary announce: the peer stays, as a seeder if left = 0 and as a
 *   leecher otherwise, and is given peers like any other.
 * - event=stopped removes the peer; the swarm, even empty, stays (and keeps its completed counter)
 *   until the next sweep, which removes every empty swarm.
 * - Counts returned by announce are after this announce (they include the announcing peer).
 * - An info hash must be 40 hex characters (either case; forEachSwarm gives lowercase): announce
 *   throws a RangeError otherwise, as for a peer id that is not 20 bytes or an ip that is not 4 or
 *   16; scrape reports zeros and dropSwarm does nothing for such a hash.
 * - The store is deterministic: the `random` option is accepted for interface compatibility but
 *   round-robin cursors need no randomness.
 */
import type { InfoHash } from '../shared/types.js';
import type {
  AnnounceOutcome,
  PeerAnnounce,
  PeerSnapshot,
  PeerStore,
  PeerStoreOptions,
  StoreStats,
  SwarmCounts,
  SweepResult,
} from './peer-store.js';

export type { PeerSnapshot };

const NIL = 0xffffffff;

const F_USED = 1;
const F_SEEDER = 2;
const F_V6 = 4;
const F_COMPLETED = 8;

/** Bytes per peer record. */
export const PEER_SLOT_BYTES = 64;
// Float64 index = slot * 8 + D_*.
const D_UP = 0;
const D_DOWN = 1;
// Uint32 index = slot * 16 + W_*.
const W_NEXT = 4;
const W_PREV = 5;
const W_SWARM = 6;
const W_USER = 7;
const W_SEEN = 8;
const W_V6 = 14;
// Byte offset = slot * 64 + B_*.
const B_PID = 36;
const B_ADDR = 56;
const B_FLAGS = 62;

/** Uint32 words per swarm record, and their offsets. */
const SWARM_WORDS = 12;
const S_SCUR = 0;
const S_LCUR = 1;
/** A ring's count sits two words after its cursor. */
const S_COUNT = 2;
const S_SN = 2;
const S_LN = 3;
const S_DONE = 4;
const S_LIVE = 5;
/** The info hash, 20 bytes as 5 little-endian words (6-10); word 11 is spare. */
const S_HASH = 6;

const HEXVAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[97 + i] = 10 + i;
  HEXVAL[65 + i] = 10 + i;
}
const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));

/** The info hash being looked up, as 5 little-endian words (set by parseInfoHash). */
const HW = new Uint32Array(5);

/** Parses 40 hex characters into HW; false if it is not that. */
function parseInfoHash(h: string): boolean {
  if (h.length !== 40) return false;
  for (let k = 0; k < 5; k++) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const i = (k * 4 + j) * 2;
      const c1 = h.charCodeAt(i);
      const c2 = h.charCodeAt(i + 1);
      const hi = c1 < 128 ? HEXVAL[c1]! : -1;
      const lo = c2 < 128 ? HEXVAL[c2]! : -1;
      if ((hi | lo) < 0) return false;
      v |= ((hi << 4) | lo) << (j * 8);
    }
    HW[k] = v;
  }
  return true;
}

function swarmKeyHash(w: Uint32Array, o: number): number {
  let h = mixIn(0x3c6ef372, w[o]!);
  h = mixIn(h, w[o + 1]!);
  h = mixIn(h, w[o + 2]!);
  h = mixIn(h, w[o + 3]!);
  h = mixIn(h, w[o + 4]!);
  return fmix(h);
}

const EMPTY = new Uint8Array(0);

export interface MemoryPeerStoreOptions extends PeerStoreOptions {
  /** Unused: the store is deterministic. Accepted so that every store takes the same options. */
  random?: () => number;
  /** Initial slab capacity in peers (rounded up to a power of two, at least 2). Default 1024. */
  initialPeerCapacity?: number;
  /** Initial swarm capacity (rounded up to a power of two, at least 2). Default 256. */
  initialSwarmCapacity?: number;
}


function pow2AtLeast(n: number, min: number): number {
  let c = min;
  while (c < n) c *= 2;
  return c;
}

function mixIn(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function word(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

/**
 * Hash of a peer key. The peer id (20 bytes at `o` in `pid`) only takes part for user 0, so that a
 * private user's peers in one swarm share a home bucket (see the module comment).
 */
function keyHash(swarm: number, user: number, pid: Uint8Array, o: number): number {
  let h = mixIn(0x2545f491, swarm);
  h = mixIn(h, user);
  if (user === 0) {
    h = mixIn(h, word(pid, o));
    h = mixIn(h, word(pid, o + 4));
    h = mixIn(h, word(pid, o + 8));
    h = mixIn(h, word(pid, o + 12));
    h = mixIn(h, word(pid, o + 16));
  }
  return fmix(h);
}


export class MemoryPeerStore implements PeerStore {
  private readonly maxPerUser: number;
  private readonly initPeerCap: number;
  private readonly initSwarmCap: number;

  // Peer slab: three views of one buffer.
  private cap = 0;
  /** Slots [0, hi) have been handed out at least once. */
  private hi = 0;
  private freeHead = NIL;
  private d = new Float64Array(0);
  private w = new Uint32Array(0);
  private b = new Uint8Array(0);

  // IPv6 side slab: 18 bytes (ip + port) per entry, free stack.
  private v6cap = 0;
  private v6hi = 0;
  private v6freeN = 0;
  private v6 = new Uint8Array(0);
  private v6free = new Uint32Array(0);

  // Lookup table.
  private table = new Uint32Array(0);
  private tmask = 0;
  private tcount = 0;
  private tlimit = 0;
  /** Set by a missed lookup: the empty bucket ending the probe run, and the user's peers seen in it. */
  private probeEmpty = 0;
  private probeUserCount = 0;

  // Swarms: records, and an open-addressing table of swarm + 1 keyed by the info hash.
  private swarmCap = 0;
  private swarmHi = 0;
  private swarmFree: number[] = [];
  private nSwarms = 0;
  private sw = new Uint32Array(0);
  private stable = new Uint32Array(0);
  private smask = 0;
  private slimit = 0;
  /** Set by a missed swarm lookup: the empty bucket ending the probe run. */
  private sprobe = 0;

  // Totals.
  private nPeers = 0;
  private nSeeders = 0;
  private nV6 = 0;

  /** Selected slots of the current announce. */
  private sel = new Uint32Array(64);

  constructor(opts: MemoryPeerStoreOptions) {
    this.maxPerUser = opts.maxPeersPerUser;
    this.initPeerCap = pow2AtLeast(opts.initialPeerCapacity ?? 1024, 2);
    this.initSwarmCap = pow2AtLeast(opts.initialSwarmCapacity ?? 256, 2);
    this.reset();
  }

  private reset(): void {
    this.cap = 0;
    this.hi = 0;
    this.freeHead = NIL;
    this.resizeSlab(this.initPeerCap);
    this.v6cap = 0;
    this.v6hi = 0;
    this.v6freeN = 0;
    this.v6 = new Uint8Array(0);
    this.v6free = new Uint32Array(0);
    this.table = new Uint32Array(pow2AtLeast(Math.ceil(this.initPeerCap / 0.75), 16));
    this.tmask = this.table.length - 1;
    this.tlimit = (this.table.length * 3) >>> 2;
    this.tcount = 0;
    this.swarmCap = 0;
    this.swarmHi = 0;
    this.swarmFree = [];
    this.nSwarms = 0;
    this.resizeSwarms(this.initSwarmCap);
    this.stable = new Uint32Array(pow2AtLeast(Math.ceil(this.initSwarmCap / 0.75), 16));
    this.smask = this.stable.length - 1;
    this.slimit = (this.stable.length * 3) >>> 2;
    this.nPeers = 0;
    this.nSeeders = 0;
    this.nV6 = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Announce

  announce(a: PeerAnnounce): AnnounceOutcome {
    const pidIn = a.peerId;
    if (pidIn.length !== 20) throw new RangeError('peerId must be 20 bytes');
    const ip = a.ip;
    const isV6 = ip.length === 16;
    if (!isV6 && ip.length !== 4) throw new RangeError('ip must be 4 or 16 bytes');
    const userId = a.userId >>> 0;
    const now = a.now >>> 0;

    if (!parseInfoHash(a.infoHash)) throw new RangeError('infoHash must be 40 hex characters');

    if (this.tcount >= this.tlimit) this.growTable();
    if (this.nSwarms >= this.slimit) this.growSwarmTable();
    const found = this.findSwarm();
    let s = found === NIL ? undefined : found;
    let slot = NIL;
    if (s !== undefined) slot = this.lookup(s, userId, pidIn);

    if (a.event === 'stopped') {
      if (slot === NIL) return this.bare(s, true, 0, 0, 0, false);
      const pu = this.d[slot * 8 + D_UP]!;
      const pd = this.d[slot * 8 + D_DOWN]!;
      const last = this.w[slot * 16 + W_SEEN]!;
      const ws = (this.b[slot * 64 + B_FLAGS]! & F_SEEDER) !== 0;
      this.removePeer(slot);
      return this.bare(s, false, pu, pd, now > last ? now - last : 0, ws);
    }

    const seeder = a.left === 0;
    let isNew = false;
    let pu = 0;
    let pd = 0;
    let elapsed = 0;
    let wasSeeder = false;

    if (slot === NIL) {
      // A new peer.
      if (userId !== 0) {
        const have = s === undefined ? 0 : this.probeUserCount;
        if (have >= this.maxPerUser) {
          const out = this.bare(s, true, 0, 0, 0, false);
          out.refused = 'peer-limit';
          return out;
        }
      }
      let pos: number;
      if (s === undefined) {
        s = this.createSwarm();
        pos = NIL;
      } else {
        pos = this.probeEmpty;
      }
      isNew = true;
      slot = this.allocSlot();
      const w = this.w;
      const b = this.b;
      w[slot * 16 + W_SWARM] = s;
      w[slot * 16 + W_USER] = userId;
      const po = slot * 64 + B_PID;
      for (let j = 0; j < 20; j++) b[po + j] = pidIn[j]!;
      if (pos === NIL) this.tableInsert(slot);
      else {
        this.table[pos] = slot + 1;
        this.tcount++;
      }
      this.nPeers++;
      if (seeder) {
        b[slot * 64 + B_FLAGS] = F_USED | F_SEEDER;
        this.nSeeders++;
        this.ringInsert(s * SWARM_WORDS + S_SCUR, slot);
      } else {
        b[slot * 64 + B_FLAGS] = F_USED;
        this.ringInsert(s * SWARM_WORDS + S_LCUR, slot);
      }
    } else {
      // A known peer.
      const d = this.d;
      pu = d[slot * 8 + D_UP]!;
      pd = d[slot * 8 + D_DOWN]!;
      const last = this.w[slot * 16 + W_SEEN]!;
      elapsed = now > last ? now - last : 0;
      const fo = slot * 64 + B_FLAGS;
      const f = this.b[fo]!;
      wasSeeder = (f & F_SEEDER) !== 0;
      if (wasSeeder !== seeder) {
        const base = s! * SWARM_WORDS;
        if (wasSeeder) {
          this.ringRemove(base + S_SCUR, slot);
          this.ringInsert(base + S_LCUR, slot);
          this.b[fo] = f & ~F_SEEDER;
          this.nSeeders--;
        } else {
          this.ringRemove(base + S_LCUR, slot);
          this.ringInsert(base + S_SCUR, slot);
          this.b[fo] = f | F_SEEDER;
          this.nSeeders++;
        }
      }
    }
    const sb = s! * SWARM_WORDS;
    this.d[slot * 8 + D_UP] = a.uploaded;
    this.d[slot * 8 + D_DOWN] = a.downloaded;
    this.w[slot * 16 + W_SEEN] = now;
    this.writeAddr(slot, ip, isV6, a.port);
    if (a.event === 'completed') {
      const fo = slot * 64 + B_FLAGS;
      const f = this.b[fo]!;
      if ((f & F_COMPLETED) === 0) {
        this.b[fo] = f | F_COMPLETED;
        this.sw[sb + S_DONE] = this.sw[sb + S_DONE]! + 1;
      }
    }

    // Selection.
    const numwant = a.numwant;
    let n = 0;
    if (numwant > 0) {
      if (seeder) {
        const kl = Math.min(numwant, this.sw[sb + S_LN]!);
        if (kl > this.sel.length) this.sel = new Uint32Array(kl);
        n = this.take(sb + S_LCUR, kl, NIL, 0);
      } else {
        const S = this.sw[sb + S_SN]!;
        const L = this.sw[sb + S_LN]! - 1;
        let ks: number;
        let kl: number;
        if (S + L <= numwant) {
          ks = S;
          kl = L;
        } else {
          ks = Math.min(S, Math.ceil((numwant * S) / (S + L)));
          kl = Math.min(L, numwant - ks);
          ks = Math.min(S, numwant - kl);
        }
        if (ks + kl > this.sel.length) this.sel = new Uint32Array(ks + kl);
        n = this.take(sb + S_SCUR, ks, NIL, 0);
        n = this.take(sb + S_LCUR, kl, slot, n);
      }
    }

    let peers4 = EMPTY;
    let peers6 = EMPTY;
    let ids4: Uint8Array | undefined;
    let ids6: Uint8Array | undefined;
    const want = a.wantPeerIds;
    if (n > 0) {
      const sel = this.sel;
      const b = this.b;
      let n6 = 0;
      for (let i = 0; i < n; i++) if ((b[sel[i]! * 64 + B_FLAGS]! & F_V6) !== 0) n6++;
      const n4 = n - n6;
      if (n4 > 0) peers4 = new Uint8Array(n4 * 6);
      if (n6 > 0) peers6 = new Uint8Array(n6 * 18);
      if (want) {
        ids4 = n4 > 0 ? new Uint8Array(n4 * 20) : EMPTY;
        ids6 = n6 > 0 ? new Uint8Array(n6 * 20) : EMPTY;
      }
      const v6 = this.v6;
      const w = this.w;
      let o4 = 0;
      let o6 = 0;
      for (let i = 0; i < n; i++) {
        const p = sel[i]!;
        const rb = p * 64;
        if ((b[rb + B_FLAGS]! & F_V6) === 0) {
          const ao = rb + B_ADDR;
          const oo = o4 * 6;
          peers4[oo] = b[ao]!;
          peers4[oo + 1] = b[ao + 1]!;
          peers4[oo + 2] = b[ao + 2]!;
          peers4[oo + 3] = b[ao + 3]!;
          peers4[oo + 4] = b[ao + 4]!;
          peers4[oo + 5] = b[ao + 5]!;
          if (ids4 !== undefined) {
            const io = o4 * 20;
            const po = rb + B_PID;
            for (let j = 0; j < 20; j++) ids4[io + j] = b[po + j]!;
          }
          o4++;
        } else {
          const vo = w[p * 16 + W_V6]! * 18;
          const oo = o6 * 18;
          for (let j = 0; j < 18; j++) peers6[oo + j] = v6[vo + j]!;
          if (ids6 !== undefined) {
            const io = o6 * 20;
            const po = rb + B_PID;
            for (let j = 0; j < 20; j++) ids6[io + j] = b[po + j]!;
          }
          o6++;
        }
      }
    } else if (want) {
      ids4 = EMPTY;
      ids6 = EMPTY;
    }

    const sw = this.sw;
    const out: AnnounceOutcome = {
      complete: sw[sb + S_SN]!,
      incomplete: sw[sb + S_LN]!,
      downloaded: sw[sb + S_DONE]!,
      peers4,
      peers6,
      isNew,
      prevUploaded: pu,
      prevDownloaded: pd,
      elapsed,
      wasSeeder,
    };
    if (want) {
      out.peerIds4 = ids4;
      out.peerIds6 = ids6;
    }
    return out;
  }

  /** An outcome without peers (stopped, refused). */
  private bare(
    s: number | undefined,
    isNew: boolean,
    pu: number,
    pd: number,
    elapsed: number,
    wasSeeder: boolean,
  ): AnnounceOutcome {
    const sb = s === undefined ? -1 : s * SWARM_WORDS;
    return {
      complete: sb < 0 ? 0 : this.sw[sb + S_SN]!,
      incomplete: sb < 0 ? 0 : this.sw[sb + S_LN]!,
      downloaded: sb < 0 ? 0 : this.sw[sb + S_DONE]!,
      peers4: EMPTY,
      peers6: EMPTY,
      isNew,
      prevUploaded: pu,
      prevDownloaded: pd,
      elapsed,
      wasSeeder,
    };
  }

  private writeAddr(slot: number, ip: Uint8Array, isV6: boolean, port: number): void {
    const b = this.b;
    const fo = slot * 64 + B_FLAGS;
    const f = b[fo]!;
    if (!isV6) {
      if ((f & F_V6) !== 0) {
        this.v6free[this.v6freeN++] = this.w[slot * 16 + W_V6]!;
        b[fo] = f & ~F_V6;
        this.nV6--;
      }
      const ao = slot * 64 + B_ADDR;
      b[ao] = ip[0]!;
      b[ao + 1] = ip[1]!;
      b[ao + 2] = ip[2]!;
      b[ao + 3] = ip[3]!;
      b[ao + 4] = port >>> 8;
      b[ao + 5] = port;
      return;
    }
    let idx: number;
    if ((f & F_V6) !== 0) {
      idx = this.w[slot * 16 + W_V6]!;
    } else {
      if (this.v6freeN > 0) idx = this.v6free[--this.v6freeN]!;
      else {
        if (this.v6hi === this.v6cap) this.growV6();
        idx = this.v6hi++;
      }
      this.w[slot * 16 + W_V6] = idx;
      b[fo] = f | F_V6;
      this.nV6++;
    }
    const v6 = this.v6;
    const vo = idx * 18;
    for (let j = 0; j < 16; j++) v6[vo + j] = ip[j]!;
    v6[vo + 16] = port >>> 8;
    v6[vo + 17] = port;
  }

  /**
   * Takes up to k peers from the ring whose cursor is at `ci` in the swarm records, skipping `self`;
   * appends to `sel` from n. The walk is bounded by the ring's count too, so that a corrupted ring
   * could never hang the tracker.
   */
  private take(ci: number, k: number, self: number, n: number): number {
    if (k <= 0) return n;
    const sw = this.sw;
    let c = sw[ci]!;
    if (c === NIL) return n;
    const w = this.w;
    const sel = this.sel;
    const start = c;
    let steps = sw[ci + S_COUNT]!;
    do {
      if (c !== self) {
        sel[n++] = c;
        k--;
      }
      c = w[c * 16 + W_NEXT]!;
    } while (k > 0 && c !== start && --steps > 0);
    sw[ci] = c;
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Rings (`ci`: index of the ring's cursor in the swarm records; its count is at ci + S_COUNT)

  private ringInsert(ci: number, slot: number): void {
    const sw = this.sw;
    const w = this.w;
    const c = sw[ci]!;
    const r = slot * 16;
    if (c === NIL) {
      w[r + W_NEXT] = slot;
      w[r + W_PREV] = slot;
      sw[ci] = slot;
    } else {
      const p = w[c * 16 + W_PREV]!;
      w[p * 16 + W_NEXT] = slot;
      w[r + W_PREV] = p;
      w[r + W_NEXT] = c;
      w[c * 16 + W_PREV] = slot;
    }
    sw[ci + S_COUNT] = sw[ci + S_COUNT]! + 1;
  }

  private ringRemove(ci: number, slot: number): void {
    const sw = this.sw;
    const w = this.w;
    const r = slot * 16;
    const n = w[r + W_NEXT]!;
    if (n === slot) {
      sw[ci] = NIL;
    } else {
      const p = w[r + W_PREV]!;
      w[p * 16 + W_NEXT] = n;
      w[n * 16 + W_PREV] = p;
      if (sw[ci] === slot) sw[ci] = n;
    }
    sw[ci + S_COUNT] = sw[ci + S_COUNT]! - 1;
  }

  private removePeer(slot: number): void {
    const w = this.w;
    const r = slot * 16;
    const s = w[r + W_SWARM]!;
    const fo = slot * 64 + B_FLAGS;
    const f = this.b[fo]!;
    this.tableDelete(slot);
    if ((f & F_SEEDER) !== 0) {
      this.ringRemove(s * SWARM_WORDS + S_SCUR, slot);
      this.nSeeders--;
    } else {
      this.ringRemove(s * SWARM_WORDS + S_LCUR, slot);
    }
    if ((f & F_V6) !== 0) {
      this.v6free[this.v6freeN++] = w[r + W_V6]!;
      this.nV6--;
    }
    this.nPeers--;
    this.b[fo] = 0;
    w[r + W_NEXT] = this.freeHead;
    this.freeHead = slot;
  }

  // ---------------------------------------------------------------------------------------------
  // Slab

  private allocSlot(): number {
    const f = this.freeHead;
    if (f !== NIL) {
      this.freeHead = this.w[f * 16 + W_NEXT]!;
      return f;
    }
    if (this.hi === this.cap) this.resizeSlab(this.cap * 2);
    return this.hi++;
  }

  /** (Re)allocates the slab and copies the records in use. */
  private resizeSlab(cap: number): void {
    const buf = new ArrayBuffer(cap * PEER_SLOT_BYTES);
    const b = new Uint8Array(buf);
    if (this.hi > 0) b.set(this.b.subarray(0, this.hi * PEER_SLOT_BYTES));
    this.b = b;
    this.w = new Uint32Array(buf);
    this.d = new Float64Array(buf);
    this.cap = cap;
  }

  private growV6(): void {
    const cap = this.v6cap === 0 ? 64 : this.v6cap * 2;
    const v6 = new Uint8Array(cap * 18);
    v6.set(this.v6);
    const free = new Uint32Array(cap);
    free.set(this.v6free);
    this.v6 = v6;
    this.v6free = free;
    this.v6cap = cap;
  }

  // ---------------------------------------------------------------------------------------------
  // Lookup table

  private slotHash(slot: number): number {
    const r = slot * 16;
    return keyHash(this.w[r + W_SWARM]!, this.w[r + W_USER]!, this.b, slot * 64 + B_PID);
  }

  /**
   * Finds a peer's slot, or NIL. On a miss, `probeEmpty` is the empty bucket where it would go and
   * `probeUserCount` how many peers of the same (swarm, user != 0) the probe run holds: all of them,
   * since they share one home bucket.
   */
  private lookup(s: number, userId: number, pidIn: Uint8Array): number {
    const t = this.table;
    const mask = this.tmask;
    const w = this.w;
    const b = this.b;
    let i = keyHash(s, userId, pidIn, 0) & mask;
    let count = 0;
    for (;;) {
      const e = t[i]!;
      if (e === 0) {
        this.probeEmpty = i;
        this.probeUserCount = count;
        return NIL;
      }
      const x = e - 1;
      const r = x * 16;
      if (w[r + W_SWARM] === s && w[r + W_USER] === userId) {
        const o = x * 64 + B_PID;
        let j = 0;
        while (j < 20 && b[o + j] === pidIn[j]) j++;
        if (j === 20) return x;
        count++;
      }
      i = (i + 1) & mask;
    }
  }

  private tableInsert(slot: number): void {
    const t = this.table;
    const mask = this.tmask;
    let i = this.slotHash(slot) & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = slot + 1;
    this.tcount++;
  }

  /** Removes a slot's entry, shifting back the rest of its probe run (no tombstones). */
  private tableDelete(slot: number): void {
    const t = this.table;
    const mask = this.tmask;
    let i = this.slotHash(slot) & mask;
    const e = slot + 1;
    for (let x = t[i]!; x !== e; x = t[i]!) {
      if (x === 0) return; // not in the table (cannot happen; never loop over the whole table)
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = t[j]!;
      if (x === 0) break;
      const home = this.slotHash(x - 1) & mask;
      // x may move to the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = x;
        i = j;
      }
    }
    t[i] = 0;
    this.tcount--;
  }

  private growTable(): void {
    const old = this.table;
    const t = new Uint32Array(old.length * 2);
    const mask = t.length - 1;
    for (let k = 0; k < old.length; k++) {
      const e = old[k]!;
      if (e === 0) continue;
      let i = this.slotHash(e - 1) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = e;
    }
    this.table = t;
    this.tmask = mask;
    this.tlimit = (t.length * 3) >>> 2;
  }

  // ---------------------------------------------------------------------------------------------
  // Swarms

  /** The swarm whose info hash is in HW, or NIL (then `sprobe` is where it would go). */
  private findSwarm(): number {
    const t = this.stable;
    const mask = this.smask;
    const sw = this.sw;
    const h0 = HW[0]!;
    let i = swarmKeyHash(HW, 0) & mask;
    for (;;) {
      const e = t[i]!;
      if (e === 0) {
        this.sprobe = i;
        return NIL;
      }
      const o = (e - 1) * SWARM_WORDS + S_HASH;
      if (sw[o] === h0 && sw[o + 1] === HW[1] && sw[o + 2] === HW[2] && sw[o + 3] === HW[3] && sw[o + 4] === HW[4]) {
        return e - 1;
      }
      i = (i + 1) & mask;
    }
  }

  /** Creates the swarm whose info hash is in HW, right after a missed findSwarm. */
  private createSwarm(): number {
    let s: number;
    if (this.swarmFree.length > 0) s = this.swarmFree.pop()!;
    else {
      if (this.swarmHi === this.swarmCap) this.resizeSwarms(this.swarmCap * 2);
      s = this.swarmHi++;
    }
    const sb = s * SWARM_WORDS;
    const sw = this.sw;
    sw[sb + S_SCUR] = NIL;
    sw[sb + S_LCUR] = NIL;
    sw[sb + S_SN] = 0;
    sw[sb + S_LN] = 0;
    sw[sb + S_DONE] = 0;
    sw[sb + S_LIVE] = 1;
    sw.set(HW, sb + S_HASH);
    this.stable[this.sprobe] = s + 1;
    this.nSwarms++;
    return s;
  }

  private removeSwarm(s: number): void {
    const t = this.stable;
    const mask = this.smask;
    const sw = this.sw;
    let i = swarmKeyHash(sw, s * SWARM_WORDS + S_HASH) & mask;
    const e = s + 1;
    for (let x = t[i]!; x !== e; x = t[i]!) {
      if (x === 0) return; // not in the table (cannot happen)
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = t[j]!;
      if (x === 0) break;
      const home = swarmKeyHash(sw, (x - 1) * SWARM_WORDS + S_HASH) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = x;
        i = j;
      }
    }
    t[i] = 0;
    sw[s * SWARM_WORDS + S_LIVE] = 0;
    this.nSwarms--;
    this.swarmFree.push(s);
  }

  private growSwarmTable(): void {
    const old = this.stable;
    const t = new Uint32Array(old.length * 2);
    const mask = t.length - 1;
    for (let k = 0; k < old.length; k++) {
      const e = old[k]!;
      if (e === 0) continue;
      let i = swarmKeyHash(this.sw, (e - 1) * SWARM_WORDS + S_HASH) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = e;
    }
    this.stable = t;
    this.smask = mask;
    this.slimit = (t.length * 3) >>> 2;
  }

  /** The 40-hex info hash of a swarm (allocates). */
  private hexOf(s: number): InfoHash {
    const sw = this.sw;
    let h = '';
    for (let k = 0; k < 5; k++) {
      const v = sw[s * SWARM_WORDS + S_HASH + k]!;
      h += HEX2[v & 255]! + HEX2[(v >>> 8) & 255]! + HEX2[(v >>> 16) & 255]! + HEX2[v >>> 24]!;
    }
    return h as InfoHash;
  }

  /** The swarm of an info hash, or undefined (also for a malformed one). */
  private swarmOf(infoHash: string): number | undefined {
    if (!parseInfoHash(infoHash)) return undefined;
    const s = this.findSwarm();
    return s === NIL ? undefined : s;
  }

  private resizeSwarms(cap: number): void {
    const sw = new Uint32Array(cap * SWARM_WORDS);
    if (this.swarmHi > 0) sw.set(this.sw.subarray(0, this.swarmHi * SWARM_WORDS));
    this.sw = sw;
    this.swarmCap = cap;
  }

  private counts(s: number | undefined): SwarmCounts {
    if (s === undefined) return { complete: 0, incomplete: 0, downloaded: 0 };
    const sb = s * SWARM_WORDS;
    return { complete: this.sw[sb + S_SN]!, incomplete: this.sw[sb + S_LN]!, downloaded: this.sw[sb + S_DONE]! };
  }

  // ---------------------------------------------------------------------------------------------
  // The rest of the port

  scrape(infoHashes: readonly InfoHash[]): SwarmCounts[] {
    const out: SwarmCounts[] = new Array<SwarmCounts>(infoHashes.length);
    for (let i = 0; i < infoHashes.length; i++) out[i] = this.counts(this.swarmOf(infoHashes[i]!));
    return out;
  }

  sweep(olderThan: number): SweepResult {
    let expired = 0;
    const b = this.b;
    const w = this.w;
    const hi = this.hi;
    for (let i = 0; i < hi; i++) {
      if ((b[i * 64 + B_FLAGS]! & F_USED) !== 0 && w[i * 16 + W_SEEN]! < olderThan) {
        this.removePeer(i);
        expired++;
      }
    }
    let swarmsRemoved = 0;
    const sw = this.sw;
    for (let s = 0; s < this.swarmHi; s++) {
      const sb = s * SWARM_WORDS;
      if (sw[sb + S_LIVE] === 1 && sw[sb + S_SN] === 0 && sw[sb + S_LN] === 0) {
        this.removeSwarm(s);
        swarmsRemoved++;
      }
    }
    if (this.nPeers === 0) {
      // Everything is free again: restart the slab from the bottom (keeps later sweeps short).
      this.hi = 0;
      this.freeHead = NIL;
      this.v6hi = 0;
      this.v6freeN = 0;
    }
    return { expired, swarmsRemoved };
  }

  forEachSwarm(fn: (infoHash: InfoHash, counts: SwarmCounts) => void): void {
    for (let s = 0; s < this.swarmHi; s++) {
      if (this.sw[s * SWARM_WORDS + S_LIVE] === 1) fn(this.hexOf(s), this.counts(s));
    }
  }

  stats(): StoreStats {
    return {
      peers: this.nPeers,
      seeders: this.nSeeders,
      leechers: this.nPeers - this.nSeeders,
      torrents: this.nSwarms,
      ipv4: this.nPeers - this.nV6,
      ipv6: this.nV6,
    };
  }

  dropSwarm(infoHash: InfoHash): void {
    const s = this.swarmOf(infoHash);
    if (s === undefined) return;
    const sb = s * SWARM_WORDS;
    for (let n = this.sw[sb + S_SN]!; n > 0; n--) this.removePeer(this.sw[sb + S_SCUR]!);
    for (let n = this.sw[sb + S_LN]!; n > 0; n--) this.removePeer(this.sw[sb + S_LCUR]!);
    this.removeSwarm(s);
  }

  close(): void {
    this.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // Diagnostics (tests, debugging; not on the hot path)

  /** Bytes held in typed arrays (slab, IPv6 side slab, lookup tables, swarm records). */
  typedBytes(): number {
    return (
      this.b.byteLength +
      this.v6.byteLength +
      this.v6free.byteLength +
      this.table.byteLength +
      this.sw.byteLength +
      this.stable.byteLength +
      this.sel.byteLength
    );
  }

  /** The peers of a swarm, seeders then leechers, in ring order from the cursors (allocates). */
  dumpSwarm(infoHash: InfoHash): PeerSnapshot[] {
    const s = this.swarmOf(infoHash);
    const out: PeerSnapshot[] = [];
    if (s === undefined) return out;
    for (const ci of [s * SWARM_WORDS + S_SCUR, s * SWARM_WORDS + S_LCUR]) {
      const start = this.sw[ci]!;
      if (start === NIL) continue;
      let c = start;
      let steps = this.sw[ci + S_COUNT]!;
      do {
        out.push(this.snapshot(c));
        c = this.w[c * 16 + W_NEXT]!;
      } while (c !== start && --steps > 0);
    }
    return out;
  }

  private snapshot(p: number): PeerSnapshot {
    const b = this.b;
    const rb = p * 64;
    const f = b[rb + B_FLAGS]!;
    let ip: Uint8Array;
    let port: number;
    if ((f & F_V6) !== 0) {
      const vo = this.w[p * 16 + W_V6]! * 18;
      ip = this.v6.slice(vo, vo + 16);
      port = (this.v6[vo + 16]! << 8) | this.v6[vo + 17]!;
    } else {
      ip = b.slice(rb + B_ADDR, rb + B_ADDR + 4);
      port = (b[rb + B_ADDR + 4]! << 8) | b[rb + B_ADDR + 5]!;
    }
    return {
      userId: this.w[p * 16 + W_USER]!,
      peerId: b.slice(rb + B_PID, rb + B_PID + 20),
      ip,
      port,
      seeder: (f & F_SEEDER) !== 0,
      completed: (f & F_COMPLETED) !== 0,
      uploaded: this.d[p * 8 + D_UP]!,
      downloaded: this.d[p * 8 + D_DOWN]!,
      lastAnnounce: this.w[p * 16 + W_SEEN]!,
    };
  }

  /** Checks every structural invariant; throws an Error describing the first violation. */
  checkInvariants(): void {
    const fail = (m: string): never => {
      throw new Error(`MemoryPeerStore invariant: ${m}`);
    };
    const w = this.w;
    const b = this.b;
    const sw = this.sw;
    let peers = 0;
    let seeders = 0;
    let v6 = 0;
    let live = 0;
    const v6seen = new Set<number>();
    const perUser = new Map<string, number>();
    for (let s = 0; s < this.swarmHi; s++) {
      if (sw[s * SWARM_WORDS + S_LIVE] !== 1) continue;
      live++;
      if (this.swarmOf(this.hexOf(s)) !== s) fail(`swarm ${s} not found by its hash`);
      for (const isSeed of [true, false]) {
        const ci = s * SWARM_WORDS + (isSeed ? S_SCUR : S_LCUR);
        const cnt = sw[ci + S_COUNT]!;
        const start = sw[ci]!;
        let n = 0;
        if (start !== NIL) {
          let c = start;
          do {
            if (c >= this.hi) fail(`ring of swarm ${s} points outside the slab`);
            const f = b[c * 64 + B_FLAGS]!;
            if ((f & F_USED) === 0) fail(`free slot ${c} in a ring`);
            if (((f & F_SEEDER) !== 0) !== isSeed) fail(`slot ${c} in the wrong ring`);
            if (w[c * 16 + W_SWARM] !== s) fail(`slot ${c} in the ring of another swarm`);
            if (w[w[c * 16 + W_NEXT]! * 16 + W_PREV] !== c) fail(`broken links at slot ${c}`);
            if ((f & F_V6) !== 0) {
              const idx = w[c * 16 + W_V6]!;
              if (idx >= this.v6hi || v6seen.has(idx)) fail(`bad IPv6 index at slot ${c}`);
              v6seen.add(idx);
              v6++;
            }
            const u = w[c * 16 + W_USER]!;
            if (this.lookup(s, u, b.subarray(c * 64 + B_PID, c * 64 + B_PID + 20)) !== c) {
              fail(`slot ${c} not found by lookup`);
            }
            if (u !== 0) {
              const k = `${s}:${u}`;
              perUser.set(k, (perUser.get(k) ?? 0) + 1);
            }
            n++;
            if (n > cnt) fail(`ring of swarm ${s} longer than its count`);
            c = w[c * 16 + W_NEXT]!;
          } while (c !== start);
        }
        if (n !== cnt) fail(`ring of swarm ${s}: ${n} peers, count ${cnt}`);
        peers += n;
        if (isSeed) seeders += n;
      }
    }
    if (live !== this.nSwarms) fail(`${this.nSwarms} swarms counted, ${live} live`);
    let sentries = 0;
    for (let i = 0; i < this.stable.length; i++) {
      const e = this.stable[i]!;
      if (e === 0) continue;
      sentries++;
      if (sw[(e - 1) * SWARM_WORDS + S_LIVE] !== 1) fail(`swarm table entry for free swarm ${e - 1}`);
    }
    if (sentries !== live) fail(`swarm table holds ${sentries}, ${live} live`);
    if (peers !== this.nPeers) fail(`rings hold ${peers} peers, total says ${this.nPeers}`);
    if (seeders !== this.nSeeders) fail(`rings hold ${seeders} seeders, total says ${this.nSeeders}`);
    if (v6 !== this.nV6) fail(`${v6} IPv6 peers, total says ${this.nV6}`);
    if (this.v6freeN + v6 !== this.v6hi) fail('IPv6 side slab leaks entries');
    let entries = 0;
    for (let i = 0; i < this.table.length; i++) {
      const e = this.table[i]!;
      if (e === 0) continue;
      entries++;
      if ((b[(e - 1) * 64 + B_FLAGS]! & F_USED) === 0) fail(`table entry for free slot ${e - 1}`);
    }
    if (entries !== peers || this.tcount !== peers) fail(`table holds ${entries} (${this.tcount}), ${peers} peers`);
    let free = 0;
    for (let f = this.freeHead; f !== NIL; f = w[f * 16 + W_NEXT]!) {
      if ((b[f * 64 + B_FLAGS]! & F_USED) !== 0) fail(`used slot ${f} on the free list`);
      if (++free > this.hi) fail('free list cycles');
    }
    if (free + peers !== this.hi) fail(`${free} free + ${peers} used != ${this.hi} slots`);
    for (const [k, n] of perUser) if (n > this.maxPerUser) fail(`user cap exceeded (${k}: ${n})`);
  }
}
