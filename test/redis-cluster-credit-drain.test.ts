/**
 * Crediting in Redis and the credit drain on a 3-master Redis Cluster (started on loopback as the
 * cluster store test does; skipped without ESSAIM_TEST_REDIS_URL or redis-server / redis-cli):
 * announces on many swarms spread over the masters, two drains running at once meanwhile, pending
 * listings lost (a node killed between its announce and its second call) found again by the
 * reconcile's SCAN of every master; every delta is credited once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { closeRedis, connectRedis } from '../src/shared/redis.js';
import { mergeEntries, unpackEntries, type LedgerBatch, type LedgerEntry } from '../src/shared/ledger-batch.js';
import type { InfoHash } from '../src/shared/types.js';
import { RedisCreditDrain } from '../src/swarm/redis-credit-drain.js';
import { RedisPeerStore, bucketOf, creditKeys, pendingKey } from '../src/swarm/redis-peer-store.js';
import { REDIS_SKIP, countKeys, deleteKeys, randomPrefix, startRedisCluster, testRedisUrl } from '../src/swarm/redis-testing.js';

const started = testRedisUrl() === null ? { skip: REDIS_SKIP } : await startRedisCluster();

describe('Redis credit drain on a Redis Cluster', () => {
  if ('skip' in started) {
    it('needs a Redis Cluster', { skip: started.skip }, () => {});
    return;
  }
  const redis = connectRedis({ url: started.url, cluster: true }) as Cluster;
  const prefix = randomPrefix();
  after(async () => {
    try {
      await deleteKeys(redis, prefix);
      await closeRedis(redis);
    } finally {
      await started.stop();
    }
  });

  it('credits once across masters, with concurrent drains and lost listings', async () => {
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true });
    assert.equal(store.inlineGlobals, false, 'cluster-safe mode');
    const seen = new Set<string>();
    const entries: LedgerEntry[] = [];
    const writer = {
      async write(b: LedgerBatch) {
        if (seen.has(b.id)) return { applied: false };
        seen.add(b.id);
        entries.push(...unpackEntries(b));
        return { applied: true };
      },
      async close() {},
    };
    const d1 = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, nodeId: 'c1', maxSwarms: 9 });
    const d2 = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, nodeId: 'c2', maxSwarms: 13 });
    const S = 60;
    const hexOf = (s: number) => (s * 4 + 1).toString(16).padStart(2, '0').repeat(20);
    const last = new Map<string, number>();
    let want = 0;
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 600; i++) {
      const s = i % S;
      const user = 1 + (i % 4);
      const up = 100 * (Math.floor(i / S) + 1) + s;
      const k = `${user}:${s}`;
      const prev = last.get(k);
      if (prev !== undefined && up >= prev) want += up - prev;
      last.set(k, up);
      work.push(
        store.announce({
          infoHash: hexOf(s) as InfoHash,
          userId: user,
          peerId: Buffer.alloc(20, user),
          ip: Uint8Array.of(10, 0, 0, user),
          port: 6881,
          uploaded: up,
          downloaded: 0,
          left: 0,
          event: 'none',
          numwant: 0,
          wantPeerIds: false,
          now: 1_800_000_000 + i,
          credit: { torrentId: 500 + s, upFactor: 1, downFactor: 1, peerTimeout: 2700 },
        }),
      );
      if (i % 50 === 0) work.push(d1.run(), d2.run());
      if (i % 97 === 0) {
        // A node killed between its announce and its second call: the swarm is not listed.
        await Promise.all(work.splice(0));
        await redis.srem(pendingKey(prefix, bucketOf(hexOf(s))), hexOf(s));
      }
    }
    await Promise.all(work);
    for (let i = 0; i < 50 && (await d1.pending()) > 0; i++) await Promise.all([d1.run(), d2.run()]);
    const r = await d1.reconcile();
    assert.ok(r.listed > 0, `reconcile listed the unlisted swarms (${JSON.stringify(r)})`);
    for (let i = 0; i < 50 && (await d1.pending()) > 0; i++) await d1.run();
    const got = mergeEntries(entries).reduce((a, e) => a + e.rawUploaded, 0);
    assert.equal(got, want, 'every delta credited once');
    assert.deepEqual(await d1.reconcile(), { listed: 0, returned: 0 }, 'nothing left to repair');
    for (let s = 0; s < S; s++) assert.equal(await redis.exists(creditKeys(prefix, hexOf(s))[0]), 0, `swarm ${s}: no credit left`);
    assert.equal(await countKeys(redis, `${prefix}{drain}`), 0, 'no drain records left');
    await store.checkInvariants();
  });
});
