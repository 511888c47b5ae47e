/**
 * RedisPeerStore against a real Redis (ESSAIM_TEST_REDIS_URL; every test skips without it):
 * - the PeerStore contract, in both modes: standalone (global counters inside the announce
 *   script) and cluster-safe (every script on one slot, the bucket updated by a second call),
 *   with the store's invariants checked and its keys deleted when each contract test closes it;
 * - a model-based replay: identical random command sequences against MemoryPeerStore (the model)
 *   and RedisPeerStore; outcomes, counts, selections (sizes and validity, not order), sweep
 *   results, membership and stats must agree after every step;
 * - several stores on one prefix (tracker nodes) share swarms;
 * - every script call of the cluster-safe mode names keys of a single slot (CRC16 as Redis Cluster
 *   computes it);
 * - expiry visits only swarms that have something to expire, in chunks, and repairs orphaned
 *   index entries; peers are stored as bytes; bad input is refused or ignored.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { AnnounceEvent, InfoHash } from '../shared/types.js';
import { announceOf, hash, ip4, ip6, peerStoreContract } from '../../test/peer-store.contract.js';
import { MemoryPeerStore } from './memory-peer-store.js';
import type { AnnounceOutcome, PeerSnapshot, PeerStore, PeerStoreOptions } from './peer-store.js';
import {
  REDIS_BUCKETS,
  RedisPeerStore,
  bucketKeys,
  bucketOf,
  createRedisPeerStore,
  scriptKeys,
  swarmKeys,
  type RedisPeerStoreOptions,
} from './redis-peer-store.js';
import { REDIS_SKIP, contractStore, countKeys, deleteKeys, randomPrefix, testRedisUrl } from './redis-testing.js';

const url = testRedisUrl();
const require = createRequire(import.meta.url);
const keySlot = require('cluster-key-slot') as (key: string) => number;

/** CRC16 (XMODEM) mod 16384 of the hash tag, as Redis Cluster computes slots. */
function slotOf(key: string): number {
  let k = key;
  const s = key.indexOf('{');
  if (s >= 0) {
    const e = key.indexOf('}', s + 1);
    if (e > s + 1) k = key.slice(s + 1, e);
  }
  let crc = 0;
  for (const byte of Buffer.from(k)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

if (url === null) {
  describe('RedisPeerStore', () => {
    it('needs Redis', { skip: REDIS_SKIP }, () => {});
  });
} else {
  const redis = new Redis(url, { lazyConnect: false });
  const prefixes = new Set<string>();
  after(async () => {
    for (const p of prefixes) await deleteKeys(redis, p);
    await redis.quit();
  });

  /** A store on a fresh prefix; close() checks the invariants, then deletes the keys. */
  function make(opts: PeerStoreOptions, extra: Partial<RedisPeerStoreOptions> = {}): PeerStore {
    return contractStore(redis, { ...opts, ...extra }, prefixes);
  }

  peerStoreContract('RedisPeerStore (standalone: one call per announce)', (opts) => make(opts));
  peerStoreContract('RedisPeerStore (cluster-safe: single-slot scripts)', (opts) => make(opts, { inlineGlobals: false }));

  describe('RedisPeerStore specifics', () => {
    let prefix: string;
    const fresh = (extra: Partial<RedisPeerStoreOptions> = {}): RedisPeerStore => {
      prefix = randomPrefix();
      prefixes.add(prefix);
      return new RedisPeerStore(redis, { maxPeersPerUser: 3, keyPrefix: prefix, ...extra });
    };

    it('stores peers as compact bytes, not JSON', async () => {
      const s = fresh();
      await s.announce(announceOf({ n: 1, uploaded: 2 ** 40, downloaded: 7 }));
      await s.announce(announceOf({ n: 2, ip: ip6(2), userId: 9 }));
      const [, p] = swarmKeys(prefix, hash('a'));
      const fields = await redis.hkeysBuffer(p!);
      assert.deepEqual(fields.map((f) => f.length), [24, 24], 'peer key: user id + peer id');
      const v4 = await redis.hgetBuffer(p!, fields.find((f) => f.readUInt32BE(0) === 0)!);
      const v6 = await redis.hgetBuffer(p!, fields.find((f) => f.readUInt32BE(0) === 9)!);
      assert.equal(v4!.length, 27, 'IPv4 record: 21 + 6 bytes');
      assert.equal(v6!.length, 39, 'IPv6 record: 21 + 18 bytes');
      assert.ok(!v4!.includes('{'), 'no JSON');
      assert.deepEqual([...v4!.subarray(21)], [...ip4(1), (10001 >> 8) & 255, 10001 & 255], 'the compact address as handed out');
      const [snap] = (await s.dumpSwarm(hash('a'))).filter((x) => x.userId === 0);
      assert.equal(snap!.uploaded, 2 ** 40);
      assert.equal(snap!.downloaded, 7);
    });

    it('refuses malformed announces and ignores malformed hashes elsewhere', async () => {
      const s = fresh();
      await assert.rejects(s.announce(announceOf({ n: 1, infoHash: 'xyz' as InfoHash })), RangeError);
      await assert.rejects(s.announce(announceOf({ n: 1, infoHash: 'g'.repeat(40) as InfoHash })), RangeError);
      await assert.rejects(s.announce({ ...announceOf({ n: 1 }), peerId: new Uint8Array(19) }), RangeError);
      await assert.rejects(s.announce({ ...announceOf({ n: 1 }), ip: new Uint8Array(5) }), RangeError);
      assert.deepEqual(await s.scrape(['nope' as InfoHash, '{x}' as InfoHash]), [
        { complete: 0, incomplete: 0, downloaded: 0 },
        { complete: 0, incomplete: 0, downloaded: 0 },
      ]);
      await s.dropSwarm('{g00}' as InfoHash);
      assert.equal(await countKeys(redis, prefix), 0, 'nothing was written');
      assert.throws(() => new RedisPeerStore(redis, { maxPeersPerUser: 1, keyPrefix: 'a{b}:' }), TypeError);
    });

    it('accepts an uppercase info hash as the same swarm, listed in lowercase', async () => {
      const s = fresh();
      const up = 'AB'.repeat(20) as InfoHash;
      await s.announce(announceOf({ n: 1, infoHash: up }));
      const o = await s.announce(announceOf({ n: 2, infoHash: up.toLowerCase() as InfoHash }));
      assert.equal(o.incomplete, 2);
      const seen: string[] = [];
      await s.forEachSwarm((h) => seen.push(h));
      assert.deepEqual(seen, ['ab'.repeat(20)]);
      await s.dropSwarm(up);
      assert.equal((await s.stats()).torrents, 0);
    });

    it('several stores on one prefix (tracker nodes) share swarms', async () => {
      const a = fresh();
      const other = new Redis(url);
      try {
        const b = createRedisPeerStore(other, { maxPeersPerUser: 1, keyPrefix: prefix, inlineGlobals: false });
        await a.announce(announceOf({ n: 1, left: 0, userId: 5 }));
        const o = await b.announce(announceOf({ n: 2, userId: 6, wantPeerIds: true }));
        assert.equal(Buffer.from(o.peerIds4!).toString('latin1'), Buffer.from(announceOf({ n: 1 }).peerId).toString('latin1'));
        assert.deepEqual([o.complete, o.incomplete], [1, 1]);
        const back = await a.announce(announceOf({ n: 1, left: 0, userId: 5 }));
        assert.deepEqual([...back.peers4], [...ip4(2), (10002 >> 8) & 255, 10002 & 255], 'node A hands out the peer node B stored');
        // The per-user cap is the store's option, enforced wherever the peer announces.
        assert.equal((await b.announce(announceOf({ n: 3, userId: 5 }))).refused, 'peer-limit');
        assert.deepEqual(await a.stats(), await b.stats());
        assert.deepEqual((await a.stats()).peers, 2);
        assert.deepEqual(await b.scrape([hash('a')]), [{ complete: 1, incomplete: 1, downloaded: 0 }]);
        // A stop through one node, a sweep through the other.
        await b.announce(announceOf({ n: 1, userId: 5, event: 'stopped' }));
        assert.deepEqual(await a.sweep(1_700_000_000 + 1), { expired: 1, swarmsRemoved: 1 });
        assert.equal((await b.stats()).torrents, 0);
        await b.close();
        assert.equal(other.status, 'ready', 'close() leaves a client it does not own open');
      } finally {
        await other.quit();
      }
    });

    it('close() quits a client it owns', async () => {
      const own = new Redis(url);
      const s = createRedisPeerStore(own, { maxPeersPerUser: 1, keyPrefix: randomPrefix(), ownsClient: true });
      await s.stats();
      await s.close();
      await s.close();
      assert.ok(own.status === 'end' || own.status === 'close', `status ${own.status}`);
    });

    it('every script call of the cluster-safe mode names keys of one slot', async () => {
      // The CRC16 here is the one Redis Cluster uses (checked against the client's own).
      for (const k of ['{g00}:i', 'x{abc}y', 'plain', `p:{${'0'.repeat(40)}}:m`]) assert.equal(slotOf(k), keySlot(k), k);
      assert.equal(slotOf('{}{a}'), 13650, 'an empty tag hashes the whole key (CLUSTER KEYSLOT on Redis 7)');
      const s = fresh({ inlineGlobals: false });
      const calls: Array<{ name: string; keys: string[] }> = [];
      const orig = redis.sendCommand.bind(redis);
      redis.sendCommand = ((cmd: { name: string; args: unknown[] }, ...rest: unknown[]) => {
        if (cmd.name === 'evalsha' || cmd.name === 'eval') {
          const n = Number(cmd.args[1]);
          calls.push({ name: cmd.name, keys: cmd.args.slice(2, 2 + n).map(String) });
        }
        return (orig as (...a: unknown[]) => unknown)(cmd, ...rest);
      }) as typeof redis.sendCommand;
      try {
        for (let n = 1; n <= 40; n++) {
          const h = (n.toString(16).padStart(2, '0').repeat(20)) as InfoHash;
          await s.announce(announceOf({ n, infoHash: h, userId: n % 3, left: n % 2 }));
          if (n % 3 === 0) await s.announce(announceOf({ n, infoHash: h, userId: n % 3, event: 'stopped' }));
        }
        await s.sweep(1_700_000_000 + 1);
        await s.dropSwarm(hash('a'));
      } finally {
        redis.sendCommand = orig;
      }
      const kinds = new Set<number>();
      for (const c of calls) {
        assert.ok(c.keys.length > 0, `${c.name} with keys`);
        const slots = new Set(c.keys.map(slotOf));
        assert.equal(slots.size, 1, `one slot for ${c.keys.join(' ')}`);
        assert.ok(c.keys.every((k) => k.startsWith(prefix)), 'prefixed keys');
        kinds.add(c.keys.length);
      }
      assert.deepEqual([...kinds].sort(), [2, 6, 7], 'swarm scripts (6 keys), the announce (7 keys: with the credit hash) and bucket scripts (2 keys) ran');
      assert.ok(calls.length >= 80, `${calls.length} script calls recorded`);
      // And for arbitrary hashes and prefixes, each script's key list maps to one slot.
      fc.assert(
        fc.property(fc.stringMatching(/^[0-9a-f]{40}$/), fc.stringMatching(/^[a-z:_-]{0,12}$/), (hex, p) => {
          for (const [name, keys] of Object.entries(scriptKeys(p, hex, false))) {
            assert.equal(new Set(keys.map(slotOf)).size, 1, `${name} keys of ${hex} on one slot`);
          }
          assert.equal(bucketKeys(p, bucketOf(hex))[0].startsWith(p), true);
        }),
        { numRuns: 300 },
      );
      // The buckets spread over many slots.
      const bslots = new Set([...Array(REDIS_BUCKETS).keys()].map((b) => slotOf(bucketKeys('essaim:', b)[0])));
      assert.equal(bslots.size, REDIS_BUCKETS, 'one slot per bucket');
    });

    it('standalone mode announces in one call; cluster-safe mode adds one only when something changed', async () => {
      for (const inline of [true, false]) {
        const s = fresh({ inlineGlobals: inline });
        await s.announce(announceOf({ n: 1 }));
        const counted: string[] = [];
        const orig = redis.sendCommand.bind(redis);
        redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
          counted.push(cmd.name);
          return (orig as (...a: unknown[]) => unknown)(cmd, ...rest);
        }) as typeof redis.sendCommand;
        try {
          await s.announce(announceOf({ n: 1, uploaded: 10 })); // a plain re-announce
          const plain = counted.length;
          counted.length = 0;
          await s.announce(announceOf({ n: 2 })); // a join
          const join = counted.length;
          assert.equal(plain, 1, `a re-announce is one call (inline ${inline})`);
          assert.equal(join, inline ? 1 : 2, `a join (inline ${inline})`);
        } finally {
          redis.sendCommand = orig;
        }
      }
    });

    it('sweep visits only swarms with something to expire, in chunks', async () => {
      const s = fresh();
      const T = 1_700_000_000;
      // A big swarm, all old: more than one sweep chunk (1000).
      const big = hash('1');
      const pl = [];
      for (let n = 0; n < 2500; n++) pl.push(s.announce(announceOf({ n, infoHash: big, now: T, numwant: 0 })));
      await Promise.all(pl);
      for (let k = 0; k < 30; k++) await s.announce(announceOf({ n: k, infoHash: (k + 0x20).toString(16).repeat(20) as InfoHash, now: T + 500 }));
      const visited: string[] = [];
      const orig = redis.sendCommand.bind(redis);
      redis.sendCommand = ((cmd: { name: string; args: unknown[] }, ...rest: unknown[]) => {
        if ((cmd.name === 'evalsha' || cmd.name === 'eval') && Number(cmd.args[1]) === 6) visited.push(String(cmd.args[2]));
        return (orig as (...a: unknown[]) => unknown)(cmd, ...rest);
      }) as typeof redis.sendCommand;
      try {
        assert.deepEqual(await s.sweep(T + 100), { expired: 2500, swarmsRemoved: 1 });
      } finally {
        redis.sendCommand = orig;
      }
      const swarms = new Set(visited);
      assert.deepEqual([...swarms], [swarmKeys(prefix, big)[0]], 'only the swarm with expired peers');
      assert.equal(visited.length, 3 + 1, 'three sweep chunks, then the removal of the empty swarm');
      assert.deepEqual(await s.stats(), { peers: 30, seeders: 0, leechers: 30, torrents: 30, ipv4: 30, ipv6: 0 });
      await s.checkInvariants();
      assert.deepEqual(await s.sweep(T + 10_000), { expired: 30, swarmsRemoved: 30 });
      // Nothing left but the bucket counters (zeros).
      const left = await countKeys(redis, prefix);
      assert.ok(left <= REDIS_BUCKETS, `${left} keys left`);
    });

    it('repairs orphaned index entries and lost ones', async () => {
      const s = fresh({ inlineGlobals: false, reindexPeriod: 100 });
      const T = 1_700_000_000;
      await s.announce(announceOf({ n: 1, now: T + 10 }));
      await s.announce(announceOf({ n: 2, now: T, infoHash: hash('b') }));
      // A swarm deleted behind the store's back (a node died mid-way): its entry goes at the next sweep.
      await redis.del(...swarmKeys(prefix, hash('b')));
      const seen: string[] = [];
      await s.forEachSwarm((h) => seen.push(h));
      assert.deepEqual(seen, [hash('a')], 'full scrape skips the orphan');
      assert.deepEqual(await s.sweep(T + 1), { expired: 0, swarmsRemoved: 0 });
      const [ib] = bucketKeys(prefix, bucketOf(hash('b')));
      assert.equal(await redis.zscore(ib, hash('b')), null, 'orphan entry removed');
      // An index entry lost: the next announce after the re-assertion period puts it back.
      const [ia] = bucketKeys(prefix, bucketOf(hash('a')));
      await redis.zrem(ia, hash('a'));
      await s.announce(announceOf({ n: 1, now: T + 60 }));
      assert.equal(await redis.zscore(ia, hash('a')), null, 'not before the period');
      await s.announce(announceOf({ n: 3, now: T + 70 }));
      await s.announce(announceOf({ n: 1, now: T + 110 }));
      assert.equal(await redis.zscore(ia, hash('a')), String(T + 70), 'back, scored by its oldest peer');
      // Counters rebuilt from the swarms.
      const [, ca] = bucketKeys(prefix, bucketOf(hash('a')));
      await redis.hset(ca, 'n', 99);
      const st = await s.recountStats();
      assert.deepEqual(st, { peers: 2, seeders: 0, leechers: 2, torrents: 1, ipv4: 2, ipv6: 0 });
      await s.checkInvariants();
    });

    it('stays consistent under concurrent announces, stops, sweeps and drops from two nodes', async () => {
      for (const inline of [true, false]) {
        const a = fresh({ inlineGlobals: inline, maxPeersPerUser: 2 });
        const other: Redis = new Redis(url);
        try {
          const b: RedisPeerStore = new RedisPeerStore(other, { maxPeersPerUser: 2, keyPrefix: prefix, inlineGlobals: inline });
          let x = inline ? 11 : 12;
          const rnd = (n: number): number => {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            return (x >>> 8) % n;
          };
          const T = 1_700_000_000;
          const ops: Array<Promise<unknown>> = [];
          let sweeps = 0;
          for (let k = 0; k < 3000; k++) {
            const node = rnd(2) === 0 ? a : b;
            const r = rnd(100);
            const h = hash('0123456789abcdef'[rnd(6)]!);
            const now = T + Math.floor(k / 20);
            if (r < 3) {
              sweeps++;
              ops.push(node.sweep(now - rnd(60)));
            } else if (r < 4) ops.push(node.dropSwarm(h));
            else {
              const n = rnd(40);
              ops.push(node.announce(announceOf({ n, infoHash: h, userId: n % 5, left: rnd(3) === 0 ? 0 : 5, event: rnd(6) === 0 ? 'stopped' : 'none', ip: n % 7 === 0 ? ip6(n) : ip4(n), numwant: rnd(20), now })));
            }
            if (ops.length >= 64) await Promise.all(ops.splice(0));
          }
          await Promise.all(ops);
          assert.ok(sweeps > 50, `${sweeps} concurrent sweeps`);
          // Up to 64 operations in flight span a few seconds of `now`: that much skew.
          await a.checkInvariants({ skew: 5 });
          const before = await a.stats();
          assert.deepEqual(await b.recountStats(), before, `counters exact without a crash (inline ${inline})`);
          await b.sweep(T + 10_000);
          assert.deepEqual(await a.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
          await a.checkInvariants();
        } finally {
          await other.quit();
        }
      }
    });

    it('checkInvariants finds a swarm missing from the index, and broken counts', async () => {
      const s = fresh({ inlineGlobals: false });
      await s.announce(announceOf({ n: 1 }));
      await s.announce(announceOf({ n: 2, left: 0 }));
      await s.checkInvariants();
      const [ik, ck] = bucketKeys(prefix, bucketOf(hash('a')));
      await redis.zrem(ik, hash('a'));
      await assert.rejects(s.checkInvariants(), /is not indexed/);
      await redis.zadd(ik, 0, hash('a'));
      await s.checkInvariants();
      await redis.hincrby(ck, 's', 1);
      await assert.rejects(s.checkInvariants(), /counters/);
      await s.recountStats();
      await redis.hincrby(swarmKeys(prefix, hash('a'))[0]!, 'S', 1);
      await assert.rejects(s.checkInvariants(), /zsets/);
    });

    it('hands out many peers (numwant above one HMGET chunk) and survives counters above 2^32', async () => {
      const s = fresh();
      const pl = [];
      for (let n = 1; n <= 700; n++) pl.push(s.announce(announceOf({ n, numwant: 0, uploaded: 2 ** 33 + n, ip: n % 5 === 0 ? ip6(n) : ip4(n) })));
      await Promise.all(pl);
      const o = await s.announce(announceOf({ n: 1, numwant: 1000, uploaded: 2 ** 50 + 1 }));
      assert.equal(o.peers4.length / 6 + o.peers6.length / 18, 699);
      assert.equal(o.peers6.length / 18, 140);
      assert.equal(o.prevUploaded, 2 ** 33 + 1);
      assert.equal((await s.announce(announceOf({ n: 1, numwant: 0 }))).prevUploaded, 2 ** 50 + 1);
    });
  });

  // -----------------------------------------------------------------------------------------------
  // Replay against the in-memory store

  type Cmd =
    | {
        kind: 'announce';
        h: number;
        user: number;
        p: number;
        v: number;
        left: number;
        event: AnnounceEvent;
        up: number;
        down: number;
        numwant: number;
        ids: boolean;
        dt: number;
      }
    | { kind: 'sweep'; age: number }
    | { kind: 'drop'; h: number };

  const hashOf = (h: number): InfoHash => (h * 0x1234567).toString(16).padStart(40, '0') as InfoHash;
  const pidOf = (p: number): Uint8Array => {
    const b = new Uint8Array(20);
    b.set(new TextEncoder().encode('-RB0001-'));
    b[18] = p >>> 8;
    b[19] = p & 255;
    return b;
  };
  /** Even variants IPv4, odd IPv6; the bytes encode (v, user, p). */
  const ipOf = (v: number, user: number, p: number): Uint8Array => {
    if (v % 2 === 0) return Uint8Array.of(10 + v, user, p >>> 8, p & 255);
    const b = new Uint8Array(16);
    b[0] = 0xfd;
    b[1] = v;
    b[2] = user;
    b[14] = p >>> 8;
    b[15] = p & 255;
    return b;
  };
  const portOf = (v: number, p: number): number => 6000 + v * 1000 + (p % 1000);

  type Snap = PeerSnapshot;
  const line = (p: Snap): string =>
    `${p.userId}:${Buffer.from(p.peerId).toString('hex')}:${p.seeder}:${p.completed}:${p.uploaded}:${p.downloaded}:${p.lastAnnounce}:${[...p.ip].join('.')}:${p.port}`;

  /** The selected peers of an outcome, checked against the swarm as it is after the announce. */
  function selection(o: AnnounceOutcome, swarm: Snap[], self: Snap | undefined, ids: boolean): Snap[] {
    const byAddr = new Map(swarm.map((p) => [`${Buffer.from(p.ip).toString('hex')}:${p.port}`, p]));
    const got: Snap[] = [];
    const read = (b: Uint8Array, len: number, idList: Uint8Array | undefined): void => {
      for (let k = 0; k * (len + 2) < b.length; k++) {
        const o2 = k * (len + 2);
        const a = `${Buffer.from(b.subarray(o2, o2 + len)).toString('hex')}:${(b[o2 + len]! << 8) | b[o2 + len + 1]!}`;
        const peer = byAddr.get(a);
        assert.ok(peer !== undefined, `selected ${a} is a current peer of the swarm`);
        if (ids) assert.deepEqual([...idList!.subarray(k * 20, k * 20 + 20)], [...peer.peerId], 'peer ids in address order');
        got.push(peer);
      }
    };
    if (ids && self !== undefined) {
      assert.equal(o.peerIds4?.length, (o.peers4.length / 6) * 20, 'ids4');
      assert.equal(o.peerIds6?.length, (o.peers6.length / 18) * 20, 'ids6');
    } else {
      assert.equal(o.peerIds4, undefined);
      assert.equal(o.peerIds6, undefined);
    }
    read(o.peers4, 4, o.peerIds4);
    read(o.peers6, 16, o.peerIds6);
    assert.equal(new Set(got).size, got.length, 'no duplicates');
    for (const x of got) {
      assert.ok(x !== self, 'never itself');
      if (self?.seeder) assert.equal(x.seeder, false, 'a seeder gets leechers only');
    }
    return got;
  }

  async function replay(cmds: Cmd[], maxPerUser: number, hashes: number, inlineGlobals: boolean): Promise<void> {
    const keyPrefix = randomPrefix();
    prefixes.add(keyPrefix);
    const mem = new MemoryPeerStore({ maxPeersPerUser: maxPerUser, initialPeerCapacity: 2, initialSwarmCapacity: 2 });
    const rs = new RedisPeerStore(redis, { maxPeersPerUser: maxPerUser, keyPrefix, inlineGlobals });
    try {
      let now = 1_700_000_000;
      const all = [...Array(hashes).keys()].map(hashOf);
      for (const [step, c] of cmds.entries()) {
        const at = `step ${step} ${JSON.stringify(c)}`;
        if (c.kind === 'announce') {
          now += c.dt;
          const a = {
            infoHash: hashOf(c.h),
            userId: c.user,
            peerId: pidOf(c.p),
            ip: ipOf(c.v, c.user, c.p),
            port: portOf(c.v, c.p),
            uploaded: c.up,
            downloaded: c.down,
            left: c.left,
            event: c.event,
            numwant: c.numwant,
            wantPeerIds: c.ids,
            now,
          };
          const mo = mem.announce(a);
          const ro = await rs.announce(a);
          const pick = (o: AnnounceOutcome) => [o.isNew, o.prevUploaded, o.prevDownloaded, o.elapsed, o.wasSeeder, o.refused, o.complete, o.incomplete, o.downloaded];
          assert.deepEqual(pick(ro), pick(mo), `outcome, ${at}`);
          assert.deepEqual([ro.peerIds4 === undefined, ro.peerIds6 === undefined], [mo.peerIds4 === undefined, mo.peerIds6 === undefined], `peer ids given, ${at}`);
          const swarm = mem.dumpSwarm(a.infoHash);
          const self = swarm.find((p) => p.userId === c.user && Buffer.from(p.peerId).equals(Buffer.from(a.peerId)));
          const ms = selection(mo, swarm, self, c.ids);
          const rsel = selection(ro, swarm, self, c.ids);
          assert.equal(rsel.length, ms.length, `as many peers, ${at}`);
          assert.equal(rsel.filter((x) => x.seeder).length, ms.filter((x) => x.seeder).length, `as many seeders among them, ${at}`);
        } else if (c.kind === 'sweep') {
          const olderThan = now - c.age;
          assert.deepEqual(await rs.sweep(olderThan), mem.sweep(olderThan), `sweep, ${at}`);
        } else {
          mem.dropSwarm(hashOf(c.h));
          await rs.dropSwarm(hashOf(c.h));
        }
        assert.deepEqual(await rs.scrape(all), mem.scrape(all), `scrape, ${at}`);
        assert.deepEqual(await rs.stats(), mem.stats(), `stats, ${at}`);
        if (c.kind !== 'announce' || step % 5 === 0 || step === cmds.length - 1) {
          for (const h of all) {
            const want = mem.dumpSwarm(h).map(line).sort();
            const got = (await rs.dumpSwarm(h)).map(line).sort();
            assert.deepEqual(got, want, `membership of ${h}, ${at}`);
          }
          const ml: string[] = [];
          const rl: string[] = [];
          mem.forEachSwarm((h, x) => ml.push(`${h}:${x.complete}:${x.incomplete}:${x.downloaded}`));
          await rs.forEachSwarm((h, x) => rl.push(`${h}:${x.complete}:${x.incomplete}:${x.downloaded}`));
          assert.deepEqual(rl.sort(), ml.sort(), `forEachSwarm, ${at}`);
        }
      }
      await rs.checkInvariants();
    } finally {
      await rs.close();
      await deleteKeys(redis, keyPrefix);
      prefixes.delete(keyPrefix);
    }
  }

  function cmdArb(hashes: number, users: number, pids: number, maxAge: number): fc.Arbitrary<Cmd> {
    const announce = fc.record({
      kind: fc.constant('announce' as const),
      h: fc.nat(hashes - 1),
      user: fc.nat(users - 1),
      p: fc.nat(pids - 1),
      v: fc.nat(3),
      left: fc.constantFrom(0, 0, 1, 1000),
      event: fc.constantFrom<AnnounceEvent>('none', 'none', 'none', 'started', 'completed', 'stopped', 'paused'),
      up: fc.oneof(fc.nat(1000), fc.constant(2 ** 40 + 3)),
      down: fc.nat(1000),
      numwant: fc.oneof(fc.nat(4), fc.nat(60)),
      ids: fc.boolean(),
      dt: fc.oneof(fc.constant(0), fc.nat(maxAge)),
    });
    return fc.oneof(
      { arbitrary: announce, weight: 20 },
      { arbitrary: fc.record({ kind: fc.constant('sweep' as const), age: fc.nat(maxAge * 4) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('drop' as const), h: fc.nat(hashes - 1) }), weight: 1 },
    );
  }

  describe('RedisPeerStore against MemoryPeerStore (replay)', () => {
    before(async () => {
      await redis.ping();
    });
    for (const inline of [true, false]) {
      const mode = inline ? 'standalone' : 'cluster-safe';
      it(`small swarms, heavy collisions, per-user cap 2 (${mode})`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(cmdArb(3, 4, 6, 100), { maxLength: 80, size: 'max' }), (cmds) => replay(cmds, 2, 3, inline)),
          { numRuns: 25, interruptAfterTimeLimit: 60_000 },
        );
      });
      it(`more swarms and peers (${mode})`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(cmdArb(12, 6, 80, 60), { minLength: 100, maxLength: 250, size: 'max' }), (cmds) => replay(cmds, 3, 12, inline)),
          { numRuns: 5, interruptAfterTimeLimit: 60_000 },
        );
      });
      it(`public mode, user 0 only (${mode})`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(cmdArb(3, 1, 60, 100), { maxLength: 120, size: 'max' }), (cmds) => replay(cmds, 1, 3, inline)),
          { numRuns: 8, interruptAfterTimeLimit: 60_000 },
        );
      });
    }
  });
}
