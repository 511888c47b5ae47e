/**
 * RedisPeerStore on a real Redis Cluster: three masters started on free loopback ports in a
 * temporary directory (redis-server --cluster-enabled yes, then redis-cli --cluster create),
 * connected through connectRedis({ cluster: true }) with one seed node. A cluster refuses a script
 * whose keys span slots (CROSSSLOT) and a script that touches a key it was not given, so the
 * contract passing here proves the key layout. Also: two nodes share swarms, a workload agrees with
 * MemoryPeerStore, keys are spread over the masters, and the hash tags match the server's slots.
 *
 * Skips when ESSAIM_TEST_REDIS_URL is not set (like every Redis suite), or with the reason when a
 * cluster cannot be started here (no redis-server / redis-cli --cluster).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { closeRedis, connectRedis } from '../src/shared/redis.js';
import type { InfoHash } from '../src/shared/types.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import type { PeerStore, PeerStoreOptions } from '../src/swarm/peer-store.js';
import { RedisPeerStore, bucketKeys, scriptKeys } from '../src/swarm/redis-peer-store.js';
import { REDIS_SKIP, contractStore, countKeys, deleteKeys, randomPrefix, startRedisCluster, testRedisUrl, type TestCluster } from '../src/swarm/redis-testing.js';
import { announceOf, hash, ip6, peerStoreContract } from './peer-store.contract.js';

const started = testRedisUrl() === null ? { skip: REDIS_SKIP } : await startRedisCluster();

if ('skip' in started) {
  describe('RedisPeerStore on a Redis Cluster', () => {
    it('needs a Redis Cluster', { skip: started.skip }, () => {});
  });
} else {
  const cluster: TestCluster = started;
  const redis = connectRedis({ url: cluster.url, cluster: true }) as Cluster;
  const prefixes = new Set<string>();
  before(async () => {
    await redis.ping();
  });
  after(async () => {
    try {
      for (const p of prefixes) await deleteKeys(redis, p);
      await closeRedis(redis);
    } finally {
      await cluster.stop();
    }
  });

  function make(opts: PeerStoreOptions): PeerStore {
    return contractStore(redis, opts, prefixes);
  }

  peerStoreContract('RedisPeerStore on a 3-master Redis Cluster', make);

  describe('RedisPeerStore on a Redis Cluster', () => {
    it('uses single-slot scripts on a cluster, and refuses to inline global updates there', () => {
      const s = new RedisPeerStore(redis, { maxPeersPerUser: 1, keyPrefix: randomPrefix() });
      assert.equal(s.inlineGlobals, false);
      assert.throws(() => new RedisPeerStore(redis, { maxPeersPerUser: 1, inlineGlobals: true }), TypeError);
    });

    it('hash tags map each script call to one server slot', async () => {
      const master = redis.nodes('master')[0]!;
      for (const hex of [hash('a'), hash('0'), '0123456789abcdef0123456789abcdef01234567']) {
        for (const [name, keys] of Object.entries(scriptKeys('essaim:', hex, false))) {
          const slots = new Set<number>();
          for (const k of keys) slots.add(Number(await master.call('CLUSTER', 'KEYSLOT', k)));
          assert.equal(slots.size, 1, `${name} of ${hex}`);
        }
      }
    });

    it('serves many concurrent announces, scrapes and sweeps (auto-pipelined across slots and masters)', async () => {
      const keyPrefix = randomPrefix();
      prefixes.add(keyPrefix);
      const s = new RedisPeerStore(redis, { maxPeersPerUser: 3, keyPrefix });
      const T = 1_700_000_000;
      const hexes = [...Array(64).keys()].map((i) => (i * 0x9e3779b1 + 1).toString(16).padStart(40, 'e').slice(0, 40) as InfoHash);
      // Two waves, each all at once: the first (750 peers at T) expires at the sweep below.
      const wave = (from: number, now: number) =>
        Promise.all([...Array(750).keys()].map((i) => s.announce(announceOf({ n: from + i, infoHash: hexes[(from + i) % 64]!, left: i % 3 === 0 ? 0 : 9, now, numwant: 10 }))));
      const outs = [...(await wave(0, T)), ...(await wave(750, T + 60))];
      assert.equal(outs.filter((o) => o.isNew).length, 1500);
      const [sc, st] = await Promise.all([s.scrape(hexes), s.stats(), s.sweep(T + 50), s.announce(announceOf({ n: 5000, infoHash: hexes[0]!, now: T + 99 }))]);
      assert.equal(sc.reduce((x, c) => x + c.complete + c.incomplete, 0) >= 750, true, 'scrape while sweeping');
      assert.equal(st.torrents, 64);
      await s.checkInvariants();
      assert.equal((await s.stats()).peers, 751, 'half expired, one joined');
      assert.deepEqual(await s.sweep(T + 1000), { expired: 751, swarmsRemoved: 64 });
      await s.checkInvariants();
    });

    it('two tracker nodes share swarms; a workload agrees with MemoryPeerStore; keys spread over masters', async () => {
      const keyPrefix = randomPrefix();
      prefixes.add(keyPrefix);
      const other = connectRedis({ url: `redis://127.0.0.1:${cluster.ports[2]}/0`, cluster: true }) as Cluster;
      try {
        const a = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix });
        const b = new RedisPeerStore(other, { maxPeersPerUser: 2, keyPrefix });
        const mem = new MemoryPeerStore({ maxPeersPerUser: 2 });
        let x = 7;
        const rnd = (n: number): number => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return x % n;
        };
        const T = 1_700_000_000;
        for (let k = 0; k < 600; k++) {
          const n = rnd(120);
          const p = announceOf({
            n,
            infoHash: (rnd(24) * 0x9e3779b1).toString(16).padStart(40, '7').slice(0, 40) as InfoHash,
            userId: n % 4,
            left: rnd(3) === 0 ? 0 : 100,
            event: rnd(10) === 0 ? 'stopped' : rnd(10) === 0 ? 'completed' : 'none',
            ip: n % 9 === 0 ? ip6(n) : announceOf({ n }).ip,
            numwant: rnd(30),
            now: T + k,
          });
          const node = k % 2 === 0 ? a : b;
          const got = await node.announce(p);
          const want = mem.announce(p);
          assert.deepEqual(
            [got.isNew, got.refused, got.complete, got.incomplete, got.downloaded, got.peers4.length / 6 + got.peers6.length / 18],
            [want.isNew, want.refused, want.complete, want.incomplete, want.downloaded, want.peers4.length / 6 + want.peers6.length / 18],
            `announce ${k}`,
          );
        }
        assert.deepEqual(await a.stats(), mem.stats());
        assert.deepEqual(await b.stats(), mem.stats());
        const ml: string[] = [];
        const rl: string[] = [];
        mem.forEachSwarm((h, c) => ml.push(`${h}:${c.complete}:${c.incomplete}:${c.downloaded}`));
        await b.forEachSwarm((h, c) => rl.push(`${h}:${c.complete}:${c.incomplete}:${c.downloaded}`));
        assert.deepEqual(rl.sort(), ml.sort());
        await a.checkInvariants();
        // Every master holds some of the keys (swarms and buckets are sharded).
        for (const node of redis.nodes('master')) assert.ok((await countKeys(node, keyPrefix)) > 0, `keys on ${node.options.port}`);
        assert.deepEqual(await b.sweep(T + 300), mem.sweep(T + 300));
        assert.deepEqual(await a.stats(), mem.stats());
        assert.deepEqual(await a.sweep(T + 10_000), mem.sweep(T + 10_000));
        assert.deepEqual(await b.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
        const [ik] = bucketKeys(keyPrefix, 0);
        assert.equal(await redis.zcard(ik), 0, 'index emptied');
      } finally {
        await closeRedis(other);
      }
    });
  });
}
