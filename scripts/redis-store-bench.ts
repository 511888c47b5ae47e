/**
 * Announces per second of the Redis peer store next to the in-memory store, in the same run,
 * without the network front ends (the store alone, as TrackerService calls it).
 *
 *   node --import tsx scripts/redis-store-bench.ts [--url redis://127.0.0.1:6379/0] [--cluster]
 *        [--peers 20000] [--torrents 2000] [--announces 100000] [--inflight 256] [--numwant 50]
 *        [--modes memory,inline,cluster-safe] [--connections 1] [--start-cluster]
 *        (a mode may end in +credit: e.g. --modes inline,inline+credit,cluster-safe+credit)
 *
 * For each store: a fill (every peer announces `started`, in a scattered order), then
 * re-announces (event none, random peers; one in 50 switches seeder/leecher state, one in 200
 * stops and comes back as new), then a sweep that removes nothing and one that removes everything.
 * The Redis store keeps `--inflight` announces in flight (ioredis pipelines them on the
 * connection; `--connections` spreads them over several connections, each with its own store
 * instance on the same key prefix, as several tracker processes would); the in-memory store answers
 * synchronously. Modes: `inline` is the standalone default (global counters inside the announce
 * script: one call per announce), `cluster-safe` runs what a Redis Cluster runs (single-slot
 * scripts, a second call when global counters change). With --cluster the url is a cluster seed and
 * only cluster-safe runs; --start-cluster starts a throwaway 3-master cluster on loopback (as the
 * cluster test does) and stops it at the end. Redis memory per peer is INFO used_memory after the fill, minus before,
 * over the peers (standalone only). Keys live under a random prefix, deleted at the end.
 * A `+credit` mode credits every announce in Redis (creditInStore, factors 1, the credit hash of
 * each swarm) and, after the re-announces, times one credit drain of everything (a writer that
 * only counts: the database is not part of the measure).
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { closeRedis, connectRedis } from '../src/shared/redis.js';
import type { InfoHash } from '../src/shared/types.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import type { PeerAnnounce, PeerStore } from '../src/swarm/peer-store.js';
import { RedisCreditDrain } from '../src/swarm/redis-credit-drain.js';
import { RedisPeerStore } from '../src/swarm/redis-peer-store.js';
import { deleteKeys, startRedisCluster } from '../src/swarm/redis-testing.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const started = flag('start-cluster') ? await startRedisCluster() : null;
if (started !== null && 'skip' in started) throw new Error(started.skip);
const url = started?.url ?? arg('url', process.env.ESSAIM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const cluster = started !== null || flag('cluster');
const N = Number(arg('peers', '20000'));
const T = Number(arg('torrents', '2000'));
const A = Number(arg('announces', '100000'));
const INFLIGHT = Number(arg('inflight', '256'));
const NUMWANT = Number(arg('numwant', '50'));
const CONNECTIONS = Math.max(1, Number(arg('connections', '1')));
const modes = arg('modes', cluster ? 'memory,cluster-safe' : 'memory,inline,cluster-safe').split(',');

const T0 = 1_700_000_000;
const hashes: InfoHash[] = [];
for (let t = 0; t < T; t++) hashes.push(randomBytes(20).toString('hex') as InfoHash);

/** Announces carry a credit (a +credit mode is running). */
let creditOn = false;

/** Peer k: torrent k % T, user k % 5000 + 1, one in 20 over IPv6, one in 4 a seeder. */
function announceFor(k: number, now: number, event: PeerAnnounce['event'], flip: boolean): PeerAnnounce {
  const pid = Buffer.alloc(20);
  pid.write('-BN0001-', 0, 'latin1');
  pid.writeUInt32BE(k, 16);
  const v6 = k % 20 === 0;
  const ip = v6 ? Buffer.alloc(16) : Buffer.alloc(4);
  if (v6) {
    ip.writeUInt16BE(0x2001, 0);
    ip.writeUInt32BE(k, 12);
  } else {
    ip.writeUInt32BE(0x0a000000 + k, 0);
  }
  const seeder = (k % 4 === 0) !== flip;
  return {
    infoHash: hashes[k % T]!,
    userId: (k % 5000) + 1,
    peerId: pid,
    ip,
    port: 1024 + (k % 60000),
    uploaded: k * 1000,
    downloaded: 0,
    left: seeder ? 0 : 1000,
    event,
    numwant: NUMWANT,
    wantPeerIds: false,
    now,
    credit: creditOn ? { torrentId: (k % T) + 1, upFactor: 1, downFactor: 1, peerTimeout: 2700 } : undefined,
  };
}

/** A scattered permutation of 0..n-1 (multiplicative step coprime with n). */
function order(n: number, seed: number): number[] {
  let step = 2654435761 % n || 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(step, n) !== 1) step++;
  const out: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (i * step + seed) % n;
  return out;
}

/** Runs `count` announces made by `make(i)` with up to INFLIGHT in flight over the stores; announces/s. */
async function drive(stores: PeerStore[], count: number, make: (i: number) => PeerAnnounce): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const store = stores[w % stores.length]!;
    while (next < count) {
      const i = next++;
      const r = store.announce(make(i));
      if (r instanceof Promise) await r;
    }
  };
  const lanes = stores[0] instanceof MemoryPeerStore ? 1 : INFLIGHT;
  await Promise.all(Array.from({ length: lanes }, (_, w) => worker(w)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return count / s;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

interface Row {
  store: string;
  fill: number;
  reannounce: number;
  sweepNothingMs: number;
  sweepAllMs: number;
  bytesPerPeer: number | null;
  drainMs: number | null;
  drained: number | null;
}

async function usedMemory(r: Redis | Cluster): Promise<number | null> {
  if (cluster) return null;
  const info = await (r as Redis).info('memory');
  const m = /used_memory:(\d+)/.exec(info);
  return m ? Number(m[1]) : null;
}

async function bench(modeArg: string): Promise<Row> {
  const mode = modeArg.replace(/\+credit$/, '');
  creditOn = modeArg.endsWith('+credit');
  const fillOrder = order(N, 17);
  const reOrder = order(N, 101);
  let stores: PeerStore[];
  const clients: Array<Redis | Cluster> = [];
  const prefix = `essaim-bench:${randomBytes(4).toString('hex')}:`;
  if (mode === 'memory') {
    stores = [new MemoryPeerStore({ maxPeersPerUser: 10 })];
  } else {
    stores = [];
    for (let c = 0; c < CONNECTIONS; c++) {
      const client = connectRedis({ url, cluster });
      clients.push(client);
      stores.push(new RedisPeerStore(client, { maxPeersPerUser: 10, keyPrefix: prefix, inlineGlobals: mode === 'inline', creditInStore: creditOn }));
    }
  }
  try {
    const before = clients.length > 0 ? await usedMemory(clients[0]!) : null;
    const fill = await drive(stores, N, (i) => announceFor(fillOrder[i]!, T0, 'started', false));
    const after = clients.length > 0 ? await usedMemory(clients[0]!) : null;
    const stopped = new Set<number>();
    const reannounce = await drive(stores, A, (i) => {
      const k = reOrder[i % N]!;
      const now = T0 + 60 + Math.floor(i / 1000);
      if (i % 200 === 7 && !stopped.has(k)) {
        stopped.add(k);
        return announceFor(k, now, 'stopped', false);
      }
      stopped.delete(k);
      return announceFor(k, now, 'none', i % 50 === 3);
    });
    let drainMs: number | null = null;
    let drained: number | null = null;
    if (creditOn) {
      let n = 0;
      const writer = { write: async (b: { entryCount: number }) => ((n += b.entryCount), { applied: true }), close: async () => undefined };
      const drain = new RedisCreditDrain(clients[0]!, { keyPrefix: prefix, writer, maxSwarms: T });
      [, drainMs] = await timed(() => drain.run());
      drained = n;
    }
    // (The first sweep removes swarms that stops left empty, if any.)
    const [first, sweepNothingMs] = await timed(() => stores[0]!.sweep(T0 - 1));
    const [res, sweepAllMs] = await timed(() => stores[0]!.sweep(T0 + 1_000_000));
    if (first.expired !== 0 || first.swarmsRemoved + res.swarmsRemoved !== T) {
      throw new Error(`sweeps removed ${first.swarmsRemoved} + ${res.swarmsRemoved} swarms of ${T}`);
    }
    return {
      store: mode === 'memory' ? 'MemoryPeerStore' : `RedisPeerStore (${modeArg}${cluster ? ', cluster' : ''}${CONNECTIONS > 1 ? `, ${CONNECTIONS} connections` : ''})`,
      fill,
      reannounce,
      sweepNothingMs,
      sweepAllMs,
      bytesPerPeer: before !== null && after !== null ? (after - before) / N : null,
      drainMs,
      drained,
    };
  } finally {
    for (const s of stores) await s.close();
    if (clients.length > 0) await deleteKeys(clients[0]!, prefix);
    for (const c of clients) await closeRedis(c);
  }
}

console.log(`peers ${N}, torrents ${T}, re-announces ${A}, numwant ${NUMWANT}, in flight ${INFLIGHT}, connections ${CONNECTIONS}, redis ${url}${cluster ? ' (cluster)' : ''}`);
const rows: Row[] = [];
try {
  for (const m of modes) rows.push(await bench(m));
} finally {
  if (started !== null && !('skip' in started)) await started.stop();
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(`${'store'.padEnd(50)} ${'fill/s'.padStart(9)} ${'re-announce/s'.padStart(15)} ${'sweep(none) ms'.padStart(15)} ${'sweep(all) ms'.padStart(14)} ${'Redis bytes/peer'.padStart(17)} ${'drain ms (entries)'.padStart(20)}`);
for (const r of rows) {
  console.log(
    `${r.store.padEnd(50)} ${fmt(r.fill).padStart(9)} ${fmt(r.reannounce).padStart(15)} ${r.sweepNothingMs.toFixed(1).padStart(15)} ${r.sweepAllMs.toFixed(1).padStart(14)} ${r.bytesPerPeer === null ? '-'.padStart(17) : fmt(r.bytesPerPeer).padStart(17)} ${(r.drainMs === null ? '-' : `${r.drainMs.toFixed(1)} (${fmt(r.drained ?? 0)})`).padStart(20)}`,
  );
}
