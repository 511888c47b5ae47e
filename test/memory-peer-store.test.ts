/**
 * MemoryPeerStore: the shared contract, then model-based tests (fast-check): random sequences of
 * announces, stops, sweeps and drops are replayed against the store and against a plain Map model,
 * and counts, membership, outcomes and the store's internal invariants must agree after every
 * step. Tiny initial capacities force the slab, the lookup table and the swarm arrays to grow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AnnounceEvent, InfoHash } from '../src/shared/types.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import type { AnnounceOutcome } from '../src/swarm/peer-store.js';
import { peerStoreContract } from './peer-store.contract.js';

peerStoreContract('MemoryPeerStore', (opts) => new MemoryPeerStore(opts));
peerStoreContract('MemoryPeerStore (capacity 2)', (opts) =>
  new MemoryPeerStore({ ...opts, initialPeerCapacity: 2, initialSwarmCapacity: 2 }),
);

// -------------------------------------------------------------------------------------------------
// Model

interface MPeer {
  user: number;
  p: number;
  seeder: boolean;
  completed: boolean;
  up: number;
  down: number;
  seen: number;
  v: number;
}
interface MSwarm {
  peers: Map<string, MPeer>;
  completed: number;
}

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

const hashOf = (h: number): InfoHash => h.toString(16).padStart(40, '0') as InfoHash;

function pidOf(p: number): Uint8Array {
  const b = new Uint8Array(20);
  b.set(new TextEncoder().encode('-MB0001-'));
  b[16] = (p >>> 24) & 255;
  b[17] = (p >>> 16) & 255;
  b[18] = (p >>> 8) & 255;
  b[19] = p & 255;
  return b;
}

/** Address variant v of (user, p): even variants are IPv4, odd ones IPv6; the bytes encode all three. */
function ipOf(v: number, user: number, p: number): Uint8Array {
  if (v % 2 === 0) return Uint8Array.of(10 + v, user, p >>> 8, p & 255);
  const b = new Uint8Array(16);
  b[0] = 0xfd;
  b[1] = v;
  b[2] = user;
  b[14] = p >>> 8;
  b[15] = p & 255;
  return b;
}
const portOf = (v: number, p: number): number => 6000 + v * 1000 + (p % 1000);

/** (user, p) from a compact entry, checking that the address is that peer's current one. */
function decode(b: Uint8Array, o: number, v6: boolean, model: MSwarm): MPeer {
  let user: number;
  let p: number;
  if (!v6) {
    user = b[o + 1]!;
    p = (b[o + 2]! << 8) | b[o + 3]!;
  } else {
    user = b[o + 2]!;
    p = (b[o + 14]! << 8) | b[o + 15]!;
  }
  const peer = model.peers.get(`${user}:${p}`);
  assert.ok(peer !== undefined, `returned peer ${user}:${p} is not in the swarm`);
  const ip = ipOf(peer.v, user, p);
  const len = v6 ? 16 : 4;
  assert.equal(ip.length, len, 'address family');
  assert.deepEqual([...b.subarray(o, o + len)], [...ip], 'current address');
  const port = (b[o + len]! << 8) | b[o + len + 1]!;
  assert.equal(port, portOf(peer.v, p), 'current port');
  return peer;
}

function checkPeers(o: AnnounceOutcome, self: MPeer, sw: MSwarm, c: Extract<Cmd, { kind: 'announce' }>): void {
  const got: MPeer[] = [];
  for (let k = 0; k < o.peers4.length; k += 6) got.push(decode(o.peers4, k, false, sw));
  for (let k = 0; k < o.peers6.length; k += 18) got.push(decode(o.peers6, k, true, sw));
  const eligible = [...sw.peers.values()].filter((x) => x !== self && (!self.seeder || !x.seeder));
  assert.equal(got.length, Math.min(c.numwant, eligible.length), 'number of peers');
  assert.equal(new Set(got).size, got.length, 'no duplicates');
  for (const x of got) {
    assert.notEqual(x, self, 'not itself');
    if (self.seeder) assert.equal(x.seeder, false, 'a seeder gets leechers only');
  }
  if (c.ids) {
    const n4 = o.peers4.length / 6;
    const n6 = o.peers6.length / 18;
    assert.equal(o.peerIds4?.length, n4 * 20);
    assert.equal(o.peerIds6?.length, n6 * 20);
    got.forEach((x, k) => {
      const ids = k < n4 ? o.peerIds4! : o.peerIds6!;
      const at = (k < n4 ? k : k - n4) * 20;
      assert.deepEqual([...ids.subarray(at, at + 20)], [...pidOf(x.p)], 'peer id order');
    });
  } else {
    assert.equal(o.peerIds4, undefined);
    assert.equal(o.peerIds6, undefined);
  }
}

function countsOf(sw: MSwarm | undefined): { complete: number; incomplete: number; downloaded: number } {
  if (sw === undefined) return { complete: 0, incomplete: 0, downloaded: 0 };
  let complete = 0;
  for (const p of sw.peers.values()) if (p.seeder) complete++;
  return { complete, incomplete: sw.peers.size - complete, downloaded: sw.completed };
}

function run(cmds: Cmd[], maxPerUser: number, hashes: number, cap: number): void {
  const store = new MemoryPeerStore({ maxPeersPerUser: maxPerUser, initialPeerCapacity: cap, initialSwarmCapacity: cap });
  const model = new Map<number, MSwarm>();
  let now = 1_700_000_000;
  for (const c of cmds) {
    if (c.kind === 'announce') {
      now += c.dt;
      const o = store.announce({
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
      });
      let sw = model.get(c.h);
      const key = `${c.user}:${c.p}`;
      const known = sw?.peers.get(key);
      assert.equal(o.isNew, known === undefined, 'isNew');
      assert.equal(o.prevUploaded, known?.up ?? 0, 'prevUploaded');
      assert.equal(o.prevDownloaded, known?.down ?? 0, 'prevDownloaded');
      assert.equal(o.elapsed, known ? now - known.seen : 0, 'elapsed');
      assert.equal(o.wasSeeder, known?.seeder ?? false, 'wasSeeder');
      if (c.event === 'stopped') {
        if (known) sw!.peers.delete(key);
        assert.equal(o.refused, undefined);
        assert.equal(o.peers4.length + o.peers6.length, 0);
      } else {
        let self = known;
        if (self === undefined) {
          let mine = 0;
          if (sw && c.user !== 0) for (const p of sw.peers.values()) if (p.user === c.user) mine++;
          if (c.user !== 0 && mine >= maxPerUser) {
            assert.equal(o.refused, 'peer-limit', 'refused');
            assert.equal(o.peers4.length + o.peers6.length, 0);
          } else {
            if (!sw) model.set(c.h, (sw = { peers: new Map(), completed: 0 }));
            self = { user: c.user, p: c.p, seeder: false, completed: false, up: 0, down: 0, seen: 0, v: 0 };
            sw.peers.set(key, self);
          }
        }
        if (self) {
          assert.equal(o.refused, undefined, 'not refused');
          self.seeder = c.left === 0;
          self.up = c.up;
          self.down = c.down;
          self.seen = now;
          self.v = c.v;
          if (c.event === 'completed' && !self.completed) {
            self.completed = true;
            sw!.completed++;
          }
          checkPeers(o, self, sw!, c);
        }
      }
      const mc = countsOf(sw);
      assert.deepEqual([o.complete, o.incomplete, o.downloaded], [mc.complete, mc.incomplete, mc.downloaded], 'counts');
    } else if (c.kind === 'sweep') {
      const olderThan = now - c.age;
      let expired = 0;
      let removed = 0;
      for (const [h, sw] of model) {
        for (const [k, p] of sw.peers) {
          if (p.seen < olderThan) {
            sw.peers.delete(k);
            expired++;
          }
        }
        if (sw.peers.size === 0) {
          model.delete(h);
          removed++;
        }
      }
      assert.deepEqual(store.sweep(olderThan), { expired, swarmsRemoved: removed }, 'sweep result');
    } else {
      store.dropSwarm(hashOf(c.h));
      model.delete(c.h);
    }

    // After every step: invariants, counts, membership, stats.
    store.checkInvariants();
    const all = [...Array(hashes).keys()];
    assert.deepEqual(
      store.scrape(all.map(hashOf)),
      all.map((h) => countsOf(model.get(h))),
      'scrape',
    );
    let peers = 0;
    let seeders = 0;
    let v6 = 0;
    for (const [h, sw] of model) {
      const dump = store
        .dumpSwarm(hashOf(h))
        .map((p) => `${p.userId}:${p.peerId[18]! * 256 + p.peerId[19]!}:${p.seeder}:${p.completed}:${p.uploaded}:${p.downloaded}:${p.lastAnnounce}:${[...p.ip].join('.')}:${p.port}`)
        .sort();
      const want = [...sw.peers.values()]
        .map((p) => `${p.user}:${p.p}:${p.seeder}:${p.completed}:${p.up}:${p.down}:${p.seen}:${[...ipOf(p.v, p.user, p.p)].join('.')}:${portOf(p.v, p.p)}`)
        .sort();
      assert.deepEqual(dump, want, `membership of swarm ${h}`);
      for (const p of sw.peers.values()) {
        peers++;
        if (p.seeder) seeders++;
        if (p.v % 2 === 1) v6++;
      }
    }
    assert.deepEqual(
      store.stats(),
      { peers, seeders, leechers: peers - seeders, torrents: model.size, ipv4: peers - v6, ipv6: v6 },
      'stats',
    );
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
    up: fc.oneof(fc.nat(1000), fc.constant(2 ** 40 + 3), fc.constant(Number.MAX_SAFE_INTEGER)),
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

describe('MemoryPeerStore against a model', () => {
  it('small swarms, heavy collisions (many users per swarm, per-user cap 2)', () => {
    fc.assert(
      fc.property(fc.array(cmdArb(3, 4, 6, 100), { maxLength: 150, size: 'max' }), (cmds) => run(cmds, 2, 3, 2)),
      { numRuns: 300, interruptAfterTimeLimit: 60_000 },
    );
  });

  it('growth past the initial capacities', () => {
    fc.assert(
      fc.property(fc.array(cmdArb(40, 6, 200, 60), { minLength: 200, maxLength: 1200, size: 'max' }), (cmds) => run(cmds, 3, 40, 2)),
      { numRuns: 25, interruptAfterTimeLimit: 60_000 },
    );
  });

  it('public mode (user 0 only, no cap)', () => {
    fc.assert(
      fc.property(fc.array(cmdArb(4, 1, 300, 100), { maxLength: 400, size: 'max' }), (cmds) => run(cmds, 1, 4, 2)),
      { numRuns: 60, interruptAfterTimeLimit: 60_000 },
    );
  });
});

describe('MemoryPeerStore at scale', () => {
  it('fills, churns and sweeps 30,000 peers from capacity 2 without losing anyone', () => {
    const store = new MemoryPeerStore({ maxPeersPerUser: 4, initialPeerCapacity: 2, initialSwarmCapacity: 2 });
    let x = 12345;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const base = 1_700_000_000;
    const alive = new Map<string, number>();
    for (let k = 0; k < 30_000; k++) {
      const h = k % 700;
      const o = store.announce({
        infoHash: hashOf(h),
        userId: k % 3 === 0 ? 0 : (k % 977) + 1,
        peerId: pidOf(k),
        ip: ipOf(k % 20 === 0 ? 1 : 0, k % 251, k & 0xffff),
        port: 1 + (k % 60000),
        uploaded: k,
        downloaded: 0,
        left: k % 4 === 0 ? 0 : 5,
        event: 'started',
        numwant: 30,
        wantPeerIds: false,
        now: base + (k % 100),
      });
      assert.equal(o.isNew, true);
      if (o.refused === undefined) alive.set(`${h}:${k}`, base + (k % 100));
    }
    store.checkInvariants();
    assert.equal(store.stats().peers, alive.size);
    // Stop a third of them.
    let stopped = 0;
    for (let k = 0; k < 30_000; k += 3) {
      const h = k % 700;
      if (!alive.has(`${h}:${k}`)) continue;
      const o = store.announce({
        infoHash: hashOf(h),
        userId: k % 3 === 0 ? 0 : (k % 977) + 1,
        peerId: pidOf(k),
        ip: ipOf(0, 0, 0),
        port: 1,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: 'stopped',
        numwant: 0,
        wantPeerIds: false,
        now: base + 100,
      });
      assert.equal(o.isNew, false);
      alive.delete(`${h}:${k}`);
      stopped++;
    }
    assert.ok(stopped > 9000, `only ${stopped} stopped`);
    store.checkInvariants();
    assert.equal(store.stats().peers, alive.size);
    const limit = base + 50 + rnd(10);
    let expired = 0;
    for (const [k, t] of alive) {
      if (t < limit) {
        alive.delete(k);
        expired++;
      }
    }
    assert.equal(store.sweep(limit).expired, expired);
    store.checkInvariants();
    assert.equal(store.stats().peers, alive.size);
    assert.equal(store.sweep(base + 1000).expired, alive.size);
    store.checkInvariants();
    assert.deepEqual(store.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
  });
});
