/**
 * The Redis peer store: the swarm state shared by every tracker node (standalone Redis or Redis
 * Cluster). It passes the PeerStore contract suite (test/peer-store.contract.ts) and keeps the
 * semantics of the in-memory store (memory-peer-store.ts): per-user peer cap, a seeder is given
 * leechers only, nobody is given themselves, round-robin selection, completed counted once per
 * peer, stopped removes (the swarm stays until the next sweep), sweep removes expired peers and
 * empty swarms.
 *
 * Use
 * ---
 *   import { connectRedis } from '../shared/redis.js';
 *   const redis = connectRedis(config.redis);
 *   const store = createRedisPeerStore(redis, {
 *     maxPeersPerUser: config.tracker.max_peers_per_user,
 *     keyPrefix: config.redis.key_prefix,
 *     ownsClient: true,            // close() quits the connection
 *   });
 *
 * `new RedisPeerStore(redis, options)` is the same. `redis` is an ioredis `Redis` or `Cluster`.
 * Every method returns a promise. Several stores (on several nodes) on the same prefix share one
 * set of swarms.
 *
 * Key layout (P = keyPrefix, H = the info hash as 40 lowercase hex, b = 00..31)
 * ----------
 * Every key of a swarm carries the hash tag {H}, so a swarm lives in one Redis Cluster slot and
 * each of its scripts touches one slot:
 *   P{H}:m  HASH   S seeders, L leechers, D completed, V IPv6 peers, q insertion sequence,
 *                  cs / cl seeder / leecher cursor (a sequence number), ix last time the swarm
 *                  asserted its index entry
 *   P{H}:p  HASH   peer key -> peer record (both binary, below)
 *   P{H}:s  ZSET   seeders as peer key + compact address (30 or 42 bytes), scored by insertion
 *                  sequence (round-robin order): selection reads only this zset
 *   P{H}:l  ZSET   leechers, likewise
 *   P{H}:t  ZSET   peer keys scored by their last announce (seconds): expiry by range
 *   P{H}:u  HASH   user id (decimal) -> that user's peers in the swarm (private mode, user != 0)
 *   P{H}:cr HASH   pending credit (`creditInStore`): "<user>:<torrent>" -> 11 doubles, the
 *                  ledger entry's fields; written by the announce script, moved by the credit
 *                  drain (redis-credit-drain.ts) to
 *   P{H}:crx HASH  in-flight credit, tagged with its drain batch id (field '#')
 * Sweep and drop never touch cr / crx: credit outlives its swarm until a drain writes it.
 * Global state is sharded into 32 buckets (the swarm's bucket: its first hex byte mod 32), each
 * with its own hash tag {gb}; the client iterates over them, and no script ever mixes them with a
 * swarm's keys in cluster mode:
 *   P{gb}:i ZSET   the bucket's swarms (hex), scored by a lower bound of their oldest peer's
 *                  last announce, -inf once a stop empties the swarm
 *   P{gb}:c HASH   n peers, s seeders, v IPv6 peers, w swarms of the bucket
 *   P{gb}:cr SET   the bucket's swarms with pending credit (added by the announce that creates
 *                  P{H}:cr: inline on standalone Redis, by one more call on a cluster)
 * and the drain's records under P{drain}: (see redis-credit-drain.ts).
 *
 * Peers as bytes
 * --------------
 * Peer key: user id (4 bytes, big-endian) + peer id (20 bytes). Peer record: flags (1 byte:
 * 1 seeder, 2 IPv6, 4 completed), last announce (4 bytes), uploaded and downloaded (8-byte
 * doubles, exact to 2^53), then the compact address as handed out (BEP 23: 6 bytes; BEP 7: 18
 * bytes): 27 bytes per IPv4 peer, 39 per IPv6 peer. No JSON anywhere. The class zsets repeat the
 * address after the key, so that selecting 50 peers is one ZRANGEBYSCORE and string slicing, with
 * no record lookups (a peer that moves is re-added with its new address, at the same place).
 * Measured (scripts/redis-store-bench.ts): about 220 bytes of Redis memory per peer in swarms of
 * ten (compact encodings), about 360 in swarms of a thousand.
 *
 * Announce
 * --------
 * One script (EVALSHA through ioredis `defineCommand`, which sends the script once per
 * connection and falls back to EVAL on NOSCRIPT) does the insert / update / remove, the per-user
 * cap, the completed count and the selection of up to numwant peers, and returns the whole
 * outcome. Selection is round robin like the in-memory store: each class zset has a cursor, the
 * script takes the members after it (wrapping once), never the announcing peer, a seeder only
 * from the leechers, a leecher a proportional mix (the same formula as the in-memory store).
 * The global counters and the index live in the bucket's slot:
 * - standalone Redis (`inlineGlobals`, the default for a `Redis` client): the announce script is
 *   given the bucket keys too and updates them itself: one call per announce, always exact;
 * - Redis Cluster: the script returns the deltas (peers, seeders, IPv6 peers, swarms) and the
 *   index operation, and the client applies them with a second small script on the bucket's
 *   slot, only when something changed (a join, a stop, a seeder/leecher or IPv4/IPv6 switch, a new
 *   swarm, or the periodic index re-assertion): a plain re-announce is one call. A node killed
 *   between the two calls leaves the global counters (stats only) off by that announce; the
 *   per-swarm counts (announce, scrape, full scrape) are always exact. `recountStats()` rebuilds
 *   the counters from the swarms.
 *
 * Expiry without a full scan
 * --------------------------
 * A swarm's index score is a lower bound of its oldest peer's last announce: set to `now` when the
 * swarm is created, never raised by announces (they only make peers younger). sweep(olderThan)
 * reads, per bucket, the swarms scored below olderThan (ZRANGEBYSCORE), removes their expired peers
 * (ZRANGEBYSCORE on the swarm's time zset, in chunks of 1000) and rescores them with their actual
 * oldest peer. A swarm emptied by a stop is scored -inf, so that the next sweep removes it (as the
 * in-memory store does). The lower bound assumes that announces reach a swarm in the order of
 * their `now`: an announce whose clock is behind (clock skew between tracker nodes, or announces
 * racing a swarm's creation or rescoring) can leave a peer older than its swarm's score, and that
 * peer then expires late by at most that skew (the first sweep past the score removes it).
 * Removing an empty swarm is ordered so that no concurrent announce can leave
 * a swarm without an index entry: remove the index entry first, then delete the swarm if it is still
 * empty, else put the entry back. Creation sets the entry after the swarm exists; an announce
 * re-asserts the entry (add if missing) every `reindexPeriod` seconds, which repairs an entry lost
 * when a node died between the two calls (cluster mode).
 *
 * Crediting (`creditInStore`)
 * ---------------------------
 * Given PeerAnnounce.credit, the announce script credits the announce exactly as
 * TrackerService.account() credits its ledger, in the same script call that advances the peer's
 * stored counters (a stop is credited before the peer is removed): a node killed at any moment
 * cannot advance the counters without the credit, nor the reverse. The outcome says `credited`.
 *
 * Full scrape and stats: ZSCAN over the bucket indexes (never KEYS), then the swarms' counts;
 * stats sum the 32 bucket counters.
 */
import type { Cluster, Redis } from 'ioredis';
import { closeRedis, checkKeyPrefix, isCluster } from '../shared/redis.js';
import type { InfoHash } from '../shared/types.js';
import { infoHashHex, type InfoHashKey } from './info-hash-index.js';
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
import {
  ANNOUNCE_SCRIPT,
  BUCKET_SCRIPT,
  DROP_IF_EMPTY_SCRIPT,
  DROP_SCRIPT,
  IDX_ADD_NX,
  IDX_NONE,
  IDX_REMOVE,
  IDX_REMOVE_IF,
  IDX_SET_XX,
  SWEEP_SCRIPT,
} from './redis-peer-scripts.js';

/** Number of global buckets. Changing it orphans every existing index entry: never on live data. */
export const REDIS_BUCKETS = 32;

export interface RedisPeerStoreOptions extends PeerStoreOptions {
  /** Prefix of every key (default "essaim:"); no braces. */
  keyPrefix?: string;
  /** close() quits the connection (default false: the caller owns it). */
  ownsClient?: boolean;
  /**
   * Apply global counters and index changes inside the announce script (one call per announce).
   * Only valid on standalone Redis; default: true for a `Redis` client, false for a `Cluster`.
   * False on standalone Redis runs exactly what a cluster runs (tests do that).
   */
  inlineGlobals?: boolean;
  /** Seconds between two index re-assertions by a swarm's announces (default 600). */
  reindexPeriod?: number;
  /**
   * Credit announces in Redis (PeerAnnounce.credit), atomically with the counter update, for the
   * credit drain (redis-credit-drain.ts) to write to the database: sets `creditsInStore`. Default
   * false (the caller's ledger credits, as with the in-memory store).
   */
  creditInStore?: boolean;
}


type Reply = Array<number | Buffer | Reply>;

interface ScriptClient {
  essaimPsAnnounceBuffer(...args: Array<string | number | Buffer>): Promise<Reply>;
  essaimPsAnnounceInlineBuffer(...args: Array<string | number | Buffer>): Promise<Reply>;
  essaimPsBucket(...args: Array<string | number>): Promise<number>;
  essaimPsSweep(...args: Array<string | number>): Promise<Array<number | string>>;
  essaimPsDropIfEmpty(...args: Array<string | number>): Promise<Array<number | string>>;
  essaimPsDrop(...args: Array<string | number>): Promise<number[]>;
}

/**
 * Scripts with their key counts. A fixed count matters on a cluster: the client routes (and
 * auto-pipelines) a script call by its first key, which must therefore be a key, not the count.
 * The announce takes 7 keys, or 10 inline (same script, same SHA).
 */
const SCRIPTS: Array<[name: string, lua: string, keys: number]> = [
  ['essaimPsAnnounce', ANNOUNCE_SCRIPT, 7],
  ['essaimPsAnnounceInline', ANNOUNCE_SCRIPT, 10],
  ['essaimPsBucket', BUCKET_SCRIPT, 2],
  ['essaimPsSweep', SWEEP_SCRIPT, 6],
  ['essaimPsDropIfEmpty', DROP_IF_EMPTY_SCRIPT, 6],
  ['essaimPsDrop', DROP_SCRIPT, 6],
];

const EMPTY = new Uint8Array(0);
const SWEEP_CHUNK = 1000;
const SWEEP_PAGE = 128;
const SCAN_COUNT = 500;

/** The six keys of a swarm (m, p, s, l, t, u), all with the hash tag {hex}. */
export function swarmKeys(prefix: string, hex: string): string[] {
  const b = `${prefix}{${hex}}:`;
  return [b + 'm', b + 'p', b + 's', b + 'l', b + 't', b + 'u'];
}

/** The pending credit hash and the in-flight credit hash of a swarm (hash tag {hex}). */
export function creditKeys(prefix: string, hex: string): [string, string] {
  const b = `${prefix}{${hex}}:`;
  return [b + 'cr', b + 'crx'];
}

/** A bucket's set of swarms with pending credit (hash tag {gNN}, as the bucket's other keys). */
export function pendingKey(prefix: string, b: number): string {
  return `${prefix}{g${b.toString().padStart(2, '0')}}:cr`;
}

/** The bucket (0..REDIS_BUCKETS-1) of a lowercase hex info hash. */
export function bucketOf(hex: string): number {
  return parseInt(hex.slice(0, 2), 16) % REDIS_BUCKETS;
}

/** The two keys of a bucket (index, counters), with the hash tag {gNN}. */
export function bucketKeys(prefix: string, b: number): [string, string] {
  const t = `${prefix}{g${b.toString().padStart(2, '0')}}:`;
  return [t + 'i', t + 'c'];
}

/** The keys each script is given, per call kind: every list must map to one slot in cluster mode. */
export function scriptKeys(prefix: string, hex: string, inlineGlobals: boolean): Record<string, string[]> {
  const sk = swarmKeys(prefix, hex);
  const bk = bucketKeys(prefix, bucketOf(hex));
  const cr = creditKeys(prefix, hex)[0];
  return {
    announce: inlineGlobals ? [...sk, cr, ...bk, pendingKey(prefix, bucketOf(hex))] : [...sk, cr],
    bucket: bk,
    sweep: sk,
    dropIfEmpty: sk,
    drop: sk,
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v));

/**
 * Cuts class members (24-byte peer key + compact address of `alen` bytes, back to back) into the
 * compact addresses and, when asked, the 20-byte peer ids, in the same order.
 */
function cut(members: Buffer, alen: number, ids: boolean): [Uint8Array, Uint8Array] {
  const size = 24 + alen;
  const n = Buffer.isBuffer(members) ? Math.floor(members.length / size) : 0;
  if (n === 0) return [EMPTY, EMPTY];
  const addrs = new Uint8Array(n * alen);
  const pids = ids ? new Uint8Array(n * 20) : EMPTY;
  for (let i = 0; i < n; i++) {
    const o = i * size;
    addrs.set(members.subarray(o + 24, o + size), i * alen);
    if (ids) pids.set(members.subarray(o + 4, o + 24), i * 20);
  }
  return [addrs, pids];
}

export class RedisPeerStore implements PeerStore {
  private readonly redis: Redis | Cluster;
  private readonly sc: ScriptClient;
  private readonly prefix: string;
  private readonly maxPerUser: number;
  private readonly owns: boolean;
  readonly inlineGlobals: boolean;
  private readonly reindex: number;
  private readonly bkeys: Array<[string, string]> = [];
  private readonly pkeys: string[] = [];
  private closed = false;
  /** Announces given `credit` are credited here (see RedisPeerStoreOptions.creditInStore). */
  readonly creditsInStore: boolean;

  constructor(redis: Redis | Cluster, opts: RedisPeerStoreOptions) {
    this.redis = redis;
    this.prefix = checkKeyPrefix(opts.keyPrefix ?? 'essaim:');
    this.maxPerUser = opts.maxPeersPerUser;
    this.owns = opts.ownsClient ?? false;
    const cluster = isCluster(redis);
    this.inlineGlobals = opts.inlineGlobals ?? !cluster;
    if (this.inlineGlobals && cluster) throw new TypeError('inlineGlobals is only valid on standalone Redis');
    this.reindex = opts.reindexPeriod ?? 600;
    for (const [name, lua, keys] of SCRIPTS) {
      redis.defineCommand(name, { lua, numberOfKeys: keys });
    }
    this.sc = redis as unknown as ScriptClient;
    for (let b = 0; b < REDIS_BUCKETS; b++) {
      this.bkeys.push(bucketKeys(this.prefix, b));
      this.pkeys.push(pendingKey(this.prefix, b));
    }
    this.creditsInStore = opts.creditInStore ?? false;
  }

  get keyPrefix(): string {
    return this.prefix;
  }

  async announce(a: PeerAnnounce): Promise<AnnounceOutcome> {
    if (a.peerId.length !== 20) throw new RangeError('peerId must be 20 bytes');
    const ip = a.ip;
    const isV6 = ip.length === 16;
    if (!isV6 && ip.length !== 4) throw new RangeError('ip must be 4 or 16 bytes');
    const hex = infoHashHex(a.infoHash);
    if (hex === null) throw new RangeError('infoHash must be 40 hex characters or 20 bytes');
    const userId = a.userId >>> 0;
    const now = a.now >>> 0;
    const key = Buffer.allocUnsafe(24);
    key.writeUInt32BE(userId, 0);
    key.set(a.peerId, 4);
    const addr = Buffer.allocUnsafe(isV6 ? 18 : 6);
    addr.set(ip, 0);
    addr.writeUInt16BE(a.port & 0xffff, ip.length);
    const ev = a.event === 'completed' ? 1 : a.event === 'stopped' ? 2 : 0;
    const numwant = a.numwant > 0 ? Math.floor(a.numwant) : 0;
    const keys = swarmKeys(this.prefix, hex);
    keys.push(creditKeys(this.prefix, hex)[0]);
    const b = bucketOf(hex);
    let call = this.sc.essaimPsAnnounceBuffer;
    if (this.inlineGlobals) {
      keys.push(...this.bkeys[b]!, this.pkeys[b]!);
      call = this.sc.essaimPsAnnounceInlineBuffer;
    }
    const c = this.creditsInStore && userId !== 0 ? a.credit : undefined;
    if (c && !(Number.isFinite(c.upFactor) && Number.isFinite(c.downFactor) && Number.isFinite(c.peerTimeout))) {
      throw new RangeError('credit factors and peer timeout must be finite numbers');
    }
    const r = await call.call(
      this.sc,
      ...keys,
      key,
      addr,
      a.uploaded,
      a.downloaded,
      a.left === 0 ? 1 : 0,
      ev,
      numwant,
      0,
      now,
      this.maxPerUser,
      userId,
      this.reindex,
      hex,
      c ? 1 : 0,
      c ? `${userId}:${c.torrentId >>> 0}` : '',
      c ? c.upFactor : 0,
      c ? c.downFactor : 0,
      c ? c.peerTimeout : 0,
      c?.restored ? 'r' : a.event === 'started' ? 's' : '',
      c?.restored ? c.restored.uploaded : 0,
      c?.restored ? c.restored.downloaded : 0,
    );
    const idxOp = num(r[17]);
    if (num(r[19]) === 0) {
      const dP = num(r[13]);
      const dS = num(r[14]);
      const dV = num(r[15]);
      const dW = num(r[16]);
      if (dP !== 0 || dS !== 0 || dV !== 0 || dW !== 0 || idxOp !== IDX_NONE) {
        await this.bucketApply(b, hex, dP, dS, dV, dW, idxOp, str(r[18]));
      }
      // A credit hash just created: listed in the bucket's pending set for the drain (a node
      // killed before this leaves it unlisted until the drain's reconcile finds it).
      if (num(r[21]) === 1 && !this.inlineGlobals) await this.redis.sadd(this.pkeys[b]!, hex);
    }
    const m4 = r[9] as Buffer;
    const m6 = r[10] as Buffer;
    const want = a.wantPeerIds && ev !== 2 && num(r[0]) === 0;
    const [peers4, ids4] = cut(m4, 6, want);
    const [peers6, ids6] = cut(m6, 18, want);
    const out: AnnounceOutcome = {
      complete: num(r[1]),
      incomplete: num(r[2]),
      downloaded: num(r[3]),
      peers4,
      peers6,
      isNew: num(r[4]) === 1,
      prevUploaded: num(r[5]),
      prevDownloaded: num(r[6]),
      elapsed: num(r[7]),
      wasSeeder: num(r[8]) === 1,
    };
    // As the in-memory store: no peer ids in a stopped or refused outcome (there are no peers).
    if (num(r[20]) === 1) out.credited = true;
    if (num(r[0]) === 1) out.refused = 'peer-limit';
    else if (want) {
      out.peerIds4 = ids4;
      out.peerIds6 = ids6;
    }
    return out;
  }

  private async bucketApply(b: number, hex: string, dP: number, dS: number, dV: number, dW: number, op: number, score: string): Promise<void> {
    const [ik, ck] = this.bkeys[b]!;
    await this.sc.essaimPsBucket(ik, ck, hex, dP, dS, dV, dW, op, score === '' ? '0' : score);
  }

  async scrape(infoHashes: readonly InfoHashKey[]): Promise<SwarmCounts[]> {
    const out: SwarmCounts[] = infoHashes.map(() => ({ complete: 0, incomplete: 0, downloaded: 0 }));
    const idx: number[] = [];
    const keys: string[] = [];
    infoHashes.forEach((h, i) => {
      const hex = infoHashHex(h);
      if (hex === null) return;
      idx.push(i);
      keys.push(swarmKeys(this.prefix, hex)[0]!);
    });
    const res = await this.hmgetMany(keys, ['S', 'L', 'D']);
    res.forEach((c, k) => {
      out[idx[k]!] = { complete: Number(c[0] ?? 0), incomplete: Number(c[1] ?? 0), downloaded: Number(c[2] ?? 0) };
    });
    return out;
  }

  /**
   * HMGET on many keys in one round trip: a pipeline on standalone Redis; on a cluster, commands
   * issued together (auto-pipelined per node by the client when enabled).
   */
  private async hmgetMany(keys: string[], fields: readonly string[]): Promise<Array<Array<string | null>>> {
    if (keys.length === 0) return [];
    if (!isCluster(this.redis)) {
      const pl = this.redis.pipeline();
      for (const k of keys) pl.hmget(k, ...fields);
      const res = (await pl.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        return v as Array<string | null>;
      });
    }
    const r = this.redis;
    return Promise.all(keys.map((k) => r.hmget(k, ...fields)));
  }

  async sweep(olderThan: number): Promise<SweepResult> {
    const result: SweepResult = { expired: 0, swarmsRemoved: 0 };
    const limit = `(${olderThan}`;
    // Bucket after bucket, a page of swarms at a time: announces queued behind a sweep wait for
    // at most one page of scripts.
    for (let b = 0; b < REDIS_BUCKETS; b++) {
      const [ik] = this.bkeys[b]!;
      const seen = new Set<string>();
      let offset = 0;
      for (;;) {
        const page = await this.redis.zrangebyscore(ik, '-inf', limit, 'WITHSCORES', 'LIMIT', offset, SWEEP_PAGE);
        if (page.length === 0) break;
        // A swarm swept once this run and still due (a peer with a clock behind arrived meanwhile)
        // is not swept again: skip it. Skipping by offset may pass over a few unseen swarms in
        // that rare case; the next sweep takes them.
        const todo: Array<[string, string]> = [];
        for (let i = 0; i < page.length; i += 2) {
          if (seen.has(page[i]!)) offset++;
          else {
            seen.add(page[i]!);
            todo.push([page[i]!, page[i + 1]!]);
          }
        }
        if (todo.length === 0) break;
        await Promise.all(todo.map(([hex, score]) => this.sweepSwarm(b, hex, score, olderThan, result)));
      }
    }
    return result;
  }

  private async sweepSwarm(b: number, hex: string, score: string, olderThan: number, result: SweepResult): Promise<void> {
    const sk = swarmKeys(this.prefix, hex);
    let dP = 0;
    let dS = 0;
    let dV = 0;
    let r: Array<number | string>;
    do {
      r = await this.sc.essaimPsSweep(...sk, olderThan, SWEEP_CHUNK);
      if (num(r[0]) < 0) {
        // An index entry without a swarm (a node died mid-way): remove it unless it changed.
        await this.bucketApply(b, hex, 0, 0, 0, 0, IDX_REMOVE_IF, score);
        return;
      }
      result.expired += num(r[0]);
      dP += num(r[1]);
      dS += num(r[2]);
      dV += num(r[3]);
    } while (num(r[4]) === 1);
    if (num(r[5]) === 0) {
      await this.bucketApply(b, hex, dP, dS, dV, 0, IDX_SET_XX, str(r[6]));
      return;
    }
    // Empty: index entry out first, then delete the swarm if nobody joined meanwhile.
    await this.bucketApply(b, hex, dP, dS, dV, 0, IDX_REMOVE, '');
    const d = await this.sc.essaimPsDropIfEmpty(...sk);
    const st = num(d[0]);
    if (st === 1) {
      result.swarmsRemoved++;
      await this.bucketApply(b, hex, 0, 0, 0, -1, IDX_NONE, '');
    } else if (st === 0) {
      await this.bucketApply(b, hex, 0, 0, 0, 0, IDX_ADD_NX, str(d[1]));
    }
  }

  /**
   * The swarms of one bucket's index, a page of hashes at a time, each once (ZSCAN may repeat an
   * entry), with the given fields of each swarm's meta hash (null fields: the swarm is gone).
   */
  private async *bucketSwarms(ik: string, fields: readonly string[]): AsyncGenerator<Array<[string, Array<string | null>]>> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, items] = await this.redis.zscan(ik, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      const hexes: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const h = items[i]!;
        if (!seen.has(h)) {
          seen.add(h);
          hexes.push(h);
        }
      }
      const res = await this.hmgetMany(
        hexes.map((h) => swarmKeys(this.prefix, h)[0]!),
        fields,
      );
      yield hexes.map((h, k) => [h, res[k]!]);
    } while (cursor !== '0');
  }

  async forEachSwarm(fn: (infoHash: InfoHash, counts: SwarmCounts) => void): Promise<void> {
    for (const [ik] of this.bkeys) {
      for await (const page of this.bucketSwarms(ik, ['S', 'L', 'D'])) {
        for (const [h, c] of page) {
          if (c[0] === null) continue; // an index entry whose swarm is gone
          fn(h as InfoHash, { complete: Number(c[0]), incomplete: Number(c[1] ?? 0), downloaded: Number(c[2] ?? 0) });
        }
      }
    }
  }

  async stats(): Promise<StoreStats> {
    const res = await this.hmgetMany(
      this.bkeys.map(([, ck]) => ck),
      ['n', 's', 'v', 'w'],
    );
    let peers = 0;
    let seeders = 0;
    let v6 = 0;
    let torrents = 0;
    for (const c of res) {
      peers += Number(c[0] ?? 0);
      seeders += Number(c[1] ?? 0);
      v6 += Number(c[2] ?? 0);
      torrents += Number(c[3] ?? 0);
    }
    return { peers, seeders, leechers: peers - seeders, torrents, ipv4: peers - v6, ipv6: v6 };
  }

  async dropSwarm(infoHash: InfoHash): Promise<void> {
    const hex = infoHashHex(infoHash);
    if (hex === null) return;
    const b = bucketOf(hex);
    // Index entry out first: an announce that recreates the swarm afterwards adds it back.
    await this.bucketApply(b, hex, 0, 0, 0, 0, IDX_REMOVE, '');
    const r = await this.sc.essaimPsDrop(...swarmKeys(this.prefix, hex));
    if (num(r[0]) === 1) {
      const S = num(r[1]);
      const L = num(r[2]);
      await this.bucketApply(b, hex, -(S + L), -S, -num(r[3]), -1, IDX_NONE, '');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owns) await closeRedis(this.redis);
  }

  // ---------------------------------------------------------------------------------------------
  // Maintenance and diagnostics (not on the hot path)

  /**
   * Rebuilds the bucket counters from the swarms (after a node died between an announce and its
   * counter update, cluster mode). Announces running meanwhile may leave it off by their deltas.
   */
  async recountStats(): Promise<StoreStats> {
    for (let b = 0; b < REDIS_BUCKETS; b++) {
      const [ik, ck] = this.bkeys[b]!;
      let n = 0;
      let s = 0;
      let v = 0;
      let w = 0;
      for await (const page of this.bucketSwarms(ik, ['S', 'L', 'V'])) {
        for (const [, c] of page) {
          if (c[0] === null) continue;
          w++;
          s += Number(c[0]);
          n += Number(c[0]) + Number(c[1] ?? 0);
          v += Number(c[2] ?? 0);
        }
      }
      await this.redis.hset(ck, 'n', n, 's', s, 'v', v, 'w', w);
    }
    return this.stats();
  }

  /** The peers of a swarm, seeders then leechers in round-robin order (diagnostics, tests). */
  async dumpSwarm(infoHash: InfoHash): Promise<PeerSnapshot[]> {
    const hex = infoHashHex(infoHash);
    if (hex === null) return [];
    const [, p, s, l] = swarmKeys(this.prefix, hex);
    const out: PeerSnapshot[] = [];
    for (const z of [s!, l!]) {
      const members = await this.redis.zrangeBuffer(z, 0, -1);
      if (members.length === 0) continue;
      const keys = members.map((mb) => mb.subarray(0, 24));
      const recs = await this.redis.hmgetBuffer(p!, ...keys);
      keys.forEach((k, i) => {
        const r = recs[i];
        if (r) out.push(decodePeer(k, r));
      });
    }
    return out;
  }

  /**
   * Checks the invariants of every indexed swarm and of the global counters (diagnostics and
   * tests: reads everything). Throws an Error describing the first violation. `skew`: how far (in
   * seconds) a swarm's index score may exceed its oldest peer, for announces that arrived with
   * out-of-order clocks (see "Expiry" in the module comment); default 0.
   */
  async checkInvariants(opts: { skew?: number } = {}): Promise<void> {
    const skew = opts.skew ?? 0;
    const fail = (m: string): never => {
      throw new Error(`RedisPeerStore invariant: ${m}`);
    };
    // Every swarm is indexed (SCAN of the keyspace: diagnostics only, never on the hot path).
    const nodes: Redis[] = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
    const tail = ':m';
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(this.prefix)}{*}${tail}`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          const hex = k.slice(this.prefix.length + 1, this.prefix.length + 41);
          if (!/^[0-9a-f]{40}$/.test(hex)) continue;
          const [ik] = this.bkeys[bucketOf(hex)]!;
          if ((await this.redis.zscore(ik, hex)) === null) fail(`swarm ${hex} is not indexed`);
        }
      } while (cursor !== '0');
    }
    for (let b = 0; b < REDIS_BUCKETS; b++) {
      const [ik, ck] = this.bkeys[b]!;
      const entries = await this.redis.zrange(ik, 0, -1, 'WITHSCORES');
      const bt = { n: 0, s: 0, v: 0, w: 0 };
      for (let i = 0; i < entries.length; i += 2) {
        const hex = entries[i]!;
        const score = Number(entries[i + 1] === '-inf' ? -Infinity : entries[i + 1]);
        if (bucketOf(hex) !== b) fail(`swarm ${hex} indexed in bucket ${b}`);
        const [m, p, s, l, t, u] = swarmKeys(this.prefix, hex) as [string, string, string, string, string, string];
        const meta = await this.redis.hgetall(m);
        if (meta.S === undefined) fail(`indexed swarm ${hex} does not exist`);
        const S = Number(meta.S);
        const L = Number(meta.L);
        const V = Number(meta.V);
        const seeds = await this.redis.zrangeBuffer(s, 0, -1);
        const leech = await this.redis.zrangeBuffer(l, 0, -1);
        if (seeds.length !== S || leech.length !== L) fail(`swarm ${hex}: zsets ${seeds.length}/${leech.length}, counts ${S}/${L}`);
        const members = [...seeds, ...leech];
        const all = members.map((mb) => mb.subarray(0, 24));
        if ((await this.redis.hlen(p)) !== S + L) fail(`swarm ${hex}: record count differs from ${S + L} peers`);
        if ((await this.redis.zcard(t)) !== S + L) fail(`swarm ${hex}: time zset size differs from ${S + L} peers`);
        const recList = all.length === 0 ? [] : await this.redis.hmgetBuffer(p, ...all);
        const times = all.length === 0 ? [] : await this.redis.zmscore(t, ...all);
        const recs = new Map<Buffer, Buffer | null>(members.map((mb, i) => [mb, recList[i] ?? null]));
        let v6 = 0;
        const perUser = new Map<number, number>();
        const check = (list: Buffer[], seeder: boolean): void => {
          for (const mb of list) {
            const r = recs.get(mb);
            if (!r) fail(`swarm ${hex}: a ${seeder ? 'seeder' : 'leecher'} has no record`);
            if (!mb.subarray(24).equals(r!.subarray(21))) fail(`swarm ${hex}: a class member's address differs from its record`);
            const peer = decodePeer(mb.subarray(0, 24), r!);
            if (peer.seeder !== seeder) fail(`swarm ${hex}: a peer is in the wrong class`);
            if (peer.ip.length === 16) v6++;
            if (peer.userId !== 0) perUser.set(peer.userId, (perUser.get(peer.userId) ?? 0) + 1);
          }
        };
        check(seeds, true);
        check(leech, false);
        if (v6 !== V) fail(`swarm ${hex}: ${v6} IPv6 peers, count ${V}`);
        let oldest = Infinity;
        for (const x of times) {
          if (x === null) fail(`swarm ${hex}: a peer has no announce time`);
          oldest = Math.min(oldest, Number(x));
        }
        if (S + L > 0 && score > oldest + skew) fail(`swarm ${hex}: index score ${score} above its oldest peer ${oldest}`);
        const users = await this.redis.hgetall(u);
        const want = Object.fromEntries([...perUser].map(([k, n]) => [String(k), String(n)]));
        if (JSON.stringify(Object.entries(users).sort()) !== JSON.stringify(Object.entries(want).sort())) {
          fail(`swarm ${hex}: user counts ${JSON.stringify(users)}, peers ${JSON.stringify(want)}`);
        }
        for (const [uid, n] of perUser) if (n > this.maxPerUser) fail(`swarm ${hex}: user ${uid} has ${n} peers`);
        bt.n += S + L;
        bt.s += S;
        bt.v += V;
        bt.w++;
      }
      const c = await this.redis.hmget(ck, 'n', 's', 'v', 'w');
      const got = { n: Number(c[0] ?? 0), s: Number(c[1] ?? 0), v: Number(c[2] ?? 0), w: Number(c[3] ?? 0) };
      if (JSON.stringify(got) !== JSON.stringify(bt)) fail(`bucket ${b}: counters ${JSON.stringify(got)}, swarms ${JSON.stringify(bt)}`);
    }
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** Decodes a peer key and record. */
export function decodePeer(key: Buffer, rec: Buffer): PeerSnapshot {
  const f = rec[0]!;
  const addr = rec.subarray(21);
  const ipLen = addr.length - 2;
  return {
    userId: key.readUInt32BE(0),
    peerId: new Uint8Array(key.subarray(4, 24)),
    ip: new Uint8Array(addr.subarray(0, ipLen)),
    port: addr.readUInt16BE(ipLen),
    seeder: (f & 1) !== 0,
    completed: (f & 4) !== 0,
    uploaded: rec.readDoubleBE(5),
    downloaded: rec.readDoubleBE(13),
    lastAnnounce: rec.readUInt32BE(1),
  };
}

/** A Redis peer store on a client the caller owns unless `ownsClient` (see the module comment). */
export function createRedisPeerStore(redis: Redis | Cluster, opts: RedisPeerStoreOptions): RedisPeerStore {
  return new RedisPeerStore(redis, opts);
}
