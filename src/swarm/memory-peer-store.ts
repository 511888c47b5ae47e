/**
 * The in-memory peer store: the tracker's hot path. No JS object is kept per peer or per swarm.
 *
 * Peers
 * -----
 * Peers live in one slab: a single ArrayBuffer of 52-byte records indexed by a slot number, read and
 * written through two views of the same buffer (Uint32, Uint8). Records rather than one array per
 * field: an announce touches its own record at a random place in a slab far larger than the CPU
 * caches, with records about one cache miss. Selection does not read the records of the peers it
 * hands out (see "Entry blocks" below); only peer ids, when a client asks for them, come from there.
 * Free slots form a LIFO free list threaded through `pos`. When the slab is full its capacity
 * doubles: a new buffer, one copy.
 *
 *   bytes   view      field
 *   0-7     Uint32 x2 uploaded (last reported cumulative counter): high word, low word
 *   8-15    Uint32 x2 downloaded, likewise (counters are integers below 2^53)
 *   16-19   Uint32    pos     position of the peer's entry in its swarm's entry block; free list link
 *   20-23   Uint32    swarm number (bits 0-27) and flags (bits 28-31: USED, SEEDER, V6, COMPLETED)
 *   24-27   Uint32    user id (0 = public)
 *   28-31   Uint32    last announce, seconds since the epoch
 *   32-51   Uint8     peer id (20 bytes)
 *
 * The peer's address is not in its record but in its entry (below): 6 bytes of compact IPv4
 * (BEP 23), or for an IPv6 peer a 4-byte index into the IPv6 side slab. An earlier version kept
 * 64-byte records holding the address and ring links; the entry blocks made both redundant, and
 * dropping them pays for the entries (84 B per peer in all, as before them).
 *
 * IPv6 addresses live in a side slab of 18-byte compact entries (BEP 7: ip + port) with its own free
 * stack (4 bytes): 22 bytes per IPv6 peer only.
 *
 * Entry blocks
 * ------------
 * Each swarm owns one block of consecutive entries in an entry arena: seeders at positions
 * [0, SN), leechers at [SN, SN + LN). An entry is 10 bytes in two parallel arrays: the peer's 6-byte
 * compact IPv4 address (for an IPv6 peer: its 4-byte index into the IPv6 side slab) in `ea`, and its
 * slot (bit 31: IPv6) in `es`. Selecting k peers thus reads 6k + 4k consecutive bytes instead of k
 * records scattered over the slab (one cache miss each); peer ids, when asked for, still come from
 * the records. A record keeps its entry's position; removal fills the hole with the segment's last
 * entry (a seeder's hole is then filled in turn by the last leecher), insertion appends (a new
 * seeder's place is made by moving the first leecher to the end), so both are O(1) and touch at
 * most two other records. An announce that changes nothing of the address does not write the entry.
 *
 * Each segment has a cursor: selection takes entries from the cursor on, wrapping, and leaves the
 * cursor after the last one taken, so selection is O(numwant) and round-robin (every peer is
 * handed out once per lap, give or take the peers moved by insertions and removals). A peer whose
 * `left` goes to 0 moves from the leecher segment to the seeder segment (and back).
 *
 * Block capacities come in size classes, four per doubling (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16,
 * 20, ...); a full block is replaced by one of the next class that fits, and freed blocks go on a
 * free list per class (linked through `es`). When the arena is full it is compacted if an eighth
 * or more of it is in free blocks (live blocks copied end to end, each refitted to the smallest
 * class that holds its peers), and grown by an eighth otherwise. Measured with
 * scripts/peer-store-memory.ts against the former 64-byte records on per-swarm rings: 1.25x the
 * re-announce rate at 1M peers over 100k torrents, 1.4-1.65x at 200k peers over 10k torrents
 * (18 handed out), for the same bytes per peer (docs/benchmarks.md).
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
 * cursor, seeder count, leecher count, completed count, live flag and entry block capacity, the
 * info hash as 20 bytes, and the entry block's start in the arena.
 * The info hash (its 20 bytes, or parsed from 40 hex characters) is looked up in a second open-addressing
 * table (swarm number + 1, same scheme as the peer table). A JS Map of hex strings was the first
 * version: ~100 bytes per swarm of Map entry and key string, and with a fresh request string per
 * announce the Map lookup was a quarter of the announce time (the typed table: ~1.3x the announce
 * rate, 5 bytes less per peer). Freed swarm numbers are reused.
 *
 * Byte budget per peer at 1,000,000 peers over 100,000 torrents:
 *   slab           52 B x 2^20 slots / 1e6 peers             ~ 54.5 B
 *   peer table      4 B x 2^21 buckets / 1e6 peers            ~  8.4 B
 *   IPv6 side slab 22 B x 5 % of the peers                    ~  1.1 B
 *   swarms         48 B x 2^17 records + 4 B x 2^18 buckets,
 *                  / 1e6 peers                                ~  7.3 B
 *   entry arena    10 B x (1e6 entries + size-class rounding,
 *                  free blocks, growth slack) / 1e6 peers     ~ 12 B
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
 * - An info hash is 40 hex characters (either case; forEachSwarm gives lowercase), or 20 bytes
 *   for announce (src/swarm/info-hash-index.ts reads both into the same words): announce
 *   throws a RangeError otherwise, as for a peer id that is not 20 bytes or an ip that is not 4 or
 *   16; scrape reports zeros and dropSwarm does nothing for such a hash.
 * - The store is deterministic: the `random` option is accepted for interface compatibility but
 *   round-robin cursors need no randomness.
 */
import type { InfoHash } from '../shared/types.js';
import { fmix, infoHashWordsHash, loadInfoHash, mixIn, type InfoHashKey } from './info-hash-index.js';
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

// Flags, in the top four bits of the record's swarm word.
const F_USED = 0x10000000;
const F_SEEDER = 0x20000000;
const F_V6 = 0x40000000;
const F_COMPLETED = 0x80000000;
const SF_SWARM = 0x0fffffff;
const TWO32 = 4294967296;

/** Bytes per peer record. */
export const PEER_SLOT_BYTES = 52;
/** Uint32 words per peer record (word index = slot * RW + W_*). */
const RW = 13;
const W_UPH = 0;
const W_UPL = 1;
const W_DNH = 2;
const W_DNL = 3;
/** Position of the peer in its swarm's entry block (relative to the block's start); free list link. */
const W_POS = 4;
const W_NEXT = 4;
/** Swarm number and flags. */
const W_SF = 5;
const W_USER = 6;
const W_SEEN = 7;
/** Byte offset = slot * PEER_SLOT_BYTES + B_PID. */
const B_PID = 32;

/** Uint32 words per swarm record, and their offsets. */
const SWARM_WORDS = 12;
const S_SCUR = 0;
const S_LCUR = 1;
/** A ring's count sits two words after its cursor. */
const S_COUNT = 2;
const S_SN = 2;
const S_LN = 3;
const S_DONE = 4;
/** Bit 0: live; bits 1-31: capacity of the swarm's entry block (entries). */
const S_LIVE = 5;
/** The info hash, 20 bytes as 5 little-endian words (6-10). */
const S_HASH = 6;
/** Start of the swarm's entry block in the entry arena (entry index). */
const S_OFF = 11;

/** Entry slot word: bit 31 set for an IPv6 peer (its 6 address bytes then hold the IPv6 index). */
const E_V6 = 0x80000000;
const E_SLOT = 0x7fffffff;
/** Block capacities (entries): 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, ... (four per doubling). */
const BLOCK_CAPS: number[] = [1, 2, 3];
for (let c = 4; c < 2 ** 31; c *= 2) BLOCK_CAPS.push(c, c + c / 4, c + c / 2, c + (3 * c) / 4);
function blockClass(need: number): number {
  let k = 0;
  while (BLOCK_CAPS[k]! < need) k++;
  return k;
}

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));

/** The info hash being looked up, as 5 little-endian words (set by loadInfoHash). */
const HW = new Uint32Array(5);

function swarmKeyHash(w: Uint32Array, o: number): number {
  return infoHashWordsHash(0x3c6ef372, w, o);
}

const EMPTY = new Uint8Array(0);
const OUT_POOL_BYTES = 64 << 10;

export interface MemoryPeerStoreOptions extends PeerStoreOptions {
  /** Unused: the store is deterministic. Accepted so that every store takes the same options. */
  random?: () => number;
  /** Initial slab capacity in peers (rounded up to a power of two, at least 2). Default 1024. */
  initialPeerCapacity?: number;
  /** Initial swarm capacity (rounded up to a power of two, at least 2). Default 256. */
  initialSwarmCapacity?: number;
  /**
   * Called with the buffer of each typed array of BIG_ARRAY_BYTES or more that the store
   * allocates, before anything is written to it: compose.ts passes the native addon's huge-page
   * advice (madvise MADV_HUGEPAGE), so that random reads of records and tables cost no page walk
   * each. Nothing by default.
   */
  adviseMemory?: (buf: ArrayBuffer) => unknown;
}

/** Typed arrays from this size on are handed to MemoryPeerStoreOptions.adviseMemory (one 2 MiB huge page). */
export const BIG_ARRAY_BYTES = 2 << 20;


function pow2AtLeast(n: number, min: number): number {
  let c = min;
  while (c < n) c *= 2;
  return c;
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

  // Peer slab: two views of one buffer.
  private cap = 0;
  /** Slots [0, hi) have been handed out at least once. */
  private hi = 0;
  private freeHead = NIL;
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

  // Entry arena: per swarm, one block of entries in selection order, seeders then leechers. An entry
  // is a 6-byte compact IPv4 address (or the IPv6 index) in `ea` and the slot word in `es`.
  private ecap = 0;
  private ehi = 0;
  private ea = new Uint8Array(0);
  private es = new Uint32Array(0);
  /** Entries in blocks that are free (on a free list). */
  private efreeN = 0;
  /** Free block heads per capacity class (NIL-terminated, linked through es[off]). */
  private efree = new Uint32Array(BLOCK_CAPS.length).fill(NIL);

  /** Where outcomes' peer lists are cut from (see outBytes). */
  private outPool = new ArrayBuffer(OUT_POOL_BYTES);
  private outOff = 0;

  /** Selected entries (arena indexes) of the current announce. */
  private sel = new Uint32Array(64);
  /** MemoryPeerStoreOptions.adviseMemory. */
  private readonly advise: ((buf: ArrayBuffer) => unknown) | null;

  constructor(opts: MemoryPeerStoreOptions) {
    this.maxPerUser = opts.maxPeersPerUser;
    this.advise = opts.adviseMemory ?? null;
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
    this.ecap = 0;
    this.ehi = 0;
    this.ea = new Uint8Array(0);
    this.es = new Uint32Array(0);
    this.efreeN = 0;
    this.efree.fill(NIL);
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

    if (!loadInfoHash(a.infoHash, HW)) throw new RangeError('infoHash must be 40 hex characters or 20 bytes');

    if (this.tcount >= this.tlimit) this.growTable();
    if (this.nSwarms >= this.slimit) this.growSwarmTable();
    const found = this.findSwarm();
    let s = found === NIL ? undefined : found;
    let slot = NIL;
    if (s !== undefined) slot = this.lookup(s, userId, pidIn);

    if (a.event === 'stopped') {
      if (slot === NIL) return this.bare(s, true, 0, 0, 0, false);
      const w = this.w;
      const r = slot * RW;
      const pu = w[r + W_UPH]! * TWO32 + w[r + W_UPL]!;
      const pd = w[r + W_DNH]! * TWO32 + w[r + W_DNL]!;
      const last = w[r + W_SEEN]!;
      const ws = (w[r + W_SF]! & F_SEEDER) !== 0;
      this.removePeer(slot);
      return this.bare(s, false, pu, pd, now > last ? now - last : 0, ws);
    }

    const seeder = a.left === 0;
    let isNew = false;
    let pu = 0;
    let pd = 0;
    let elapsed = 0;
    let wasSeeder = false;
    /** The peer's entry (arena index) once placed, and what its address was. */
    let e: number;
    let fresh = false;
    let wasV6 = false;
    let oldV6 = 0;

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
      w[slot * RW + W_SF] = s | (seeder ? F_USED | F_SEEDER : F_USED);
      w[slot * RW + W_USER] = userId;
      const po = slot * PEER_SLOT_BYTES + B_PID;
      for (let j = 0; j < 20; j++) b[po + j] = pidIn[j]!;
      if (pos === NIL) this.tableInsert(slot);
      else {
        this.table[pos] = slot + 1;
        this.tcount++;
      }
      this.nPeers++;
      if (seeder) this.nSeeders++;
      e = this.entryInsert(s, slot, seeder);
      fresh = true;
    } else {
      // A known peer.
      const w = this.w;
      const r = slot * RW;
      pu = w[r + W_UPH]! * TWO32 + w[r + W_UPL]!;
      pd = w[r + W_DNH]! * TWO32 + w[r + W_DNL]!;
      const last = w[r + W_SEEN]!;
      elapsed = now > last ? now - last : 0;
      const f = w[r + W_SF]!;
      wasSeeder = (f & F_SEEDER) !== 0;
      e = this.sw[s! * SWARM_WORDS + S_OFF]! + w[r + W_POS]!;
      wasV6 = (f & F_V6) !== 0;
      if (wasV6) oldV6 = word(this.ea, e * 6) >>> 0;
      if (wasSeeder !== seeder) {
        this.entryRemove(s!, slot);
        if (wasSeeder) {
          w[r + W_SF] = f & ~F_SEEDER;
          this.nSeeders--;
        } else {
          w[r + W_SF] = f | F_SEEDER;
          this.nSeeders++;
        }
        e = this.entryInsert(s!, slot, seeder);
        fresh = true;
      }
    }
    const sb = s! * SWARM_WORDS;
    {
      const w = this.w;
      const r = slot * RW;
      const up = a.uploaded;
      const down = a.downloaded;
      w[r + W_UPH] = up / TWO32;
      w[r + W_UPL] = up % TWO32;
      w[r + W_DNH] = down / TWO32;
      w[r + W_DNL] = down % TWO32;
      w[r + W_SEEN] = now;
    }
    this.setAddr(e, slot, ip, isV6, a.port, fresh, wasV6, oldV6);
    if (a.event === 'completed') {
      const ro = slot * RW + W_SF;
      const f = this.w[ro]!;
      if ((f & F_COMPLETED) === 0) {
        this.w[ro] = f | F_COMPLETED;
        this.sw[sb + S_DONE] = this.sw[sb + S_DONE]! + 1;
      }
    }

    // Selection.
    const numwant = a.numwant;
    let n = 0;
    if (numwant > 0) {
      const off = this.sw[sb + S_OFF]!;
      const sn = this.sw[sb + S_SN]!;
      if (seeder) {
        const kl = Math.min(numwant, this.sw[sb + S_LN]!);
        if (kl > this.sel.length) this.sel = new Uint32Array(kl);
        n = this.take(sb + S_LCUR, off + sn, kl, NIL, 0);
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
        n = this.take(sb + S_SCUR, off, ks, NIL, 0);
        n = this.take(sb + S_LCUR, off + sn, kl, off + this.w[slot * RW + W_POS]!, n);
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
      const es = this.es;
      const ea = this.ea;
      let n6 = 0;
      for (let i = 0; i < n; i++) if (es[sel[i]!]! >= E_V6) n6++;
      const n4 = n - n6;
      if (n4 > 0) peers4 = this.outBytes(n4 * 6);
      if (n6 > 0) peers6 = this.outBytes(n6 * 18);
      if (want) {
        ids4 = n4 > 0 ? this.outBytes(n4 * 20) : EMPTY;
        ids6 = n6 > 0 ? this.outBytes(n6 * 20) : EMPTY;
      }
      const v6 = this.v6;
      let o4 = 0;
      let o6 = 0;
      for (let i = 0; i < n; i++) {
        const e = sel[i]!;
        const ew = es[e]!;
        const ao = e * 6;
        if (ew < E_V6) {
          const oo = o4 * 6;
          peers4[oo] = ea[ao]!;
          peers4[oo + 1] = ea[ao + 1]!;
          peers4[oo + 2] = ea[ao + 2]!;
          peers4[oo + 3] = ea[ao + 3]!;
          peers4[oo + 4] = ea[ao + 4]!;
          peers4[oo + 5] = ea[ao + 5]!;
          if (ids4 !== undefined) {
            const io = o4 * 20;
            const po = ew * PEER_SLOT_BYTES + B_PID;
            for (let j = 0; j < 20; j++) ids4[io + j] = b[po + j]!;
          }
          o4++;
        } else {
          const rb = (ew & E_SLOT) * PEER_SLOT_BYTES;
          const vo = word(ea, ao) * 18;
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

  /**
   * `n` bytes for an outcome, every one of which the caller writes: a view on a shared pool that is
   * never reused (a full pool is replaced, and lives on while views of it do). `new Uint8Array(n)`
   * past 64 bytes gets a backing store of its own from outside V8's heap: about 1 µs each, a
   * tenth of an announce, against 0.1 µs for a view (measured on Node 20).
   */
  private outBytes(n: number): Uint8Array<ArrayBuffer> {
    if (n > OUT_POOL_BYTES >>> 3) return new Uint8Array(n);
    if (this.outOff + n > OUT_POOL_BYTES) {
      this.outPool = new ArrayBuffer(OUT_POOL_BYTES);
      this.outOff = 0;
    }
    const v = new Uint8Array(this.outPool, this.outOff, n);
    this.outOff += n;
    return v;
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

  /**
   * Writes a peer's address into its entry `e` (arena index) and the entry's slot word. `fresh`: the
   * entry holds nothing of this peer yet (new position). `wasV6`/`oldV6`: the peer's IPv6 side-slab
   * index before this announce, kept for an IPv6 peer and freed for one now on IPv4.
   */
  private setAddr(e: number, slot: number, ip: Uint8Array, isV6: boolean, port: number, fresh: boolean, wasV6: boolean, oldV6: number): void {
    const ea = this.ea;
    const ao = e * 6;
    const r = slot * RW + W_SF;
    if (!isV6) {
      const p1 = port >>> 8;
      const p0 = port & 255;
      if (wasV6) {
        this.v6free[this.v6freeN++] = oldV6;
        this.w[r] = this.w[r]! & ~F_V6;
        this.nV6--;
      } else if (
        !fresh &&
        ea[ao] === ip[0] &&
        ea[ao + 1] === ip[1] &&
        ea[ao + 2] === ip[2] &&
        ea[ao + 3] === ip[3] &&
        ea[ao + 4] === p1 &&
        ea[ao + 5] === p0
      ) {
        return;
      }
      ea[ao] = ip[0]!;
      ea[ao + 1] = ip[1]!;
      ea[ao + 2] = ip[2]!;
      ea[ao + 3] = ip[3]!;
      ea[ao + 4] = p1;
      ea[ao + 5] = p0;
      this.es[e] = slot;
      return;
    }
    let idx: number;
    if (wasV6) {
      idx = oldV6;
    } else {
      if (this.v6freeN > 0) idx = this.v6free[--this.v6freeN]!;
      else {
        if (this.v6hi === this.v6cap) this.growV6();
        idx = this.v6hi++;
      }
      this.w[r] = this.w[r]! | F_V6;
      this.nV6++;
    }
    if (fresh || !wasV6) {
      ea[ao] = idx;
      ea[ao + 1] = idx >>> 8;
      ea[ao + 2] = idx >>> 16;
      ea[ao + 3] = idx >>> 24;
      ea[ao + 4] = 0;
      ea[ao + 5] = 0;
      this.es[e] = (slot | E_V6) >>> 0;
    }
    const v6 = this.v6;
    const vo = idx * 18;
    for (let j = 0; j < 16; j++) v6[vo + j] = ip[j]!;
    v6[vo + 16] = port >>> 8;
    v6[vo + 17] = port;
  }

  /**
   * Takes up to k entries of the segment starting at arena index `seg` whose cursor (a position in
   * the segment) is at `ci` in the swarm records, its length two words further; skips the entry
   * `self` (arena index); appends arena indexes to `sel` from n. The cursor is left after the last
   * entry taken, so that successive announces go round the segment.
   */
  private take(ci: number, seg: number, k: number, self: number, n: number): number {
    if (k <= 0) return n;
    const sw = this.sw;
    const len = sw[ci + S_COUNT]!;
    if (len === 0) return n;
    const sel = this.sel;
    let c = sw[ci]!;
    if (c >= len) c = 0;
    let steps = len;
    do {
      const e = seg + c;
      if (e !== self) {
        sel[n++] = e;
        k--;
      }
      if (++c === len) c = 0;
    } while (k > 0 && --steps > 0);
    sw[ci] = c;
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Entry blocks (per swarm: seeders at [off, off + SN), leechers at [off + SN, off + SN + LN))

  /** Moves the entry at relative position `from` of a block to `to`, and tells its peer. */
  private entryMove(off: number, from: number, to: number): void {
    const ea = this.ea;
    const fo = (off + from) * 6;
    const tt = (off + to) * 6;
    for (let j = 0; j < 6; j++) ea[tt + j] = ea[fo + j]!;
    const ew = this.es[off + from]!;
    this.es[off + to] = ew;
    this.w[(ew & E_SLOT) * RW + W_POS] = to;
  }

  /**
   * Makes room for a peer in its swarm's block (seeder or leecher segment) and records the position
   * in its record; returns the entry's arena index, for the caller to write the address into.
   */
  private entryInsert(s: number, slot: number, seeder: boolean): number {
    const sw = this.sw;
    const sb = s * SWARM_WORDS;
    const sn = sw[sb + S_SN]!;
    const ln = sw[sb + S_LN]!;
    if (sn + ln >= sw[sb + S_LIVE]! >>> 1) this.growBlock(sb, sn + ln + 1);
    let pos: number;
    if (seeder) {
      if (ln > 0) this.entryMove(sw[sb + S_OFF]!, sn, sn + ln);
      pos = sn;
      sw[sb + S_SN] = sn + 1;
    } else {
      pos = sn + ln;
      sw[sb + S_LN] = ln + 1;
    }
    this.w[slot * RW + W_POS] = pos;
    return sw[sb + S_OFF]! + pos;
  }

  /** Removes a peer from its swarm's block (by its SEEDER flag), filling the hole from the end. */
  private entryRemove(s: number, slot: number): void {
    const sw = this.sw;
    const sb = s * SWARM_WORDS;
    const off = sw[sb + S_OFF]!;
    const sn = sw[sb + S_SN]!;
    const ln = sw[sb + S_LN]!;
    let pos = this.w[slot * RW + W_POS]!;
    if ((this.w[slot * RW + W_SF]! & F_SEEDER) !== 0) {
      if (pos !== sn - 1) this.entryMove(off, sn - 1, pos);
      pos = sn - 1;
      sw[sb + S_SN] = sn - 1;
      if (sw[sb + S_SCUR]! >= sn - 1) sw[sb + S_SCUR] = 0;
      if (ln > 0) {
        // The hole is now at the seeder/leecher boundary: the last leecher fills it.
        if (pos !== sn + ln - 1) this.entryMove(off, sn + ln - 1, pos);
      }
    } else {
      if (pos !== sn + ln - 1) this.entryMove(off, sn + ln - 1, pos);
      sw[sb + S_LN] = ln - 1;
      if (sw[sb + S_LCUR]! >= ln - 1) sw[sb + S_LCUR] = 0;
    }
  }

  /** Gives a swarm a block of at least `need` entries, copying its entries over. */
  private growBlock(sb: number, need: number): void {
    const sw = this.sw;
    const cls = blockClass(need);
    const cap = BLOCK_CAPS[cls]!;
    const off = this.blockAlloc(cls);
    const oldCap = sw[sb + S_LIVE]! >>> 1;
    if (oldCap > 0) {
      const old = sw[sb + S_OFF]!;
      const n = sw[sb + S_SN]! + sw[sb + S_LN]!;
      this.ea.copyWithin(off * 6, old * 6, (old + n) * 6);
      this.es.copyWithin(off, old, old + n);
      this.blockFree(old, oldCap);
    }
    sw[sb + S_OFF] = off;
    sw[sb + S_LIVE] = ((cap << 1) | 1) >>> 0;
  }

  private blockAlloc(cls: number): number {
    const head = this.efree[cls]!;
    const cap = BLOCK_CAPS[cls]!;
    if (head !== NIL) {
      this.efree[cls] = this.es[head]!;
      this.efreeN -= cap;
      return head;
    }
    if (this.ehi + cap > this.ecap) this.growArena(this.ehi + cap);
    const off = this.ehi;
    this.ehi += cap;
    return off;
  }

  private blockFree(off: number, cap: number): void {
    const cls = blockClass(cap);
    this.es[off] = this.efree[cls]!;
    this.efree[cls] = off;
    this.efreeN += cap;
  }

  /**
   * Makes room for `need` entries (arena indexes [0, need)): compacts the arena when an eighth of it
   * or more is in free blocks (the blocks of live swarms copied end to end, each refitted to its
   * peers, free blocks dropped), and grows it by an eighth when compaction is not enough.
   */
  private growArena(need: number): void {
    const sw = this.sw;
    let live = this.ehi - this.efreeN;
    const compact = this.efreeN * 8 >= this.ehi;
    let cap = this.ecap;
    if (!compact || live + (need - this.ehi) > cap) {
      cap = Math.max(need + (need >>> 3), 64);
    }
    const ea = this.u8(cap * 6);
    const es = this.u32(cap);
    if (compact) {
      live = 0;
      for (let s = 0; s < this.swarmHi; s++) {
        const sb = s * SWARM_WORDS;
        if ((sw[sb + S_LIVE]! & 1) === 0 || sw[sb + S_LIVE]! >>> 1 === 0) continue;
        const old = sw[sb + S_OFF]!;
        const n = sw[sb + S_SN]! + sw[sb + S_LN]!;
        const bcap = n === 0 ? 0 : BLOCK_CAPS[blockClass(n)]!;
        sw[sb + S_LIVE] = ((bcap << 1) | 1) >>> 0;
        ea.set(this.ea.subarray(old * 6, (old + n) * 6), live * 6);
        es.set(this.es.subarray(old, old + n), live);
        sw[sb + S_OFF] = live;
        live += bcap;
      }
      this.ehi = live;
      this.efreeN = 0;
      this.efree.fill(NIL);
    } else {
      ea.set(this.ea.subarray(0, this.ehi * 6));
      es.set(this.es.subarray(0, this.ehi));
    }
    this.ea = ea;
    this.es = es;
    this.ecap = cap;
  }

  private removePeer(slot: number): void {
    const w = this.w;
    const r = slot * RW;
    const f = w[r + W_SF]!;
    const s = f & SF_SWARM;
    this.tableDelete(slot);
    if ((f & F_V6) !== 0) {
      this.v6free[this.v6freeN++] = word(this.ea, (this.sw[s * SWARM_WORDS + S_OFF]! + w[r + W_POS]!) * 6) >>> 0;
      this.nV6--;
    }
    this.entryRemove(s, slot);
    if ((f & F_SEEDER) !== 0) this.nSeeders--;
    this.nPeers--;
    w[r + W_SF] = 0;
    w[r + W_NEXT] = this.freeHead;
    this.freeHead = slot;
  }

  // ---------------------------------------------------------------------------------------------
  // Slab

  private allocSlot(): number {
    const f = this.freeHead;
    if (f !== NIL) {
      this.freeHead = this.w[f * RW + W_NEXT]!;
      return f;
    }
    if (this.hi === this.cap) this.resizeSlab(this.cap * 2);
    return this.hi++;
  }

  /** (Re)allocates the slab and copies the records in use. */
  private resizeSlab(cap: number): void {
    const b = this.u8(cap * PEER_SLOT_BYTES);
    const buf = b.buffer;
    if (this.hi > 0) b.set(this.b.subarray(0, this.hi * PEER_SLOT_BYTES));
    this.b = b;
    this.w = new Uint32Array(buf);
    this.cap = cap;
  }

  private growV6(): void {
    const cap = this.v6cap === 0 ? 64 : this.v6cap * 2;
    const v6 = this.u8(cap * 18);
    v6.set(this.v6);
    const free = this.u32(cap);
    free.set(this.v6free);
    this.v6 = v6;
    this.v6free = free;
    this.v6cap = cap;
  }

  /** A zeroed Uint8Array of n bytes; a big one is handed to `advise` before its first write. */
  private u8(n: number): Uint8Array<ArrayBuffer> {
    const a = new Uint8Array(n);
    if (n >= BIG_ARRAY_BYTES && this.advise !== null) this.advise(a.buffer);
    return a;
  }

  /** A zeroed Uint32Array of n words; a big one is handed to `advise` before its first write. */
  private u32(n: number): Uint32Array<ArrayBuffer> {
    const a = new Uint32Array(n);
    if (n * 4 >= BIG_ARRAY_BYTES && this.advise !== null) this.advise(a.buffer);
    return a;
  }

  // ---------------------------------------------------------------------------------------------
  // Lookup table

  private slotHash(slot: number): number {
    const r = slot * RW;
    return keyHash(this.w[r + W_SF]! & SF_SWARM, this.w[r + W_USER]!, this.b, slot * PEER_SLOT_BYTES + B_PID);
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
      const r = x * RW;
      if ((w[r + W_SF]! & SF_SWARM) === s && w[r + W_USER] === userId) {
        const o = x * PEER_SLOT_BYTES + B_PID;
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
    const t = this.u32(old.length * 2);
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
      if (this.swarmHi > SF_SWARM) throw new RangeError('too many swarms');
      if (this.swarmHi === this.swarmCap) this.resizeSwarms(this.swarmCap * 2);
      s = this.swarmHi++;
    }
    const sb = s * SWARM_WORDS;
    const sw = this.sw;
    sw[sb + S_SCUR] = 0;
    sw[sb + S_LCUR] = 0;
    sw[sb + S_SN] = 0;
    sw[sb + S_LN] = 0;
    sw[sb + S_DONE] = 0;
    sw[sb + S_LIVE] = 1;
    sw[sb + S_OFF] = 0;
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
    const bcap = sw[s * SWARM_WORDS + S_LIVE]! >>> 1;
    if (bcap > 0) this.blockFree(sw[s * SWARM_WORDS + S_OFF]!, bcap);
    sw[s * SWARM_WORDS + S_LIVE] = 0;
    this.nSwarms--;
    this.swarmFree.push(s);
  }

  private growSwarmTable(): void {
    const old = this.stable;
    const t = this.u32(old.length * 2);
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
  private swarmOf(infoHash: InfoHashKey): number | undefined {
    if (!loadInfoHash(infoHash, HW)) return undefined;
    const s = this.findSwarm();
    return s === NIL ? undefined : s;
  }

  private resizeSwarms(cap: number): void {
    const sw = this.u32(cap * SWARM_WORDS);
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

  scrape(infoHashes: readonly InfoHashKey[]): SwarmCounts[] {
    const out: SwarmCounts[] = new Array<SwarmCounts>(infoHashes.length);
    for (let i = 0; i < infoHashes.length; i++) out[i] = this.counts(this.swarmOf(infoHashes[i]!));
    return out;
  }

  sweep(olderThan: number): SweepResult {
    let expired = 0;
    const w = this.w;
    const hi = this.hi;
    for (let i = 0; i < hi; i++) {
      if ((w[i * RW + W_SF]! & F_USED) !== 0 && w[i * RW + W_SEEN]! < olderThan) {
        this.removePeer(i);
        expired++;
      }
    }
    let swarmsRemoved = 0;
    const sw = this.sw;
    for (let s = 0; s < this.swarmHi; s++) {
      const sb = s * SWARM_WORDS;
      if ((sw[sb + S_LIVE]! & 1) === 1 && sw[sb + S_SN] === 0 && sw[sb + S_LN] === 0) {
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
      if (this.nSwarms === 0) {
        this.ehi = 0;
        this.efreeN = 0;
        this.efree.fill(NIL);
      }
    }
    return { expired, swarmsRemoved };
  }

  forEachSwarm(fn: (infoHash: InfoHash, counts: SwarmCounts) => void): void {
    for (let s = 0; s < this.swarmHi; s++) {
      if ((this.sw[s * SWARM_WORDS + S_LIVE]! & 1) === 1) fn(this.hexOf(s), this.counts(s));
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
    // Always the last entry: nothing moves.
    for (let n = this.sw[sb + S_SN]! + this.sw[sb + S_LN]!; n > 0; n--) {
      this.removePeer(this.es[this.sw[sb + S_OFF]! + n - 1]! & E_SLOT);
    }
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
      this.sel.byteLength +
      this.ea.byteLength +
      this.es.byteLength +
      this.efree.byteLength
    );
  }

  /** Bytes of the entry arena (included in typedBytes): the per-swarm blocks and their free lists. */
  entryArenaBytes(): number {
    return this.ea.byteLength + this.es.byteLength + this.efree.byteLength;
  }

  /** The peers of a swarm, seeders then leechers, in block order (allocates). */
  dumpSwarm(infoHash: InfoHash): PeerSnapshot[] {
    const s = this.swarmOf(infoHash);
    const out: PeerSnapshot[] = [];
    if (s === undefined) return out;
    const sb = s * SWARM_WORDS;
    const off = this.sw[sb + S_OFF]!;
    const n = this.sw[sb + S_SN]! + this.sw[sb + S_LN]!;
    for (let i = 0; i < n; i++) out.push(this.snapshot(this.es[off + i]! & E_SLOT));
    return out;
  }

  private snapshot(p: number): PeerSnapshot {
    const b = this.b;
    const w = this.w;
    const r = p * RW;
    const f = w[r + W_SF]!;
    const ao = (this.sw[(f & SF_SWARM) * SWARM_WORDS + S_OFF]! + w[r + W_POS]!) * 6;
    let ip: Uint8Array;
    let port: number;
    if ((f & F_V6) !== 0) {
      const vo = (word(this.ea, ao) >>> 0) * 18;
      ip = this.v6.slice(vo, vo + 16);
      port = (this.v6[vo + 16]! << 8) | this.v6[vo + 17]!;
    } else {
      ip = this.ea.slice(ao, ao + 4);
      port = (this.ea[ao + 4]! << 8) | this.ea[ao + 5]!;
    }
    const po = p * PEER_SLOT_BYTES + B_PID;
    return {
      userId: w[r + W_USER]!,
      peerId: b.slice(po, po + 20),
      ip,
      port,
      seeder: (f & F_SEEDER) !== 0,
      completed: (f & F_COMPLETED) !== 0,
      uploaded: w[r + W_UPH]! * TWO32 + w[r + W_UPL]!,
      downloaded: w[r + W_DNH]! * TWO32 + w[r + W_DNL]!,
      lastAnnounce: w[r + W_SEEN]!,
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
      if ((sw[s * SWARM_WORDS + S_LIVE]! & 1) !== 1) continue;
      live++;
      if (this.swarmOf(this.hexOf(s)) !== s) fail(`swarm ${s} not found by its hash`);
      const sb = s * SWARM_WORDS;
      const off = sw[sb + S_OFF]!;
      const bcap = sw[sb + S_LIVE]! >>> 1;
      const sn = sw[sb + S_SN]!;
      const ln = sw[sb + S_LN]!;
      if (sn + ln > bcap) fail(`swarm ${s}: ${sn + ln} peers in a block of ${bcap}`);
      if (bcap > 0 && (off + bcap > this.ehi || BLOCK_CAPS[blockClass(bcap)] !== bcap)) fail(`swarm ${s}: bad block`);
      if ((sn > 0 && sw[sb + S_SCUR]! >= sn) || (ln > 0 && sw[sb + S_LCUR]! >= ln)) fail(`swarm ${s}: cursor out of range`);
      for (let i = 0; i < sn + ln; i++) {
        const isSeed = i < sn;
        const ew = this.es[off + i]!;
        const c = ew & E_SLOT;
        if (c >= this.hi) fail(`entry of swarm ${s} points outside the slab`);
        const f = w[c * RW + W_SF]!;
        if ((f & F_USED) === 0) fail(`free slot ${c} in a block`);
        if (((f & F_SEEDER) !== 0) !== isSeed) fail(`slot ${c} in the wrong segment`);
        if ((f & SF_SWARM) !== s) fail(`slot ${c} in the block of another swarm`);
        if (w[c * RW + W_POS] !== i) fail(`slot ${c}: position ${w[c * RW + W_POS]}, entry ${i}`);
        if ((ew >= E_V6) !== ((f & F_V6) !== 0)) fail(`slot ${c}: entry family differs`);
        const ao = (off + i) * 6;
        if ((f & F_V6) !== 0) {
          const idx = word(this.ea, ao) >>> 0;
          if (idx >= this.v6hi || v6seen.has(idx)) fail(`bad IPv6 index at slot ${c}`);
          v6seen.add(idx);
          v6++;
        }
        const u = w[c * RW + W_USER]!;
        const po = c * PEER_SLOT_BYTES + B_PID;
        if (this.lookup(s, u, b.subarray(po, po + 20)) !== c) {
          fail(`slot ${c} not found by lookup`);
        }
        if (u !== 0) {
          const k = `${s}:${u}`;
          perUser.set(k, (perUser.get(k) ?? 0) + 1);
        }
      }
      peers += sn + ln;
      seeders += sn;
    }
    if (live !== this.nSwarms) fail(`${this.nSwarms} swarms counted, ${live} live`);
    let sentries = 0;
    for (let i = 0; i < this.stable.length; i++) {
      const e = this.stable[i]!;
      if (e === 0) continue;
      sentries++;
      if ((sw[(e - 1) * SWARM_WORDS + S_LIVE]! & 1) !== 1) fail(`swarm table entry for free swarm ${e - 1}`);
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
      if ((w[(e - 1) * RW + W_SF]! & F_USED) === 0) fail(`table entry for free slot ${e - 1}`);
    }
    if (entries !== peers || this.tcount !== peers) fail(`table holds ${entries} (${this.tcount}), ${peers} peers`);
    let free = 0;
    for (let f = this.freeHead; f !== NIL; f = w[f * RW + W_NEXT]!) {
      if ((w[f * RW + W_SF]! & F_USED) !== 0) fail(`used slot ${f} on the free list`);
      if (++free > this.hi) fail('free list cycles');
    }
    if (free + peers !== this.hi) fail(`${free} free + ${peers} used != ${this.hi} slots`);
    for (const [k, n] of perUser) if (n > this.maxPerUser) fail(`user cap exceeded (${k}: ${n})`);
  }
}
