/**
 * White-box checks of MemoryPeerStore (the behaviour is covered by test/memory-peer-store.test.ts:
 * the contract and the model-based tests).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InfoHash } from '../shared/types.js';
import { BIG_ARRAY_BYTES, MemoryPeerStore, PEER_SLOT_BYTES } from './memory-peer-store.js';
import type { PeerAnnounce } from './peer-store.js';

const H = (n: number): InfoHash => n.toString(16).padStart(40, '0') as InfoHash;

function req(n: number, over: Partial<PeerAnnounce> = {}): PeerAnnounce {
  const peerId = new Uint8Array(20);
  peerId[16] = n >>> 24;
  peerId[17] = n >>> 16;
  peerId[18] = n >>> 8;
  peerId[19] = n;
  return {
    infoHash: H(1),
    userId: 0,
    peerId,
    ip: Uint8Array.of(10, n >>> 16, n >>> 8, n),
    port: 1000 + (n % 60000),
    uploaded: 0,
    downloaded: 0,
    left: 1,
    event: 'none',
    numwant: 0,
    wantPeerIds: false,
    now: 1_700_000_000,
    ...over,
  };
}

describe('MemoryPeerStore internals', () => {
  it('keeps a peer in a 52-byte record and a swarm in 48 bytes', () => {
    assert.equal(PEER_SLOT_BYTES, 52);
    const s = new MemoryPeerStore({ maxPeersPerUser: 1, initialPeerCapacity: 1024, initialSwarmCapacity: 256 });
    // slab + peer table (1024 / 0.75 -> 2048 buckets) + swarm records + swarm table (256 / 0.75 -> 512)
    // + the 64-slot selection scratch.
    // + the entry arena: empty until the first peer, but for its free-list heads.
    assert.ok(s.entryArenaBytes() < 1024, `entry arena of an empty store: ${s.entryArenaBytes()} bytes`);
    assert.equal(s.typedBytes(), 1024 * 52 + 2048 * 4 + 256 * 48 + 512 * 4 + 64 * 4 + s.entryArenaBytes());
  });

  it('grows by doubling and stays consistent', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1, initialPeerCapacity: 2, initialSwarmCapacity: 2 });
    const ipOf = (n: number): Uint8Array => (n % 9 === 0 ? new Uint8Array(16).fill(n & 255) : req(n).ip);
    for (let n = 0; n < 5000; n++) {
      s.announce(req(n, { infoHash: H(n % 37), ip: ipOf(n), uploaded: n * 2 ** 33, left: n % 2 }));
    }
    s.checkInvariants();
    assert.equal(s.stats().peers, 5000);
    // Every field survived the copies.
    let seen = 0;
    for (let h = 0; h < 37; h++) {
      for (const p of s.dumpSwarm(H(h))) {
        const n = (p.peerId[16]! << 24) | (p.peerId[17]! << 16) | (p.peerId[18]! << 8) | p.peerId[19]!;
        assert.equal(n % 37, h);
        assert.deepEqual([...p.ip], [...ipOf(n)], `address of peer ${n}`);
        assert.equal(p.port, 1000 + n);
        assert.equal(p.uploaded, n * 2 ** 33);
        assert.equal(p.seeder, n % 2 === 0);
        seen++;
      }
    }
    assert.equal(seen, 5000);
    // 5000 peers -> 8192 slots; 5000 table entries -> 8192 buckets (load 0.61); 37 swarms -> 64
    // records and 64 buckets.
    const v6 = Math.ceil(5000 / 9);
    const v6cap = 64 * 2 ** Math.ceil(Math.log2(v6 / 64));
    // + the entry arena: 10 bytes per entry, blocks rounded up to a size class, growth slack.
    assert.ok(s.entryArenaBytes() <= 5000 * 10 * 2, `entry arena: ${s.entryArenaBytes()} bytes for 5000 peers`);
    assert.equal(s.typedBytes(), 8192 * 52 + 8192 * 4 + 64 * 48 + 64 * 4 + v6cap * 22 + 64 * 4 + s.entryArenaBytes());
  });

  it('counts a user’s peers in a swarm from the probe run, across many users', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 2, initialPeerCapacity: 2 });
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const o = s.announce(req(n, { userId: (n % 500) + 1, infoHash: H(n % 3) }));
      if (o.refused) refused++;
    }
    // Each (user, swarm) pair is offered 2 peers: 500 users x 3 swarms x 2 = all 3000 fit.
    assert.equal(refused, 0);
    for (let n = 3000; n < 4500; n++) {
      const o = s.announce(req(n, { userId: (n % 500) + 1, infoHash: H(n % 3) }));
      if (o.refused) refused++;
    }
    assert.equal(refused, 1500, 'every third peer of a pair is refused');
    s.checkInvariants();
  });

  it('hands out peer lists that later announces never overwrite (cut from a pool, never reused)', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1 });
    for (let n = 1; n <= 30; n++) s.announce(req(n, { left: n <= 10 ? 0 : 1 }));
    const first = s.announce(req(31, { numwant: 25, wantPeerIds: true }));
    assert.equal(first.peers4.length, 25 * 6, 'a full list of 25 peers');
    const copy4 = Uint8Array.from(first.peers4);
    const copyIds = Uint8Array.from(first.peerIds4!);
    // Enough later announces to go through several pools.
    for (let k = 0; k < 5000; k++) s.announce(req(40 + (k % 200), { numwant: 25, wantPeerIds: true, port: 2000 + k }));
    assert.deepEqual(Uint8Array.from(first.peers4), copy4, 'the first list is unchanged');
    assert.deepEqual(Uint8Array.from(first.peerIds4!), copyIds, 'its peer ids too');
    assert.ok(first.peers4 instanceof Uint8Array && !(first.peers4 instanceof Buffer), 'a plain Uint8Array');
  });

  it('reuses IPv6 side-slab entries and slots', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1, initialPeerCapacity: 4 });
    const v6 = (n: number): Uint8Array => new Uint8Array(16).fill(n);
    for (let round = 0; round < 50; round++) {
      for (let n = 0; n < 4; n++) s.announce(req(n, { ip: v6(n + round), now: 1_700_000_000 + round }));
      s.announce(req(1, { event: 'stopped' }));
      s.announce(req(2, { ip: Uint8Array.of(1, 2, 3, 4) }));
      s.checkInvariants();
    }
    const before = s.typedBytes();
    for (let n = 0; n < 4; n++) s.announce(req(n, { ip: v6(n) }));
    assert.equal(s.typedBytes(), before, 'no growth from churn');
    assert.equal(s.stats().ipv6, 4);
  });

  it('gives a leecher at least one seeder when there is one (share rounded up)', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1 });
    s.announce(req(0, { left: 0 }));
    for (let n = 1; n <= 100; n++) s.announce(req(n));
    const o = s.announce(req(50, { numwant: 10, wantPeerIds: true }));
    assert.equal(o.peers4.length / 6, 10);
    const ids = o.peerIds4!;
    let seeders = 0;
    for (let k = 0; k < ids.length; k += 20) if (ids[k + 19] === 0 && ids[k + 18] === 0) seeders++;
    assert.equal(seeders, 1, 'the lone seeder is in the answer');
  });

  it('rejects malformed peer ids, addresses and info hashes', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1 });
    assert.throws(() => s.announce(req(1, { peerId: new Uint8Array(19) })), RangeError);
    assert.throws(() => s.announce(req(1, { ip: new Uint8Array(6) })), RangeError);
    for (const bad of ['', 'ab'.repeat(19), 'ab'.repeat(21), 'g'.repeat(40), '0'.repeat(39) + '\u0130']) {
      assert.throws(() => s.announce(req(1, { infoHash: bad as InfoHash })), RangeError, JSON.stringify(bad));
      assert.deepEqual(s.scrape([bad as InfoHash]), [{ complete: 0, incomplete: 0, downloaded: 0 }]);
      s.dropSwarm(bad as InfoHash);
    }
    assert.deepEqual(s.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
  });

  it('reads info hashes in either case and lists them in lowercase', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1 });
    const lower = '0123456789abcdef0123456789abcdeffedcba98' as InfoHash;
    s.announce(req(1, { infoHash: lower }));
    const o = s.announce(req(2, { infoHash: lower.toUpperCase() as InfoHash }));
    assert.equal(o.incomplete, 2);
    const seen: string[] = [];
    s.forEachSwarm((h) => seen.push(h));
    assert.deepEqual(seen, [lower]);
  });

  it('starts afresh after close', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1, initialPeerCapacity: 2 });
    for (let n = 0; n < 100; n++) s.announce(req(n));
    s.close();
    assert.deepEqual(s.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
    assert.equal(s.announce(req(1)).isNew, true);
    s.checkInvariants();
  });

  it('restarts the slab from the bottom once a sweep empties it', () => {
    const s = new MemoryPeerStore({ maxPeersPerUser: 1, initialPeerCapacity: 2 });
    for (let n = 0; n < 100; n++) s.announce(req(n, { infoHash: H(n % 10) }));
    assert.deepEqual(s.sweep(2_000_000_000), { expired: 100, swarmsRemoved: 10 });
    s.checkInvariants();
    for (let n = 0; n < 100; n++) s.announce(req(n, { infoHash: H(n % 7) }));
    s.checkInvariants();
    assert.equal(s.stats().peers, 100);
  });

  it('hands each big array to adviseMemory before writing it, and no small one', () => {
    const advised: Array<{ bytes: number; zero: boolean }> = [];
    const adviseMemory = (buf: ArrayBuffer) => {
      // Still all zeros: nothing (no copy of the old records) was written before the advice.
      const v = new Uint8Array(buf);
      advised.push({ bytes: buf.byteLength, zero: v.every((x) => x === 0) });
    };
    const small = new MemoryPeerStore({ maxPeersPerUser: 1, adviseMemory });
    for (let n = 0; n < 100; n++) small.announce(req(n));
    assert.equal(advised.length, 0, 'no array of a small store reaches the threshold');
    // A slab of 65,536 records is past the threshold; growing it past 2^17 records makes another.
    const big = new MemoryPeerStore({ maxPeersPerUser: 1, adviseMemory, initialPeerCapacity: 1 << 16 });
    assert.ok(advised.length >= 1, 'the big initial slab is advised');
    for (let n = 0; n < (1 << 16) + 10; n++) big.announce(req(n, { infoHash: H(n % 50) }));
    big.checkInvariants();
    assert.equal(big.stats().peers, (1 << 16) + 10);
    assert.ok(advised.some((a) => a.bytes >= (1 << 17) * PEER_SLOT_BYTES), 'the grown slab is advised too');
    for (const a of advised) {
      assert.ok(a.bytes >= BIG_ARRAY_BYTES, `only big arrays (${a.bytes} bytes)`);
      assert.ok(a.zero, 'advised before the first write');
    }
  });
});
