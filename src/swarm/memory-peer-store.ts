/**
 * The in-memory peer store: the tracker's hot path. No JS object is kept per peer.
 *
 * Layout
 * ------
 * Peers live in one "slab": a single ArrayBuffer cut into struct-of-arrays sections, indexed by a
 * slot number. Free slots form a LIFO free list threaded through `next`. When the slab is full its
 * capacity doubles: a new ArrayBuffer is allocated and every section copied (one allocation, so the
 * old one is a single large block that malloc gives back to the OS once collected).
 *
 *   section    type           bytes  contents
 *   up, down   Float64        8 + 8  last reported cumulative counters (they exceed 2^32)
 *   user       Uint32         4      user id (0 = public)
 *   seen       Uint32         4      last announce, seconds since the epoch
 *   swarmOf    Uint32         4      swarm number
 *   prev, next Uint32         4 + 4  ring links (seeder ring or leecher ring of the swarm)
 *   pid        Uint8 x 20     20     peer id
 *   addr       Uint8 x 6      6      IPv4: compact ip+port (BEP 23), copied out as is.
 *                                    IPv6: bytes 0-3 hold an index into the IPv6 side slab
 *   flags      Uint8          1      USED, SEEDER, V6, COMPLETED
 *                            ---
 *                             63 bytes per slot
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
 * Swarms are struct-of-arrays too (one ArrayBuffer: seeder cursor, leecher cursor, seeder count,
 * leecher count, completed count: 20 bytes), indexed by a swarm number; a JS Map maps the 40-hex
 * info hash to the swarm number, and a JS array maps it back (forEachSwarm, removal). Freed swarm
 * numbers are reused. The key string is copied when the swarm is created, so that a string sliced
 * out of a larger request buffer never pins that buffer.
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
 * Byte budget per peer at 1,000,000 peers over 100,000 torrents:
 *   slab           63 B x 2^20 slots / 1e6 peers             ~ 66 B
 *   lookup table    4 B x 2^21 buckets / 1e6 peers            ~  8.4 B
 *   IPv6 side slab 22 B x 5 % of the peers                    ~  1.1 B
 *   swarms         (20 B typed + ~100 B Map entry, key string
 *                   and back-reference) x 1e5 / 1e6           ~ 12 B
 *                                                             -------
 *                                                             ~ 88 B (target: 100)
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
 * - The store is deterministic: the `random` option is accepted for interface compatibility but
 *   round-robin cursors need no randomness.
 */
import { Buffer } from 'node:buffer';
import type { InfoHash } from '../shared/types.js';
import type {
  AnnounceOutcome,
  PeerAnnounce,
  PeerStore,
  PeerStoreOptions,
  StoreStats,
  SwarmCounts,
  SweepResult,
} from './peer-store.js';

const NIL = 0xffffffff;

const F_USED = 1;
const F_SEEDER = 2;
const F_V6 = 4;
const F_COMPLETED = 8;

/** Bytes per slab slot (see the table above). */
export const PEER_SLOT_BYTES = 63;
const SWARM_SLOT_BYTES = 20;

const EMPTY = new Uint8Array(0);

export interface MemoryPeerStoreOptions extends PeerStoreOptions {
  /** Unused: the store is deterministic. Accepted so that every store takes the same options. */
  random?: () => number;
  /** Initial slab capacity in peers (rounded up to a power of two, at least 2). Default 1024. */
  initialPeerCapacity?: number;
  /** Initial swarm capacity (rounded up to a power of two, at least 2). Default 256. */
  initialSwarmCapacity?: number;
}

/** A peer as seen by `dumpSwarm` (diagnostics and tests; allocates). */
export interface PeerSnapshot {
  userId: number;
  peerId: Uint8Array;
  ip: Uint8Array;
  port: number;
  seeder: boolean;
  completed: boolean;
  uploaded: number;
  downloaded: number;
  lastAnnounce: number;
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

/** A flat copy of a (short, hex) key, so that a sliced string never pins its parent. */
function ownString(s: string): string {
  const copy = Buffer.from(s, 'latin1').toString('latin1');
  return copy === s ? copy : s;
}

export class MemoryPeerStore implements PeerStore {
  private readonly maxPerUser: number;
  private readonly initPeerCap: number;
  private readonly initSwarmCap: number;

  // Peer slab.
  private cap = 0;
  /** Slots [0, hi) have been handed out at least once. */
  private hi = 0;
  private freeHead = NIL;
  private up = new Float64Array(0);
  private down = new Float64Array(0);
  private user = new Uint32Array(0);
  private seen = new Uint32Array(0);
  private swarmOf = new Uint32Array(0);
  private prev = new Uint32Array(0);
  private next = new Uint32Array(0);
  private pid = new Uint8Array(0);
  private addr = new Uint8Array(0);
  private flags = new Uint8Array(0);

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

  // Swarms.
  private swarmIndex = new Map<string, number>();
  private swarmHash: string[] = [];
  private swarmCap = 0;
  private swarmHi = 0;
  private swarmFree: number[] = [];
  private sCur = new Uint32Array(0);
  private lCur = new Uint32Array(0);
  private sN = new Uint32Array(0);
  private lN = new Uint32Array(0);
  private done = new Uint32Array(0);

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
    this.swarmIndex = new Map();
    this.swarmHash = [];
    this.swarmCap = 0;
    this.swarmHi = 0;
    this.swarmFree = [];
    this.resizeSwarms(this.initSwarmCap);
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

    if (this.tcount >= this.tlimit) this.growTable();
    let s = this.swarmIndex.get(a.infoHash);
    let slot = NIL;
    if (s !== undefined) slot = this.lookup(s, userId, pidIn);

    if (a.event === 'stopped') {
      if (slot === NIL) return this.bare(s, true, 0, 0, 0, false);
      const pu = this.up[slot]!;
      const pd = this.down[slot]!;
      const last = this.seen[slot]!;
      const ws = (this.flags[slot]! & F_SEEDER) !== 0;
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
        s = this.createSwarm(a.infoHash);
        pos = NIL;
      } else {
        pos = this.probeEmpty;
      }
      isNew = true;
      slot = this.allocSlot();
      this.user[slot] = userId;
      this.swarmOf[slot] = s;
      const pid = this.pid;
      const po = slot * 20;
      for (let j = 0; j < 20; j++) pid[po + j] = pidIn[j]!;
      this.flags[slot] = F_USED;
      if (pos === NIL) this.tableInsert(slot);
      else {
        this.table[pos] = slot + 1;
        this.tcount++;
      }
      this.nPeers++;
      if (seeder) {
        this.flags[slot] = F_USED | F_SEEDER;
        this.nSeeders++;
        this.ringInsert(this.sCur, this.sN, s, slot);
      } else {
        this.ringInsert(this.lCur, this.lN, s, slot);
      }
    } else {
      // A known peer.
      pu = this.up[slot]!;
      pd = this.down[slot]!;
      const last = this.seen[slot]!;
      elapsed = now > last ? now - last : 0;
      const f = this.flags[slot]!;
      wasSeeder = (f & F_SEEDER) !== 0;
      if (wasSeeder !== seeder) {
        if (wasSeeder) {
          this.ringRemove(this.sCur, this.sN, s!, slot);
          this.ringInsert(this.lCur, this.lN, s!, slot);
          this.flags[slot] = f & ~F_SEEDER;
          this.nSeeders--;
        } else {
          this.ringRemove(this.lCur, this.lN, s!, slot);
          this.ringInsert(this.sCur, this.sN, s!, slot);
          this.flags[slot] = f | F_SEEDER;
          this.nSeeders++;
        }
      }
    }
    const sw = s!;
    this.up[slot] = a.uploaded;
    this.down[slot] = a.downloaded;
    this.seen[slot] = now;
    this.writeAddr(slot, ip, isV6, a.port);
    if (a.event === 'completed') {
      const f = this.flags[slot]!;
      if ((f & F_COMPLETED) === 0) {
        this.flags[slot] = f | F_COMPLETED;
        this.done[sw] = this.done[sw]! + 1;
      }
    }

    // Selection.
    const numwant = a.numwant;
    let n = 0;
    if (numwant > 0) {
      if (seeder) {
        const kl = Math.min(numwant, this.lN[sw]!);
        if (kl > this.sel.length) this.sel = new Uint32Array(kl);
        n = this.take(this.lCur, this.lN, sw, kl, NIL, 0);
      } else {
        const S = this.sN[sw]!;
        const L = this.lN[sw]! - 1;
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
        n = this.take(this.sCur, this.sN, sw, ks, NIL, 0);
        n = this.take(this.lCur, this.lN, sw, kl, slot, n);
      }
    }

    let peers4 = EMPTY;
    let peers6 = EMPTY;
    let ids4: Uint8Array | undefined;
    let ids6: Uint8Array | undefined;
    const want = a.wantPeerIds;
    if (n > 0) {
      const sel = this.sel;
      const flags = this.flags;
      let n6 = 0;
      for (let i = 0; i < n; i++) if ((flags[sel[i]!]! & F_V6) !== 0) n6++;
      const n4 = n - n6;
      if (n4 > 0) peers4 = new Uint8Array(n4 * 6);
      if (n6 > 0) peers6 = new Uint8Array(n6 * 18);
      if (want) {
        ids4 = n4 > 0 ? new Uint8Array(n4 * 20) : EMPTY;
        ids6 = n6 > 0 ? new Uint8Array(n6 * 20) : EMPTY;
      }
      const addr = this.addr;
      const v6 = this.v6;
      const pid = this.pid;
      let o4 = 0;
      let o6 = 0;
      for (let i = 0; i < n; i++) {
        const p = sel[i]!;
        const ao = p * 6;
        if ((flags[p]! & F_V6) === 0) {
          peers4[o4 * 6] = addr[ao]!;
          peers4[o4 * 6 + 1] = addr[ao + 1]!;
          peers4[o4 * 6 + 2] = addr[ao + 2]!;
          peers4[o4 * 6 + 3] = addr[ao + 3]!;
          peers4[o4 * 6 + 4] = addr[ao + 4]!;
          peers4[o4 * 6 + 5] = addr[ao + 5]!;
          if (ids4 !== undefined) {
            const io = o4 * 20;
            const po = p * 20;
            for (let j = 0; j < 20; j++) ids4[io + j] = pid[po + j]!;
          }
          o4++;
        } else {
          const vo = (word(addr, ao) >>> 0) * 18;
          const oo = o6 * 18;
          for (let j = 0; j < 18; j++) peers6[oo + j] = v6[vo + j]!;
          if (ids6 !== undefined) {
            const io = o6 * 20;
            const po = p * 20;
            for (let j = 0; j < 20; j++) ids6[io + j] = pid[po + j]!;
          }
          o6++;
        }
      }
    } else if (want) {
      ids4 = EMPTY;
      ids6 = EMPTY;
    }

    const out: AnnounceOutcome = {
      complete: this.sN[sw]!,
      incomplete: this.lN[sw]!,
      downloaded: this.done[sw]!,
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
    return {
      complete: s === undefined ? 0 : this.sN[s]!,
      incomplete: s === undefined ? 0 : this.lN[s]!,
      downloaded: s === undefined ? 0 : this.done[s]!,
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
    const addr = this.addr;
    const ao = slot * 6;
    const f = this.flags[slot]!;
    if (!isV6) {
      if ((f & F_V6) !== 0) {
        this.v6free[this.v6freeN++] = word(addr, ao) >>> 0;
        this.flags[slot] = f & ~F_V6;
        this.nV6--;
      }
      addr[ao] = ip[0]!;
      addr[ao + 1] = ip[1]!;
      addr[ao + 2] = ip[2]!;
      addr[ao + 3] = ip[3]!;
      addr[ao + 4] = port >>> 8;
      addr[ao + 5] = port;
      return;
    }
    let idx: number;
    if ((f & F_V6) !== 0) {
      idx = word(addr, ao) >>> 0;
    } else {
      if (this.v6freeN > 0) idx = this.v6free[--this.v6freeN]!;
      else {
        if (this.v6hi === this.v6cap) this.growV6();
        idx = this.v6hi++;
      }
      addr[ao] = idx;
      addr[ao + 1] = idx >>> 8;
      addr[ao + 2] = idx >>> 16;
      addr[ao + 3] = idx >>> 24;
      addr[ao + 4] = 0;
      addr[ao + 5] = 0;
      this.flags[slot] = f | F_V6;
      this.nV6++;
    }
    const v6 = this.v6;
    const vo = idx * 18;
    for (let j = 0; j < 16; j++) v6[vo + j] = ip[j]!;
    v6[vo + 16] = port >>> 8;
    v6[vo + 17] = port;
  }

  /**
   * Takes up to k peers from a ring, from its cursor, skipping `self`; appends to `sel` from n. The
   * walk is bounded by the ring's count too, so that a corrupted ring could never hang the tracker.
   */
  private take(cur: Uint32Array, cnt: Uint32Array, s: number, k: number, self: number, n: number): number {
    if (k <= 0) return n;
    let c = cur[s]!;
    if (c === NIL) return n;
    const next = this.next;
    const sel = this.sel;
    const start = c;
    let steps = cnt[s]!;
    do {
      if (c !== self) {
        sel[n++] = c;
        k--;
      }
      c = next[c]!;
    } while (k > 0 && c !== start && --steps > 0);
    cur[s] = c;
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Rings

  private ringInsert(cur: Uint32Array, cnt: Uint32Array, s: number, slot: number): void {
    const c = cur[s]!;
    if (c === NIL) {
      this.prev[slot] = slot;
      this.next[slot] = slot;
      cur[s] = slot;
    } else {
      const prev = this.prev;
      const next = this.next;
      const p = prev[c]!;
      next[p] = slot;
      prev[slot] = p;
      next[slot] = c;
      prev[c] = slot;
    }
    cnt[s] = cnt[s]! + 1;
  }

  private ringRemove(cur: Uint32Array, cnt: Uint32Array, s: number, slot: number): void {
    const next = this.next;
    const n = next[slot]!;
    if (n === slot) {
      cur[s] = NIL;
    } else {
      const p = this.prev[slot]!;
      next[p] = n;
      this.prev[n] = p;
      if (cur[s] === slot) cur[s] = n;
    }
    cnt[s] = cnt[s]! - 1;
  }

  private removePeer(slot: number): void {
    const s = this.swarmOf[slot]!;
    const f = this.flags[slot]!;
    this.tableDelete(slot);
    if ((f & F_SEEDER) !== 0) {
      this.ringRemove(this.sCur, this.sN, s, slot);
      this.nSeeders--;
    } else {
      this.ringRemove(this.lCur, this.lN, s, slot);
    }
    if ((f & F_V6) !== 0) {
      this.v6free[this.v6freeN++] = word(this.addr, slot * 6) >>> 0;
      this.nV6--;
    }
    this.nPeers--;
    this.flags[slot] = 0;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  // ---------------------------------------------------------------------------------------------
  // Slab

  private allocSlot(): number {
    const f = this.freeHead;
    if (f !== NIL) {
      this.freeHead = this.next[f]!;
      return f;
    }
    if (this.hi === this.cap) this.resizeSlab(this.cap * 2);
    return this.hi++;
  }

  /** (Re)allocates the slab as one ArrayBuffer and copies the used part of every section. */
  private resizeSlab(cap: number): void {
    const buf = new ArrayBuffer(cap * PEER_SLOT_BYTES);
    let o = 0;
    const up = new Float64Array(buf, o, cap);
    o += cap * 8;
    const down = new Float64Array(buf, o, cap);
    o += cap * 8;
    const user = new Uint32Array(buf, o, cap);
    o += cap * 4;
    const seen = new Uint32Array(buf, o, cap);
    o += cap * 4;
    const swarmOf = new Uint32Array(buf, o, cap);
    o += cap * 4;
    const prev = new Uint32Array(buf, o, cap);
    o += cap * 4;
    const next = new Uint32Array(buf, o, cap);
    o += cap * 4;
    const pid = new Uint8Array(buf, o, cap * 20);
    o += cap * 20;
    const addr = new Uint8Array(buf, o, cap * 6);
    o += cap * 6;
    const flags = new Uint8Array(buf, o, cap);
    const n = this.hi;
    if (n > 0) {
      up.set(this.up.subarray(0, n));
      down.set(this.down.subarray(0, n));
      user.set(this.user.subarray(0, n));
      seen.set(this.seen.subarray(0, n));
      swarmOf.set(this.swarmOf.subarray(0, n));
      prev.set(this.prev.subarray(0, n));
      next.set(this.next.subarray(0, n));
      pid.set(this.pid.subarray(0, n * 20));
      addr.set(this.addr.subarray(0, n * 6));
      flags.set(this.flags.subarray(0, n));
    }
    this.up = up;
    this.down = down;
    this.user = user;
    this.seen = seen;
    this.swarmOf = swarmOf;
    this.prev = prev;
    this.next = next;
    this.pid = pid;
    this.addr = addr;
    this.flags = flags;
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
    return keyHash(this.swarmOf[slot]!, this.user[slot]!, this.pid, slot * 20);
  }

  /**
   * Finds a peer's slot, or NIL. On a miss, `probeEmpty` is the empty bucket where it would go and
   * `probeUserCount` how many peers of the same (swarm, user != 0) the probe run holds: all of them,
   * since they share one home bucket.
   */
  private lookup(s: number, userId: number, pidIn: Uint8Array): number {
    const t = this.table;
    const mask = this.tmask;
    const sw = this.swarmOf;
    const us = this.user;
    const pid = this.pid;
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
      if (sw[x] === s && us[x] === userId) {
        const o = x * 20;
        let j = 0;
        while (j < 20 && pid[o + j] === pidIn[j]) j++;
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

  private createSwarm(infoHash: string): number {
    let s: number;
    if (this.swarmFree.length > 0) s = this.swarmFree.pop()!;
    else {
      if (this.swarmHi === this.swarmCap) this.resizeSwarms(this.swarmCap * 2);
      s = this.swarmHi++;
    }
    this.sCur[s] = NIL;
    this.lCur[s] = NIL;
    this.sN[s] = 0;
    this.lN[s] = 0;
    this.done[s] = 0;
    const key = ownString(infoHash);
    this.swarmHash[s] = key;
    this.swarmIndex.set(key, s);
    return s;
  }

  private removeSwarm(s: number): void {
    this.swarmIndex.delete(this.swarmHash[s]!);
    this.swarmHash[s] = '';
    this.swarmFree.push(s);
  }

  private resizeSwarms(cap: number): void {
    const buf = new ArrayBuffer(cap * SWARM_SLOT_BYTES);
    const sCur = new Uint32Array(buf, 0, cap);
    const lCur = new Uint32Array(buf, cap * 4, cap);
    const sN = new Uint32Array(buf, cap * 8, cap);
    const lN = new Uint32Array(buf, cap * 12, cap);
    const done = new Uint32Array(buf, cap * 16, cap);
    const n = this.swarmHi;
    if (n > 0) {
      sCur.set(this.sCur.subarray(0, n));
      lCur.set(this.lCur.subarray(0, n));
      sN.set(this.sN.subarray(0, n));
      lN.set(this.lN.subarray(0, n));
      done.set(this.done.subarray(0, n));
    }
    this.sCur = sCur;
    this.lCur = lCur;
    this.sN = sN;
    this.lN = lN;
    this.done = done;
    this.swarmCap = cap;
  }

  private counts(s: number | undefined): SwarmCounts {
    if (s === undefined) return { complete: 0, incomplete: 0, downloaded: 0 };
    return { complete: this.sN[s]!, incomplete: this.lN[s]!, downloaded: this.done[s]! };
  }

  // ---------------------------------------------------------------------------------------------
  // The rest of the port

  scrape(infoHashes: readonly InfoHash[]): SwarmCounts[] {
    const out: SwarmCounts[] = new Array<SwarmCounts>(infoHashes.length);
    for (let i = 0; i < infoHashes.length; i++) out[i] = this.counts(this.swarmIndex.get(infoHashes[i]!));
    return out;
  }

  sweep(olderThan: number): SweepResult {
    let expired = 0;
    const flags = this.flags;
    const seen = this.seen;
    const hi = this.hi;
    for (let i = 0; i < hi; i++) {
      if ((flags[i]! & F_USED) !== 0 && seen[i]! < olderThan) {
        this.removePeer(i);
        expired++;
      }
    }
    let swarmsRemoved = 0;
    const sN = this.sN;
    const lN = this.lN;
    const hashes = this.swarmHash;
    for (let s = 0; s < this.swarmHi; s++) {
      if (hashes[s] !== '' && sN[s] === 0 && lN[s] === 0) {
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
    const hashes = this.swarmHash;
    for (let s = 0; s < this.swarmHi; s++) {
      const h = hashes[s]!;
      if (h !== '') fn(h as InfoHash, this.counts(s));
    }
  }

  stats(): StoreStats {
    return {
      peers: this.nPeers,
      seeders: this.nSeeders,
      leechers: this.nPeers - this.nSeeders,
      torrents: this.swarmIndex.size,
      ipv4: this.nPeers - this.nV6,
      ipv6: this.nV6,
    };
  }

  dropSwarm(infoHash: InfoHash): void {
    const s = this.swarmIndex.get(infoHash);
    if (s === undefined) return;
    for (let n = this.sN[s]!; n > 0; n--) this.removePeer(this.sCur[s]!);
    for (let n = this.lN[s]!; n > 0; n--) this.removePeer(this.lCur[s]!);
    this.removeSwarm(s);
  }

  close(): void {
    this.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // Diagnostics (tests, debugging; not on the hot path)

  /** Bytes held in typed arrays (slab, IPv6 side slab, lookup table, swarm arrays). */
  typedBytes(): number {
    return (
      this.cap * PEER_SLOT_BYTES +
      this.v6.byteLength +
      this.v6free.byteLength +
      this.table.byteLength +
      this.swarmCap * SWARM_SLOT_BYTES +
      this.sel.byteLength
    );
  }

  /** The peers of a swarm, seeders then leechers, in ring order from the cursors (allocates). */
  dumpSwarm(infoHash: InfoHash): PeerSnapshot[] {
    const s = this.swarmIndex.get(infoHash);
    const out: PeerSnapshot[] = [];
    if (s === undefined) return out;
    for (const cur of [this.sCur, this.lCur]) {
      const start = cur[s]!;
      if (start === NIL) continue;
      let c = start;
      do {
        out.push(this.snapshot(c));
        c = this.next[c]!;
      } while (c !== start);
    }
    return out;
  }

  private snapshot(p: number): PeerSnapshot {
    const f = this.flags[p]!;
    let ip: Uint8Array;
    let port: number;
    if ((f & F_V6) !== 0) {
      const vo = (word(this.addr, p * 6) >>> 0) * 18;
      ip = this.v6.slice(vo, vo + 16);
      port = (this.v6[vo + 16]! << 8) | this.v6[vo + 17]!;
    } else {
      ip = this.addr.slice(p * 6, p * 6 + 4);
      port = (this.addr[p * 6 + 4]! << 8) | this.addr[p * 6 + 5]!;
    }
    return {
      userId: this.user[p]!,
      peerId: this.pid.slice(p * 20, p * 20 + 20),
      ip,
      port,
      seeder: (f & F_SEEDER) !== 0,
      completed: (f & F_COMPLETED) !== 0,
      uploaded: this.up[p]!,
      downloaded: this.down[p]!,
      lastAnnounce: this.seen[p]!,
    };
  }

  /** Checks every structural invariant; throws an Error describing the first violation. */
  checkInvariants(): void {
    const fail = (m: string): never => {
      throw new Error(`MemoryPeerStore invariant: ${m}`);
    };
    let peers = 0;
    let seeders = 0;
    let v6 = 0;
    let live = 0;
    const v6seen = new Set<number>();
    const perUser = new Map<string, number>();
    for (let s = 0; s < this.swarmHi; s++) {
      const h = this.swarmHash[s]!;
      if (h === '') continue;
      live++;
      if (this.swarmIndex.get(h) !== s) fail(`swarm ${s} not indexed under its hash`);
      const rings: [Uint32Array, Uint32Array, boolean][] = [
        [this.sCur, this.sN, true],
        [this.lCur, this.lN, false],
      ];
      for (const [cur, cnt, isSeed] of rings) {
        const start = cur[s]!;
        let n = 0;
        if (start !== NIL) {
          let c = start;
          do {
            if (c >= this.hi) fail(`ring of swarm ${s} points outside the slab`);
            const f = this.flags[c]!;
            if ((f & F_USED) === 0) fail(`free slot ${c} in a ring`);
            if (((f & F_SEEDER) !== 0) !== isSeed) fail(`slot ${c} in the wrong ring`);
            if (this.swarmOf[c] !== s) fail(`slot ${c} in the ring of another swarm`);
            if (this.prev[this.next[c]!] !== c) fail(`broken links at slot ${c}`);
            if ((f & F_V6) !== 0) {
              const idx = word(this.addr, c * 6) >>> 0;
              if (idx >= this.v6hi || v6seen.has(idx)) fail(`bad IPv6 index at slot ${c}`);
              v6seen.add(idx);
              v6++;
            }
            if (this.lookup(s, this.user[c]!, this.pid.subarray(c * 20, c * 20 + 20)) !== c) {
              fail(`slot ${c} not found by lookup`);
            }
            const u = this.user[c]!;
            if (u !== 0) {
              const k = `${s}:${u}`;
              perUser.set(k, (perUser.get(k) ?? 0) + 1);
            }
            n++;
            if (n > cnt[s]!) fail(`ring of swarm ${s} longer than its count`);
            c = this.next[c]!;
          } while (c !== start);
        }
        if (n !== cnt[s]) fail(`ring of swarm ${s}: ${n} peers, count ${cnt[s]}`);
        peers += n;
        if (isSeed) seeders += n;
      }
    }
    if (live !== this.swarmIndex.size) fail(`index has ${this.swarmIndex.size} swarms, ${live} live`);
    if (peers !== this.nPeers) fail(`rings hold ${peers} peers, total says ${this.nPeers}`);
    if (seeders !== this.nSeeders) fail(`rings hold ${seeders} seeders, total says ${this.nSeeders}`);
    if (v6 !== this.nV6) fail(`${v6} IPv6 peers, total says ${this.nV6}`);
    if (this.v6freeN + v6 !== this.v6hi) fail('IPv6 side slab leaks entries');
    let entries = 0;
    for (let i = 0; i < this.table.length; i++) {
      const e = this.table[i]!;
      if (e === 0) continue;
      entries++;
      if ((this.flags[e - 1]! & F_USED) === 0) fail(`table entry for free slot ${e - 1}`);
    }
    if (entries !== peers || this.tcount !== peers) fail(`table holds ${entries} (${this.tcount}), ${peers} peers`);
    let free = 0;
    for (let f = this.freeHead; f !== NIL; f = this.next[f]!) {
      if ((this.flags[f]! & F_USED) !== 0) fail(`used slot ${f} on the free list`);
      if (++free > this.hi) fail('free list cycles');
    }
    if (free + peers !== this.hi) fail(`${free} free + ${peers} used != ${this.hi} slots`);
    for (const [k, n] of perUser) if (n > this.maxPerUser) fail(`user cap exceeded (${k}: ${n})`);
  }
}
