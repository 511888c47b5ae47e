/**
 * The Redis credit drain (#6): traffic credited by the announce script (RedisPeerStore with
 * `creditInStore`) waits in Redis, per swarm, until a drain writes it to the database in ONE
 * idempotent LedgerBatch. A tracker node killed at any moment loses nothing: its announces were
 * credited in Redis atomically with the counters they advanced, and the drain's own steps can be
 * interrupted anywhere and resumed by any node.
 *
 * Use
 * ---
 *   const drain = new RedisCreditDrain(redis, { keyPrefix, writer, log, nodeId });
 *   await drain.run();        // periodically, by one node (a job lease); concurrent runs are safe
 *   await drain.reconcile();  // now and then (minutes): finds credit the pending sets lost
 *   await drain.pending();    // swarms with credit waiting (a metric)
 *
 * Keys (P = keyPrefix, H = info hash in hex, gNN = the swarm's bucket, see redis-peer-store.ts)
 * ----
 *   P{H}:cr        HASH  pending credit: "<user>:<torrent>" -> 11 doubles (ENTRY_FIELDS order)
 *   P{H}:crx       HASH  in-flight credit: the same, plus '#' -> the drain batch id it belongs to
 *   P{gNN}:cr      SET   swarms of the bucket with pending credit (added by the announce that
 *                        creates P{H}:cr: inline on standalone Redis, by a second call on a cluster)
 *   P{drain}:o     ZSET  open drain batches (id scored by its start, ms)
 *   P{drain}:c:id  SET   the batch's candidate swarms (recorded before anything moves)
 *   P{drain}:z:id  STRING the batch's composition (swarms, comma-separated), written once: sealed
 *
 * A drain run
 * -----------
 * 1. Earlier batches still open are finished first: a sealed one right away (its composition is
 *    fixed), an unsealed one once older than `staleAfterMs` (its drain is presumed dead): it is
 *    sealed with the candidates whose in-flight hash carries its id.
 * 2. A new batch: its id enters P{drain}:o, then up to `maxSwarms` swarms are read from the
 *    pending sets, recorded as candidates, removed from the pending sets, and moved one by one
 *    (script: P{H}:cr renamed to P{H}:crx and tagged with the batch id, unless P{H}:crx exists:
 *    then nothing moves and the swarm goes back to its pending set).
 * 3. Seal: the composition is recorded once (the first sealer wins; a drain presumed dead that
 *    wakes up finds the composition another drain sealed and gives the swarms it moved meanwhile
 *    back to their pending hashes).
 * 4. Apply: the in-flight hashes of the composition are summed into one LedgerBatch with the
 *    batch id and written through the LedgerWriter (one transaction; a batch id applied before is
 *    skipped). The batch hour (user_traffic_hour) is that of the latest announce in the batch, as
 *    with the in-memory ledger.
 * 5. Delete the in-flight hashes tagged with the id, then the batch's records.
 *
 * Why this is exactly once: an in-flight hash tagged with an id is never modified, only deleted,
 * and only after the batch with that id committed; the composition of a batch is written once
 * before anything is applied; so every attempt at a batch id writes the same entries, or, after the
 * commit, is skipped by the database. A retry reads the same composition and the same in-flight
 * hashes; after the commit some may be deleted already, and the batch is skipped anyway. Credits
 * that a batch will never apply (moved by a drain after another one sealed its batch, or orphaned)
 * are merged back into the pending hash, never deleted: `reconcile()` does that for an in-flight
 * hash whose batch is no longer open, and lists every pending hash in its bucket's set (a cluster
 * node killed between its announce and the second call leaves one unlisted).
 *
 * Peer baselines: this mode writes none (the batch's baseline part is empty). The counters the
 * deltas are taken from live in Redis, next to the credits, and move with them atomically; a
 * restarted tracker node needs no baseline, since the peers are still in Redis. Only losing Redis
 * itself (no persistence) would need them, and then the pending credit is lost as well: run Redis
 * with persistence (appendonly) when credit matters. Baselines written by an earlier in-memory
 * run are still restored by the tracker and used once for a peer that is new to Redis.
 */
import type { Cluster, Redis } from 'ioredis';
import type { LedgerWriter } from '../db/ledger-writer.js';
import {
  allocBatch,
  E_COMPLETED_AT,
  E_FIRST_SEEN_AT,
  E_LAST_SEEN_AT,
  ENTRY_FIELDS,
  NO_DATE,
  type LedgerBatch,
} from '../shared/ledger-batch.js';
import { checkKeyPrefix, isCluster } from '../shared/redis.js';
import { CREDIT_DONE_SCRIPT, CREDIT_MOVE_SCRIPT, CREDIT_RETURN_SCRIPT, CREDIT_SEAL_SCRIPT } from './redis-peer-scripts.js';
import { REDIS_BUCKETS, bucketOf, creditKeys, pendingKey } from './redis-peer-store.js';

/** Steps of a run after which the `hook` option is called (tests inject crashes there). */
export type DrainStep = 'collected' | 'moved' | 'sealed' | 'applied' | 'deleted-one';

interface DrainLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisCreditDrainOptions {
  writer: LedgerWriter;
  /** Prefix of every key (default "essaim:"), the same as the peer store's. */
  keyPrefix?: string;
  log?: DrainLog;
  /** Prefix of the drain's batch ids (this node). */
  nodeId?: string;
  /** Most swarms per batch (default 5000); `more` tells when some were left for the next run. */
  maxSwarms?: number;
  /** An unsealed batch older than this is presumed abandoned by a dead drain (default 30 s). */
  staleAfterMs?: number;
  /** Milliseconds since the epoch (default Date.now). */
  nowMs?: () => number;
  /** Called after each step (tests). */
  hook?: (step: DrainStep, batchId: string) => void | Promise<void>;
}

export interface DrainResult {
  /** The new batch's id, or null when nothing was pending. */
  batchId: string | null;
  /** Swarms in the new batch. */
  swarms: number;
  /** (member, torrent) entries of the new batch. */
  entries: number;
  /** False when the database already had the new batch (or it was empty). */
  applied: boolean;
  /** Earlier batches finished by this run. */
  recovered: number;
  /** Swarms with pending credit were left for the next run (maxSwarms). */
  more: boolean;
}

interface DrainClient {
  essaimCrMove(cr: string, crx: string, id: string): Promise<[number, string]>;
  essaimCrDone(crx: string, id: string): Promise<number>;
  essaimCrReturn(cr: string, crx: string, id: string): Promise<number>;
  essaimCrSeal(key: string, value: string): Promise<string>;
  essaimCrxGetallBuffer(crx: string): Promise<Buffer[]>;
}

const CHUNK = 100;
const HEX40 = /^[0-9a-f]{40}$/;

/** Runs fn over items, `CHUNK` calls in flight at a time. */
async function chunked<T>(items: readonly T[], fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await Promise.all(items.slice(i, i + CHUNK).map(fn));
}

export class RedisCreditDrain {
  private readonly redis: Redis | Cluster;
  private readonly sc: DrainClient;
  private readonly prefix: string;
  private readonly writer: LedgerWriter;
  private readonly log: DrainLog | undefined;
  private readonly node: string;
  private readonly maxSwarms: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private readonly hook: RedisCreditDrainOptions['hook'];
  private readonly pkeys: string[] = [];
  private readonly openKey: string;
  private seq = 0;

  constructor(redis: Redis | Cluster, opts: RedisCreditDrainOptions) {
    this.redis = redis;
    this.prefix = checkKeyPrefix(opts.keyPrefix ?? 'essaim:');
    this.writer = opts.writer;
    this.log = opts.log;
    this.node = opts.nodeId ?? Math.random().toString(36).slice(2, 10);
    this.maxSwarms = Math.max(1, opts.maxSwarms ?? 5000);
    this.staleAfterMs = opts.staleAfterMs ?? 30_000;
    this.now = opts.nowMs ?? Date.now;
    this.hook = opts.hook;
    for (let b = 0; b < REDIS_BUCKETS; b++) this.pkeys.push(pendingKey(this.prefix, b));
    this.openKey = `${this.prefix}{drain}:o`;
    redis.defineCommand('essaimCrMove', { lua: CREDIT_MOVE_SCRIPT, numberOfKeys: 2 });
    redis.defineCommand('essaimCrDone', { lua: CREDIT_DONE_SCRIPT, numberOfKeys: 1 });
    redis.defineCommand('essaimCrReturn', { lua: CREDIT_RETURN_SCRIPT, numberOfKeys: 2 });
    redis.defineCommand('essaimCrSeal', { lua: CREDIT_SEAL_SCRIPT, numberOfKeys: 1 });
    // HGETALL with binary values (ioredis returns hgetallBuffer as an object keyed by strings).
    redis.defineCommand('essaimCrxGetall', { lua: "return redis.call('HGETALL', KEYS[1])", numberOfKeys: 1 });
    this.sc = redis as unknown as DrainClient;
  }

  private candKey(id: string): string {
    return `${this.prefix}{drain}:c:${id}`;
  }

  private sealKey(id: string): string {
    return `${this.prefix}{drain}:z:${id}`;
  }

  /** Swarms with pending credit listed in the pending sets, plus those of open batches. */
  async pending(): Promise<number> {
    const counts = await Promise.all(this.pkeys.map((k) => this.redis.scard(k)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Open (unfinished) drain batches. */
  async openBatches(): Promise<string[]> {
    return this.redis.zrange(this.openKey, 0, -1);
  }

  /** One drain (see the module comment). Throws when Redis or the database fails; safe to rerun. */
  async run(): Promise<DrainResult> {
    const result: DrainResult = { batchId: null, swarms: 0, entries: 0, applied: false, recovered: 0, more: false };
    // 1. Earlier batches.
    const open = await this.redis.zrange(this.openKey, 0, -1, 'WITHSCORES');
    for (let i = 0; i < open.length; i += 2) {
      const id = open[i]!;
      const started = Number(open[i + 1]);
      const sealed = await this.redis.get(this.sealKey(id));
      if (sealed === null && this.now() - started < this.staleAfterMs) continue; // its drain is at work
      const comp = sealed !== null ? splitHexes(sealed) : await this.sealAbandoned(id);
      const r = await this.finish(id, comp);
      this.log?.info({ batch: id, swarms: comp.length, entries: r.entries, applied: r.applied }, 'credit drain: earlier batch finished');
      result.recovered++;
    }

    // 2. A new batch.
    const id = `${this.node}-c${++this.seq}-${this.now().toString(36)}`;
    const picked: Array<[number, string]> = [];
    // From a bucket further at each run: a backlog larger than maxSwarms starves no bucket.
    const first = this.seq % REDIS_BUCKETS;
    for (let k = 0; k < REDIS_BUCKETS && picked.length < this.maxSwarms; k++) {
      const b = (first + k) % REDIS_BUCKETS;
      const got = await this.redis.srandmember(this.pkeys[b]!, this.maxSwarms - picked.length);
      for (const h of got) if (HEX40.test(h)) picked.push([b, h]);
      if (picked.length >= this.maxSwarms) result.more = true;
    }
    if (picked.length === 0) return result;
    result.batchId = id;
    // Open first (a batch that moved anything is always findable), candidates next, then out of
    // the pending sets, and only then moved: no step leaves credit that nothing points to.
    await this.redis.zadd(this.openKey, this.now(), id);
    const hexes = picked.map(([, h]) => h);
    for (let i = 0; i < hexes.length; i += 1000) await this.redis.sadd(this.candKey(id), ...hexes.slice(i, i + 1000));
    await Promise.all(
      groupByBucket(picked).map(([b, hs]) => (hs.length > 0 ? this.redis.srem(this.pkeys[b]!, ...hs) : Promise.resolve(0))),
    );
    await this.hook?.('collected', id);
    const moved: string[] = [];
    await chunked(hexes, async (hex) => {
      const [cr, crx] = creditKeys(this.prefix, hex);
      let [st, tag] = await this.sc.essaimCrMove(cr, crx, id);
      if (Number(st) === 2 && tag !== id) {
        // In flight for another batch: if that batch is over, its leftover goes back and the move
        // is retried; if it is still open, the swarm waits in its pending set.
        if (tag !== '' && (await this.redis.zscore(this.openKey, tag)) === null && (await this.sc.essaimCrReturn(cr, crx, tag)) === 1) {
          [st, tag] = await this.sc.essaimCrMove(cr, crx, id);
        }
      }
      if (Number(st) === 1 && tag === id) moved.push(hex);
      else if (Number(st) === 2) await this.redis.sadd(this.pkeys[bucketOf(hex)]!, hex);
    });
    await this.hook?.('moved', id);

    // 3. Seal.
    const comp = splitHexes(await this.sc.essaimCrSeal(this.sealKey(id), moved.join(',')));
    await this.hook?.('sealed', id);
    const inComp = new Set(comp);
    const late = moved.filter((h) => !inComp.has(h));
    if (late.length > 0) {
      // Another drain sealed this batch while this one was presumed dead: give back what it moved since.
      await chunked(late, (hex) => this.giveBack(hex, id));
      this.log?.warn({ batch: id, swarms: late.length }, 'credit drain: batch sealed by another drain; late moves given back');
    }

    // 4 and 5.
    const r = await this.finish(id, comp);
    result.swarms = comp.length;
    result.entries = r.entries;
    result.applied = r.applied;
    return result;
  }

  /** Seals an abandoned batch with the candidates whose in-flight hash carries its id. */
  private async sealAbandoned(id: string): Promise<string[]> {
    const cands = await this.redis.smembers(this.candKey(id));
    const mine: string[] = [];
    await chunked(cands, async (hex) => {
      if ((await this.redis.hget(creditKeys(this.prefix, hex)[1], '#')) === id) mine.push(hex);
    });
    const comp = splitHexes(await this.sc.essaimCrSeal(this.sealKey(id), mine.join(',')));
    // Candidates left out may still have pending credit whose listing the dead drain removed.
    const inComp = new Set(comp);
    const back = cands.filter((h) => !inComp.has(h) && HEX40.test(h));
    await chunked(back, async (hex) => void (await this.redis.sadd(this.pkeys[bucketOf(hex)]!, hex)));
    return comp;
  }

  /** Merges an in-flight hash tagged `id` back into its pending hash, listed again. */
  private async giveBack(hex: string, id: string): Promise<void> {
    const [cr, crx] = creditKeys(this.prefix, hex);
    await this.sc.essaimCrReturn(cr, crx, id);
    await this.redis.sadd(this.pkeys[bucketOf(hex)]!, hex);
  }

  /** Applies a sealed batch, then deletes its in-flight hashes and its records. */
  private async finish(id: string, comp: readonly string[]): Promise<{ entries: number; applied: boolean }> {
    const rows = new Map<string, Float64Array>();
    await chunked(comp, async (hex) => {
      const all = await this.sc.essaimCrxGetallBuffer(creditKeys(this.prefix, hex)[1]);
      const fields = new Map<string, Buffer>();
      for (let i = 0; i + 1 < all.length; i += 2) fields.set(all[i]!.toString('latin1'), all[i + 1]!);
      // Deleted already: the batch committed (a retry after the commit, skipped below anyway).
      if (fields.get('#')?.toString('latin1') !== id) return;
      for (const [f, v] of fields) {
        if (f === '#') continue;
        addRow(rows, f, v);
      }
    });
    const batch = toBatch(id, rows);
    let applied = false;
    if (batch.entryCount > 0) {
      applied = (await this.writer.write(batch)).applied;
      await this.hook?.('applied', id);
    }
    let first = true;
    await chunked(comp, async (hex) => {
      await this.sc.essaimCrDone(creditKeys(this.prefix, hex)[1], id);
      if (first) {
        first = false;
        await this.hook?.('deleted-one', id);
      }
    });
    await this.redis.zrem(this.openKey, id);
    await this.redis.del(this.candKey(id), this.sealKey(id));
    return { entries: batch.entryCount, applied };
  }

  /**
   * Repairs the listing (SCAN of every master: minutes apart, never on the hot path): every
   * pending credit hash is put in its bucket's pending set, and every in-flight hash whose batch
   * is no longer open is merged back into its pending hash. Returns how many of each.
   */
  async reconcile(): Promise<{ listed: number; returned: number }> {
    const out = { listed: 0, returned: 0 };
    const nodes: Redis[] = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
    const pat = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:cr*`;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pat, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          const rest = k.slice(this.prefix.length);
          const hex = rest.slice(1, 41);
          if (rest[0] !== '{' || rest[41] !== '}' || !HEX40.test(hex)) continue;
          const tail = rest.slice(42);
          if (tail === ':cr') {
            out.listed += await this.redis.sadd(this.pkeys[bucketOf(hex)]!, hex);
          } else if (tail === ':crx') {
            const tag = await this.redis.hget(k, '#');
            if (tag === null || (await this.redis.zscore(this.openKey, tag)) !== null) continue;
            const [cr, crx] = creditKeys(this.prefix, hex);
            if ((await this.sc.essaimCrReturn(cr, crx, tag)) === 1) {
              out.returned++;
              await this.redis.sadd(this.pkeys[bucketOf(hex)]!, hex);
            }
          }
        }
      } while (cursor !== '0');
    }
    if (out.listed > 0 || out.returned > 0) this.log?.warn(out, 'credit drain: reconcile repaired the pending listing');
    return out;
  }
}

function splitHexes(s: string): string[] {
  return s === '' ? [] : s.split(',');
}

function groupByBucket(picked: ReadonlyArray<[number, string]>): Array<[number, string[]]> {
  const by = new Map<number, string[]>();
  for (const [b, h] of picked) {
    const l = by.get(b);
    if (l) l.push(h);
    else by.set(b, [h]);
  }
  return [...by];
}

/** Adds one credit record (11 big-endian doubles) to the (member, torrent) row, as the ledger merges. */
function addRow(rows: Map<string, Float64Array>, field: string, v: Buffer): void {
  if (v.length !== ENTRY_FIELDS * 8 || !/^\d+:\d+$/.test(field)) return;
  const rec = new Float64Array(ENTRY_FIELDS);
  for (let i = 0; i < ENTRY_FIELDS; i++) rec[i] = v.readDoubleBE(i * 8);
  const row = rows.get(field);
  if (!row) {
    rows.set(field, rec);
    return;
  }
  for (let i = 0; i < ENTRY_FIELDS; i++) {
    if (i === E_COMPLETED_AT) {
      const a = row[i]!;
      const b = rec[i]!;
      if (b !== NO_DATE && (a === NO_DATE || b < a)) row[i] = b;
    } else if (i === E_FIRST_SEEN_AT) row[i] = Math.min(row[i]!, rec[i]!);
    else if (i === E_LAST_SEEN_AT) row[i] = Math.max(row[i]!, rec[i]!);
    else row[i] = row[i]! + rec[i]!;
  }
}

/** The batch of the rows: entries in (member, torrent) order, no baselines, hour of the latest announce. */
function toBatch(id: string, rows: Map<string, Float64Array>): LedgerBatch {
  const keyed = [...rows].map(([f, v]) => {
    const [u, t] = f.split(':');
    return { u: Number(u), t: Number(t), v };
  });
  keyed.sort((a, b) => a.u - b.u || a.t - b.t);
  let latest = 0;
  for (const k of keyed) if (k.v[E_LAST_SEEN_AT]! > latest) latest = k.v[E_LAST_SEEN_AT]!;
  const b = allocBatch(id, Math.floor(latest / 3600), keyed.length, 0, false);
  keyed.forEach((k, i) => {
    b.entryIds[2 * i] = k.u;
    b.entryIds[2 * i + 1] = k.t;
    b.entryValues.set(k.v, i * ENTRY_FIELDS);
  });
  return b;
}
