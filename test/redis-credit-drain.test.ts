/**
 * Traffic credited in Redis and drained to the database exactly once (#6). Needs
 * ESSAIM_TEST_REDIS_URL (skipped without it); the database passes run on every dialect of
 * forEachDialect (PostgreSQL with ESSAIM_TEST_PG_URL).
 *
 * - Model: identical random announce sequences through TrackerService + MemoryPeerStore + Ledger
 *   and through TrackerService + RedisPeerStore (crediting in the announce script) + the drain
 *   give the same per-(member, torrent) totals, field by field.
 * - Crashes: a drain that throws after each of its steps, then a later drain: the database totals
 *   are exact and nothing is left in Redis.
 * - Concurrent drains, a drain presumed dead that wakes up, unlisted and orphaned credit
 *   (reconcile), sweep and dropSwarm keeping undrained credit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { AnnounceRequest } from '../src/protocol/types.js';
import { ManualClock } from '../src/shared/clock.js';
import { mergeEntries, unpackEntries, type LedgerBatch, type LedgerEntry } from '../src/shared/ledger-batch.js';
import type { InfoHash } from '../src/shared/types.js';
import { directLedgerWriter, type LedgerWriter } from '../src/db/ledger-writer.js';
import { forEachDialect, type TestDatabase } from '../src/db/test-databases.js';
import { createUser, getUserTraffic } from '../src/db/user.repository.js';
import { registerTorrent } from '../src/db/torrent.repository.js';
import { AccessCache } from '../src/swarm/access-cache.js';
import { Ledger } from '../src/swarm/ledger.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import type { PeerStore } from '../src/swarm/peer-store.js';
import { RedisCreditDrain, type DrainStep } from '../src/swarm/redis-credit-drain.js';
import { RedisPeerStore, bucketOf, creditKeys, pendingKey } from '../src/swarm/redis-peer-store.js';
import { REDIS_SKIP, countKeys, deleteKeys, randomPrefix, testRedisUrl } from '../src/swarm/redis-testing.js';
import { TrackerService, type RestoredBaseline, type TrackerRules } from '../src/swarm/tracker-service.js';

const url = testRedisUrl();

const rules: TrackerRules = {
  mode: 'private',
  interval: 1800,
  intervalJitter: 0,
  minInterval: 300,
  numwantDefault: 50,
  numwantMax: 200,
  peerTimeout: 2700,
  maxPeersPerUser: 2,
  fullScrape: true,
  unregisteredReasonTtl: 86400,
};

function req(p: Partial<AnnounceRequest>): AnnounceRequest {
  return {
    kind: 'announce',
    infoHash: 'a'.repeat(40) as InfoHash,
    peerId: Buffer.alloc(20),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'none',
    compact: true,
    noPeerId: false,
    numwant: 5,
    key: null,
    trackerId: null,
    ip: null,
    ...p,
  };
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  users: Array<{ id: number; passkey: string }>;
  torrents: Array<{ infoHash: string; torrentId: number; up: number; down: number; until: number | null }>;
}

function accessOf(w: World): AccessCache {
  const a = new AccessCache();
  a.replaceAll({
    users: w.users.map((u) => ({ passkey: u.passkey, id: u.id, enabled: true, disabledReason: null })),
    torrents: w.torrents.map((t) => ({
      infoHash: t.infoHash,
      torrentId: t.torrentId,
      status: 'active' as const,
      deletedReason: null,
      deletedAt: null,
      uploadFactor: t.up,
      downloadFactor: t.down,
      factorsUntil: t.until,
    })),
    rules: [],
  });
  return a;
}

/** A writer that keeps the entries of every batch (by id, once) without a database. */
function captureWriter(): LedgerWriter & { entries: LedgerEntry[]; ids: string[] } {
  const seen = new Set<string>();
  const entries: LedgerEntry[] = [];
  const ids: string[] = [];
  return {
    entries,
    ids,
    async write(b: LedgerBatch) {
      if (seen.has(b.id)) return { applied: false };
      seen.add(b.id);
      ids.push(b.id);
      entries.push(...unpackEntries(b));
      return { applied: true };
    },
    async close() {},
  };
}

/** One step of a random run, played identically on both sides. */
interface Step {
  kind: 'announce' | 'sweep' | 'drain';
  advance: number;
  user: number;
  torrent: number;
  peer: number;
  event: AnnounceRequest['event'];
  up: number;
  down: number;
  left: number;
}

function randomRun(seed: number, n: number, w: World): { steps: Step[]; restored: RestoredBaseline[] } {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const counters = new Map<string, [number, number]>();
  const steps: Step[] = [];
  const restored: RestoredBaseline[] = [];
  // Restored baselines for some peers (from "an earlier run").
  for (const u of w.users) {
    for (const t of w.torrents) {
      for (let p = 0; p < 3; p++) {
        if (r() < 0.3) {
          const up = Math.floor(r() * 5000);
          const down = Math.floor(r() * 5000);
          restored.push({ userId: u.id, torrentId: t.torrentId, peerId: peerHex(u.id, p), uploaded: up, downloaded: down });
          counters.set(`${u.id}:${t.torrentId}:${p}`, [up, down]);
        }
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const x = r();
    const advance = x < 0.1 ? 0 : x < 0.9 ? Math.floor(r() * 2000) : 2700 + Math.floor(r() * 3000);
    if (r() < 0.03) {
      steps.push({ kind: 'sweep', advance, user: 0, torrent: 0, peer: 0, event: 'none', up: 0, down: 0, left: 0 });
      continue;
    }
    if (r() < 0.05) {
      steps.push({ kind: 'drain', advance, user: 0, torrent: 0, peer: 0, event: 'none', up: 0, down: 0, left: 0 });
      continue;
    }
    const user = pick(w.users).id;
    const torrent = pick(w.torrents).torrentId;
    const peer = Math.floor(r() * 3);
    const k = `${user}:${torrent}:${peer}`;
    let [up, down] = counters.get(k) ?? [0, 0];
    const y = r();
    const event: AnnounceRequest['event'] = y < 0.15 ? 'started' : y < 0.25 ? 'completed' : y < 0.35 ? 'stopped' : 'none';
    if (r() < 0.08) {
      // Counters gone backwards (the client restarted).
      up = Math.floor(up * r() * 0.5);
      down = Math.floor(down * r() * 0.5);
    } else {
      // Sometimes odd amounts, so that factors of 0.5 round halves.
      up += r() < 0.2 ? 0 : Math.floor(r() * 1e9) + (r() < 0.5 ? 1 : 0);
      down += r() < 0.3 ? 0 : Math.floor(r() * 1e9) + (r() < 0.5 ? 1 : 0);
    }
    if (event === 'started' && r() < 0.5) {
      up = Math.floor(r() * 100);
      down = Math.floor(r() * 100);
    }
    counters.set(k, [up, down]);
    const left = event === 'completed' || r() < 0.4 ? 0 : Math.floor(r() * 1e6) + 1;
    steps.push({ kind: 'announce', advance, user, torrent, peer, event, up, down, left });
  }
  return { steps, restored };
}

function peerHex(user: number, p: number): string {
  return Buffer.from(`-TR3000-u${user.toString().padStart(4, '0')}p${p.toString().padStart(6, '0')}`).toString('hex');
}

const WORLD: World = {
  users: [
    { id: 1, passkey: '1'.repeat(32) },
    { id: 2, passkey: '2'.repeat(32) },
    { id: 7, passkey: '7'.repeat(32) },
  ],
  torrents: [
    { infoHash: '01'.repeat(20), torrentId: 11, up: 1, down: 1, until: null },
    { infoHash: '82'.repeat(20), torrentId: 12, up: 0.5, down: 0, until: null },
    { infoHash: 'c3'.repeat(20), torrentId: 13, up: 2, down: 0.5, until: 1_800_050_000 },
    // Two swarms of one torrent (v1 and v2 hashes): their entries merge in one batch.
    { infoHash: 'e4'.repeat(20), torrentId: 13, up: 2, down: 0.5, until: 1_800_050_000 },
  ],
};

async function play(
  steps: readonly Step[],
  restored: readonly RestoredBaseline[],
  store: PeerStore,
  drain: () => Promise<void>,
): Promise<Ledger> {
  const clock = new ManualClock(1_800_000_000_000);
  const ledger = new Ledger('model');
  const service = new TrackerService({ ...rules, maxPeersPerUser: 2 }, accessOf(WORLD), store, ledger, clock, () => 0.5);
  service.restoreBaselines(restored);
  for (const s of steps) {
    clock.advance(s.advance * 1000);
    const now = Math.floor(clock.nowMs() / 1000);
    if (s.kind === 'sweep') await store.sweep(now - rules.peerTimeout);
    else if (s.kind === 'drain') await drain();
    else {
      const t = WORLD.torrents.filter((x) => x.torrentId === s.torrent);
      const infoHash = t[(s.peer + s.user) % t.length]!.infoHash as InfoHash;
      const u = WORLD.users.find((x) => x.id === s.user)!;
      await service.announce(
        req({ infoHash, peerId: Buffer.from(peerHex(s.user, s.peer), 'hex'), uploaded: s.up, downloaded: s.down, left: s.left, event: s.event }),
        u.passkey,
        Uint8Array.of(10, 0, s.user, s.peer + 1),
      );
    }
  }
  return ledger;
}

describe('Redis credit drain', () => {
  if (url === null) {
    it('needs Redis', { skip: REDIS_SKIP }, () => {});
    return;
  }
  const redis = new Redis(url);
  const prefixes: string[] = [];
  const fresh = (): string => {
    const p = randomPrefix();
    prefixes.push(p);
    return p;
  };
  after(async () => {
    for (const p of prefixes) await deleteKeys(redis, p);
    await redis.quit();
  });

  for (const inline of [true, false]) {
    it(`credits in the announce script exactly as TrackerService.account() does (${inline ? 'standalone' : 'cluster-safe'} mode)`, async () => {
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const { steps, restored } = randomRun(seed * 7919 + (inline ? 0 : 1), 400, WORLD);
        const memLedger = await play(steps, restored, new MemoryPeerStore({ maxPeersPerUser: 2 }), async () => {});
        const memBatch = memLedger.take();
        const want = mergeEntries(memBatch ? unpackEntries(memBatch) : []);

        const prefix = fresh();
        const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, inlineGlobals: inline, creditInStore: true });
        const writer = captureWriter();
        const drain = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, nodeId: `model${seed}` });
        const redisLedger = await play(steps, restored, store, async () => void (await drain.run()));
        assert.equal(redisLedger.take(), null, 'nothing credited in the tracker ledger when the store credits');
        for (let i = 0; i < 3 && (await drain.pending()) > 0; i++) await drain.run();
        const got = mergeEntries(writer.entries);
        assert.ok(want.length > 5, `seed ${seed}: the run credits several (member, torrent) pairs (${want.length})`);
        assert.deepEqual(got, want, `seed ${seed}: the same per-(member, torrent) totals`);
        assert.ok(
          want.some((e) => e.completions > 0) && want.some((e) => e.seedTime > 0) && want.some((e) => e.leechTime > 0),
          `seed ${seed}: completions, seed and leech time covered`,
        );
        assert.equal(await drain.pending(), 0, 'nothing pending');
        assert.deepEqual(await drain.openBatches(), [], 'no batch left open');
        await store.checkInvariants({ skew: 0 });
      }
    });
  }

  it('rounds credited bytes as Math.round, halves up, and caps time at the peer timeout', async () => {
    const prefix = fresh();
    const world: World = { users: [{ id: 5, passkey: '5'.repeat(32) }], torrents: [{ infoHash: '55'.repeat(20), torrentId: 3, up: 0.5, down: 1.5, until: null }] };
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true });
    const writer = captureWriter();
    const drain = new RedisCreditDrain(redis, { keyPrefix: prefix, writer });
    const clock = new ManualClock(1_800_000_000_000);
    const service = new TrackerService(rules, accessOf(world), store, new Ledger(), clock);
    const pid = Buffer.from('-TR3000-roundround01');
    const a = (p: Partial<AnnounceRequest>) => service.announce(req({ infoHash: '55'.repeat(20) as InfoHash, peerId: pid, left: 10, ...p }), '5'.repeat(32), Uint8Array.of(1, 2, 3, 4));
    const r1 = await a({ event: 'started' });
    assert.ok(r1.ok && r1.outcome.credited === true, 'credited by the store');
    clock.advance(10_000_000); // far beyond the peer timeout: leech time capped
    await a({ uploaded: 3, downloaded: 3 }); // 1.5 -> 2 and 4.5 -> 5
    clock.advance(1000);
    await a({ uploaded: 4, downloaded: 4 }); // +1: 0.5 -> 1 and 1.5 -> 2
    await drain.run();
    const [e] = mergeEntries(writer.entries);
    assert.equal(e!.uploaded, 2 + 1, 'halves rounded up as Math.round');
    assert.equal(e!.downloaded, 5 + 2, 'download factor 1.5 rounded');
    assert.equal(e!.rawUploaded, 4, 'raw upload');
    assert.equal(e!.leechTime, 2700 + 1, 'leech time capped at the peer timeout');
    assert.equal(e!.announces, 3, 'three announces');
  });

  it('keeps undrained credit through sweep and dropSwarm, and credits a stop before removing the peer', async () => {
    const prefix = fresh();
    const world: World = { users: [{ id: 5, passkey: '5'.repeat(32) }], torrents: [{ infoHash: '66'.repeat(20), torrentId: 3, up: 1, down: 1, until: null }] };
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true });
    const writer = captureWriter();
    const drain = new RedisCreditDrain(redis, { keyPrefix: prefix, writer });
    const clock = new ManualClock(1_800_000_000_000);
    const service = new TrackerService(rules, accessOf(world), store, new Ledger(), clock);
    const pid = Buffer.from('-TR3000-stopstopst01');
    const a = (p: Partial<AnnounceRequest>) => service.announce(req({ infoHash: '66'.repeat(20) as InfoHash, peerId: pid, ...p }), '5'.repeat(32), Uint8Array.of(1, 2, 3, 4));
    await a({ event: 'started' });
    clock.advance(100_000);
    await a({ event: 'stopped', uploaded: 1000 });
    assert.equal((await store.scrape(['66'.repeat(20) as InfoHash]))[0]!.complete, 0, 'the stopped peer is gone');
    await store.sweep(Math.floor(clock.nowMs() / 1000) + 10);
    await store.dropSwarm('66'.repeat(20) as InfoHash);
    assert.equal(await redis.exists(creditKeys(prefix, '66'.repeat(20))[0]), 1, 'the credit hash survives sweep and dropSwarm');
    await drain.run();
    const [e] = mergeEntries(writer.entries);
    assert.equal(e!.uploaded, 1000, 'the stop was credited');
    assert.equal(e!.seedTime, 100, 'as a seeder');
    assert.equal(await countKeys(redis, `${prefix}{${'66'.repeat(20)}}`), 0, 'nothing of the swarm left in Redis');
    assert.equal(await countKeys(redis, `${prefix}{drain}`), 0, 'no drain records left');
  });

  it('does not credit refused announces, user 0 (public mode), or a store without creditInStore', async () => {
    const prefix = fresh();
    const plain = new RedisPeerStore(redis, { maxPeersPerUser: 1, keyPrefix: prefix });
    assert.equal(plain.creditsInStore, false, 'off by default');
    const base = { infoHash: '77'.repeat(20) as InfoHash, ip: Uint8Array.of(1, 1, 1, 1), port: 1, uploaded: 5, downloaded: 5, left: 0, event: 'none' as const, numwant: 0, wantPeerIds: false, now: 1_800_000_000 };
    const credit = { torrentId: 1, upFactor: 1, downFactor: 1, peerTimeout: 100 };
    const o = await plain.announce({ ...base, userId: 3, peerId: Buffer.alloc(20, 1), credit });
    assert.equal(o.credited, undefined, 'not credited without creditInStore');
    const s = new RedisPeerStore(redis, { maxPeersPerUser: 1, keyPrefix: prefix, creditInStore: true });
    assert.equal((await s.announce({ ...base, userId: 0, peerId: Buffer.alloc(20, 2), credit })).credited, undefined, 'user 0 is never credited');
    const refused = await s.announce({ ...base, userId: 3, peerId: Buffer.alloc(20, 3), credit });
    assert.equal(refused.refused, 'peer-limit', 'over the cap');
    assert.equal(refused.credited, undefined, 'a refused announce is not credited');
    await assert.rejects(
      s.announce({ ...base, userId: 4, peerId: Buffer.alloc(20, 4), credit: { ...credit, upFactor: Number.NaN } }),
      RangeError,
      'a non-finite factor is refused before Redis',
    );
    assert.equal(await redis.exists(creditKeys(prefix, '77'.repeat(20))[0]), 0, 'no credit hash');
  });

  it('two drains at once never apply a credit twice', async () => {
    const prefix = fresh();
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true, inlineGlobals: false });
    const writer = captureWriter();
    const d1 = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, nodeId: 'd1', maxSwarms: 7 });
    const other = new Redis(url);
    try {
      const d2 = new RedisCreditDrain(other, { keyPrefix: prefix, writer, nodeId: 'd2', maxSwarms: 5 });
      let sent = 0;
      const credit = { torrentId: 1, upFactor: 1, downFactor: 1, peerTimeout: 100 };
      const announces: Array<Promise<unknown>> = [];
      const drains: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) {
        const hex = (i % 40).toString(16).padStart(2, '0').repeat(20);
        announces.push(
          store.announce({ infoHash: hex as InfoHash, userId: 1 + (i % 3), peerId: Buffer.alloc(20, 1), ip: Uint8Array.of(1, 1, 1, 1), port: 1, uploaded: 10 * (Math.floor(i / 40) + 1), downloaded: 0, left: 0, event: 'none', numwant: 0, wantPeerIds: false, now: 1_800_000_000 + i, credit: { ...credit, torrentId: i % 40 } }),
        );
        if (i % 20 === 0) drains.push(d1.run(), d2.run());
      }
      await Promise.all(announces);
      await Promise.all(drains);
      for (let i = 0; i < 50 && (await d1.pending()) > 0; i++) await Promise.all([d1.run(), d2.run()]);
      for (const e of mergeEntries(writer.entries)) sent += e.rawUploaded;
      // Each (user, torrent) peer: counters 10, 20, ... (new peer without `started`: its first
      // announce credits 0). 300 announces over 40 swarms and 3 users (i % 3, i % 40 spread).
      let want = 0;
      const last = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const k = `${1 + (i % 3)}:${i % 40}`;
        const up = 10 * (Math.floor(i / 40) + 1);
        const prev = last.get(k);
        if (prev !== undefined && up >= prev) want += up - prev;
        last.set(k, up);
      }
      assert.equal(sent, want, 'every delta credited once');
      assert.equal(new Set(writer.ids).size, writer.ids.length, 'batch ids unique');
      assert.deepEqual(await d1.openBatches(), [], 'no open batch');
    } finally {
      await other.quit();
    }
  });

  it('reconcile lists unlisted credit and returns orphaned in-flight credit', async () => {
    const prefix = fresh();
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true, inlineGlobals: false });
    const writer = captureWriter();
    const drain = new RedisCreditDrain(redis, { keyPrefix: prefix, writer });
    const hex = '9a'.repeat(20);
    const base = { infoHash: hex as InfoHash, userId: 4, peerId: Buffer.alloc(20, 4), ip: Uint8Array.of(1, 1, 1, 1), port: 1, downloaded: 0, left: 0, event: 'none' as const, numwant: 0, wantPeerIds: false, now: 1_800_000_000, credit: { torrentId: 8, upFactor: 1, downFactor: 1, peerTimeout: 100 } };
    await store.announce({ ...base, uploaded: 0, event: 'started' });
    await store.announce({ ...base, uploaded: 50 });
    // A node killed between its announce and the second call (cluster mode): not listed.
    await redis.srem(pendingKey(prefix, bucketOf(hex)), hex);
    assert.equal((await drain.run()).batchId, null, 'the drain does not see it');
    assert.deepEqual(await drain.reconcile(), { listed: 1, returned: 0 }, 'reconcile lists it');
    await drain.run();
    assert.equal(mergeEntries(writer.entries)[0]!.uploaded, 50, 'then drained');
    // An in-flight hash whose batch is no longer open (a drain moved it after its batch was
    // sealed elsewhere, then died): the next drain that meets it merges it back and moves it.
    await store.announce({ ...base, uploaded: 80 });
    const [cr, crx] = creditKeys(prefix, hex);
    await redis.rename(cr, crx);
    await redis.hset(crx, '#', 'dead-batch');
    await store.announce({ ...base, uploaded: 100 });
    assert.equal((await drain.run()).swarms, 1, 'merged back and drained with the newer credit');
    assert.equal(mergeEntries(writer.entries)[0]!.uploaded, 100, 'every delta once');
    // The same, unlisted: reconcile finds it.
    await store.announce({ ...base, uploaded: 130 });
    await redis.rename(cr, crx);
    await redis.hset(crx, '#', 'dead-batch-2');
    await redis.srem(pendingKey(prefix, bucketOf(hex)), hex);
    assert.equal((await drain.run()).batchId, null, 'nothing listed');
    assert.deepEqual(await drain.reconcile(), { listed: 0, returned: 1 }, 'returned by reconcile');
    await drain.run();
    const [e] = mergeEntries(writer.entries);
    assert.equal(e!.uploaded, 130, 'every delta once');
    assert.equal(e!.announces, 5, 'five announces');
    assert.equal(await redis.exists(cr, crx), 0, 'no credit left');
    assert.deepEqual(await drain.reconcile(), { listed: 0, returned: 0 }, 'nothing to repair');
  });

  it('a drain presumed dead that wakes up gives back what it moved after another sealed its batch', async () => {
    const prefix = fresh();
    const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true });
    const writer = captureWriter();
    const base = { userId: 4, peerId: Buffer.alloc(20, 4), ip: Uint8Array.of(1, 1, 1, 1), port: 1, downloaded: 0, left: 0, event: 'none' as const, numwant: 0, wantPeerIds: false, now: 1_800_000_000, credit: { torrentId: 8, upFactor: 1, downFactor: 1, peerTimeout: 100 } };
    for (const h of ['11', '22', '33']) {
      await store.announce({ ...base, infoHash: h.repeat(20) as InfoHash, uploaded: 0, event: 'started' });
      await store.announce({ ...base, infoHash: h.repeat(20) as InfoHash, uploaded: 10 });
    }
    const rescuer = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, staleAfterMs: 0, nodeId: 'rescuer' });
    let rescued = 0;
    const sleepy = new RedisCreditDrain(redis, {
      keyPrefix: prefix,
      writer,
      nodeId: 'sleepy',
      hook: async (step) => {
        // Presumed dead right after listing its candidates: another drain seals its batch.
        if (step === 'collected') rescued = (await rescuer.run()).recovered;
      },
    });
    const r = await sleepy.run();
    assert.equal(rescued, 1, 'the rescuer finished the sleepy batch (empty: nothing had moved)');
    assert.equal(r.swarms, 0, 'the sleepy drain applied the sealed (empty) composition');
    await rescuer.run();
    const [e] = mergeEntries(writer.entries);
    assert.equal(e!.uploaded, 30, 'every swarm drained once');
    for (const h of ['11', '22', '33']) assert.equal(await redis.exists(...creditKeys(prefix, h.repeat(20))), 0, 'no credit left');
    assert.equal(await countKeys(redis, `${prefix}{drain}`), 0, 'no drain records left');
  });

  forEachDialect((dialect, open) => {
    describe(`crashes mid-drain (${dialect})`, () => {
      let t: TestDatabase;
      let users: number[];
      let torrents: Array<{ id: number; hex: string }>;
      before(async () => {
        t = await open();
        users = [];
        for (const name of ['alice', 'bob']) users.push((await createUser(t.db, { username: name, now: 1 })).id);
        torrents = [];
        for (const hex of ['0a'.repeat(20), 'b1'.repeat(20), 'f7'.repeat(20)]) torrents.push({ id: (await registerTorrent(t.db, { name: hex, infoHashV1: hex, now: 1 })).id, hex });
      });
      after(() => t.close());

      const steps: DrainStep[] = ['collected', 'moved', 'sealed', 'applied', 'deleted-one'];
      for (const step of steps) {
        it(`a drain that dies after "${step}": the next drain writes exact totals`, async () => {
          const prefix = fresh();
          const world: World = {
            users: users.map((id, i) => ({ id, passkey: String(i + 3).repeat(32) })),
            torrents: torrents.map((x, i) => ({ infoHash: x.hex, torrentId: x.id, up: [1, 0.5, 2][i]!, down: [1, 0, 0.5][i]!, until: null })),
          };
          const before = await Promise.all(users.map((u) => getUserTraffic(t.db, u)));
          const clock = new ManualClock(1_800_000_000_000);
          const mem = new Ledger('expect');
          const memService = new TrackerService(rules, accessOf(world), new MemoryPeerStore({ maxPeersPerUser: 2 }), mem, clock, () => 0.5);
          const store = new RedisPeerStore(redis, { maxPeersPerUser: 2, keyPrefix: prefix, creditInStore: true, inlineGlobals: dialect !== 'postgres' });
          const service = new TrackerService(rules, accessOf(world), store, new Ledger(), clock, () => 0.5);
          const writer = directLedgerWriter(t.db);
          const both = async (w: number, ti: number, up: number, down: number, event: AnnounceRequest['event'] = 'none') => {
            const u = world.users[w]!;
            const r = req({ infoHash: world.torrents[ti]!.infoHash as InfoHash, peerId: Buffer.from(peerHex(u.id, ti), 'hex'), uploaded: up, downloaded: down, left: down > 0 ? 5 : 0, event });
            await memService.announce(r, u.passkey, Uint8Array.of(1, 1, 1, w));
            await service.announce(r, u.passkey, Uint8Array.of(1, 1, 1, w));
          };
          for (let w = 0; w < 2; w++) for (let ti = 0; ti < 3; ti++) await both(w, ti, 0, 0, 'started');
          clock.advance(60_000);
          for (let w = 0; w < 2; w++) for (let ti = 0; ti < 3; ti++) await both(w, ti, 1001 * (w + 1), 333 * (ti + 1));
          const crashing = new RedisCreditDrain(redis, {
            keyPrefix: prefix,
            writer,
            nodeId: 'crash',
            hook: (s) => {
              if (s === step) throw new Error(`killed after ${s}`);
            },
          });
          await assert.rejects(crashing.run(), /killed after/);
          // Traffic goes on meanwhile, then another node's drain (the dead one's batch is stale).
          clock.advance(60_000);
          for (let w = 0; w < 2; w++) for (let ti = 0; ti < 3; ti++) await both(w, ti, 5001 * (w + 1), 777 * (ti + 1), ti === 2 ? 'stopped' : 'completed');
          const next = new RedisCreditDrain(redis, { keyPrefix: prefix, writer, nodeId: 'next', staleAfterMs: 0 });
          const r = await next.run();
          assert.equal(r.recovered, 1, 'the dead batch was finished');
          if ((await next.pending()) > 0) await next.run();
          assert.equal(await next.pending(), 0, 'nothing pending');
          assert.deepEqual(await next.openBatches(), [], 'no batch open');

          const want = mergeEntries(unpackEntries(mem.take()!));
          for (const [i, u] of users.entries()) {
            const got = await getUserTraffic(t.db, u);
            const mine = want.filter((e) => e.userId === u);
            const sum = (f: (e: LedgerEntry) => number) => mine.reduce((a, e) => a + f(e), 0);
            assert.equal(Number(got.uploaded) - Number(before[i]!.uploaded), sum((e) => e.uploaded), `user ${u} uploaded`);
            assert.equal(Number(got.downloaded) - Number(before[i]!.downloaded), sum((e) => e.downloaded), `user ${u} downloaded`);
            assert.equal(Number(got.rawUploaded) - Number(before[i]!.rawUploaded), sum((e) => e.rawUploaded), `user ${u} raw uploaded`);
            assert.equal(Number(got.seedTime) - Number(before[i]!.seedTime), sum((e) => e.seedTime), `user ${u} seed time`);
            assert.equal(Number(got.leechTime) - Number(before[i]!.leechTime), sum((e) => e.leechTime), `user ${u} leech time`);
            assert.ok(sum((e) => e.uploaded) > 0, 'some traffic expected');
          }
          const hours = await t.db.selectFrom('user_traffic_hour').select((eb) => [eb.fn.sum<number>('uploaded').as('up')]).executeTakeFirst();
          assert.ok(Number(hours?.up) > 0, 'hourly traffic written');
          assert.equal(await countKeys(redis, `${prefix}{drain}`), 0, 'no drain records left');
          for (const x of torrents) assert.equal(await redis.exists(...creditKeys(prefix, x.hex)), 0, 'no credit left');
        });
      }

      it('hourly traffic of drained batches adds up to the credited totals', async () => {
        const rows = await t.db.selectFrom('user_traffic_hour').select(['user_id', 'uploaded', 'downloaded']).execute();
        for (const u of users) {
          const got = await getUserTraffic(t.db, u);
          const up = rows.filter((r) => r.user_id === u).reduce((a, r) => a + Number(r.uploaded), 0);
          const down = rows.filter((r) => r.user_id === u).reduce((a, r) => a + Number(r.downloaded), 0);
          assert.equal(up, Number(got.uploaded), `user ${u}: hourly uploads sum to the total`);
          assert.equal(down, Number(got.downloaded), `user ${u}: hourly downloads sum to the total`);
        }
      });
    });
  });
});
