/**
 * The PeerStore contract: one node:test suite that any implementation must pass (the in-memory
 * store, the Redis store). It only uses the port (src/swarm/peer-store.ts) and awaits every call.
 *
 * `make` receives the options the suite relies on (maxPeersPerUser = CONTRACT_MAX_PEERS_PER_USER);
 * a factory that ignores them must create its store with that cap. Each test gets a fresh store and
 * closes it.
 *
 * Every assert.ok carries a message: without one, node builds the message from the source text,
 * which under tsx can hang instead of failing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InfoHash } from '../src/shared/types.js';
import type { AnnounceOutcome, PeerAnnounce, PeerStore, PeerStoreOptions } from '../src/swarm/peer-store.js';

export const CONTRACT_MAX_PEERS_PER_USER = 3;

const T0 = 1_700_000_000;

export function hash(c: string): InfoHash {
  return c.repeat(40 / c.length) as InfoHash;
}

/** A distinct 20-byte peer id for n. */
export function peerId(n: number): Uint8Array {
  const id = new TextEncoder().encode('-ES0100-000000000000');
  let x = n;
  for (let i = 19; i >= 8 && x > 0; i--) {
    id[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return id;
}

/** A distinct IPv4 address for n (10.x.y.z). */
export function ip4(n: number): Uint8Array {
  return Uint8Array.of(10, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** A distinct IPv6 address for n (2001:db8::n). */
export function ip6(n: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[12] = (n >>> 24) & 255;
  b[13] = (n >>> 16) & 255;
  b[14] = (n >>> 8) & 255;
  b[15] = n & 255;
  return b;
}

export function announceOf(p: Partial<PeerAnnounce> & { n: number }): PeerAnnounce {
  const { n, ...rest } = p;
  return {
    infoHash: hash('a'),
    userId: 0,
    peerId: peerId(n),
    ip: ip4(n),
    port: 10000 + (n % 50000),
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    event: 'none',
    numwant: 50,
    wantPeerIds: false,
    now: T0,
    ...rest,
  };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** "ip:port" strings of a compact IPv4 list. */
function list4(b: Uint8Array): string[] {
  assert.equal(b.length % 6, 0);
  const out: string[] = [];
  for (let o = 0; o < b.length; o += 6) out.push(`${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}:${(b[o + 4]! << 8) | b[o + 5]!}`);
  return out;
}

function list6(b: Uint8Array): string[] {
  assert.equal(b.length % 18, 0);
  const out: string[] = [];
  for (let o = 0; o < b.length; o += 18) out.push(`${hex(b.subarray(o, o + 16))}:${(b[o + 16]! << 8) | b[o + 17]!}`);
  return out;
}

function ids(b: Uint8Array | undefined): string[] {
  assert.ok(b !== undefined, 'peer ids asked for');
  assert.equal(b.length % 20, 0);
  const out: string[] = [];
  for (let o = 0; o < b.length; o += 20) out.push(Buffer.from(b.subarray(o, o + 20)).toString('latin1'));
  return out;
}

const idOf = (n: number): string => Buffer.from(peerId(n)).toString('latin1');

/** The peers of an outcome as peer-id strings (asks for ids: use with wantPeerIds). */
function selected(o: AnnounceOutcome): string[] {
  return [...ids(o.peerIds4), ...ids(o.peerIds6)];
}

function counts(o: { complete: number; incomplete: number; downloaded: number }): [number, number, number] {
  return [o.complete, o.incomplete, o.downloaded];
}

export function peerStoreContract(
  name: string,
  make: (opts: PeerStoreOptions) => Promise<PeerStore> | PeerStore,
): void {
  describe(`PeerStore contract: ${name}`, () => {
    const opts: PeerStoreOptions = { maxPeersPerUser: CONTRACT_MAX_PEERS_PER_USER };
    async function withStore(fn: (s: PeerStore) => Promise<void>): Promise<void> {
      const s = await make(opts);
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    }
    const ann = async (s: PeerStore, p: Partial<PeerAnnounce> & { n: number }): Promise<AnnounceOutcome> =>
      await s.announce(announceOf(p));

    it('records a new peer', () =>
      withStore(async (s) => {
        const o = await ann(s, { n: 1, uploaded: 5, downloaded: 7 });
        assert.equal(o.isNew, true);
        assert.equal(o.prevUploaded, 0);
        assert.equal(o.prevDownloaded, 0);
        assert.equal(o.elapsed, 0);
        assert.equal(o.wasSeeder, false);
        assert.equal(o.refused, undefined);
        assert.deepEqual(counts(o), [0, 1, 0]);
        assert.equal(o.peers4.length, 0);
        assert.equal(o.peers6.length, 0);
        assert.deepEqual(await s.stats(), { peers: 1, seeders: 0, leechers: 1, torrents: 1, ipv4: 1, ipv6: 0 });
      }));

    it('updates a known peer and reports the previous counters, elapsed time and seeder state', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, uploaded: 100, downloaded: 200, event: 'started' });
        let o = await ann(s, { n: 1, uploaded: 150, downloaded: 300, now: T0 + 1800 });
        assert.equal(o.isNew, false);
        assert.equal(o.prevUploaded, 100);
        assert.equal(o.prevDownloaded, 200);
        assert.equal(o.elapsed, 1800);
        assert.equal(o.wasSeeder, false);
        assert.deepEqual(counts(o), [0, 1, 0]);
        o = await ann(s, { n: 1, uploaded: 2 ** 40, downloaded: 2 ** 35 + 1, left: 0, now: T0 + 2000 });
        assert.equal(o.wasSeeder, false);
        assert.equal(o.elapsed, 200);
        assert.deepEqual(counts(o), [1, 0, 0]);
        o = await ann(s, { n: 1, uploaded: 2 ** 40 + 1, downloaded: 2 ** 35 + 1, left: 0, now: T0 + 2100 });
        assert.equal(o.wasSeeder, true);
        assert.equal(o.prevUploaded, 2 ** 40, 'counters above 2^32 survive');
        assert.equal(o.prevDownloaded, 2 ** 35 + 1);
        assert.deepEqual(await s.stats(), { peers: 1, seeders: 1, leechers: 0, torrents: 1, ipv4: 1, ipv6: 0 });
        // A seeder that starts downloading again (new files) becomes a leecher.
        o = await ann(s, { n: 1, left: 10, now: T0 + 2200 });
        assert.equal(o.wasSeeder, true);
        assert.deepEqual(counts(o), [0, 1, 0]);
      }));

    it('gives a seeder leechers only, and a leecher both, never itself', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 3; n++) await ann(s, { n, left: 0 });
        for (let n = 4; n <= 6; n++) await ann(s, { n });
        const seed = await ann(s, { n: 1, left: 0, wantPeerIds: true });
        assert.deepEqual(selected(seed).sort(), [4, 5, 6].map(idOf).sort());
        assert.deepEqual(counts(seed), [3, 3, 0]);
        const leech = await ann(s, { n: 4, wantPeerIds: true });
        assert.deepEqual(selected(leech).sort(), [1, 2, 3, 5, 6].map(idOf).sort());
        const newSeed = await ann(s, { n: 7, left: 0, wantPeerIds: true });
        assert.deepEqual(selected(newSeed).sort(), [4, 5, 6].map(idOf).sort());
      }));

    it('never returns the announcing peer, even alone or when numwant exceeds the swarm', () =>
      withStore(async (s) => {
        assert.equal((await ann(s, { n: 1, numwant: 200 })).peers4.length, 0);
        assert.equal((await ann(s, { n: 1, numwant: 200 })).peers4.length, 0);
        await ann(s, { n: 2 });
        for (let i = 0; i < 5; i++) {
          const o = await ann(s, { n: 1, numwant: 1, wantPeerIds: true });
          assert.deepEqual(selected(o), [idOf(2)]);
        }
      }));

    it('respects numwant over both address families', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 20; n++) await ann(s, { n, left: n % 3 === 0 ? 0 : 1 });
        for (let n = 21; n <= 30; n++) await ann(s, { n, ip: ip6(n) });
        for (const numwant of [0, 1, 5, 17, 28, 29, 100]) {
          const o = await ann(s, { n: 1, numwant });
          assert.equal(o.peers4.length / 6 + o.peers6.length / 18, Math.min(numwant, 29), `numwant ${numwant}`);
        }
        const seed = await ann(s, { n: 3, left: 0, numwant: 4 });
        assert.equal(seed.peers4.length / 6 + seed.peers6.length / 18, 4);
      }));

    it('gives a leecher a mix of seeders and leechers', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 30; n++) await ann(s, { n, left: 0 });
        for (let n = 31; n <= 60; n++) await ann(s, { n });
        const o = await ann(s, { n: 31, numwant: 10, wantPeerIds: true });
        const got = selected(o);
        assert.equal(got.length, 10);
        const seeds = got.filter((x) => [...Array(30).keys()].some((k) => idOf(k + 1) === x)).length;
        assert.ok(seeds > 0 && seeds < 10, `${seeds} seeders out of 10`);
      }));

    it('splits IPv4 and IPv6 peers into exact compact byte layouts', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, ip: Uint8Array.of(192, 0, 2, 33), port: 0x1ae1 });
        const v6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
        await ann(s, { n: 2, ip: v6, port: 0xc351 });
        const o = await ann(s, { n: 3, wantPeerIds: true });
        assert.deepEqual([...o.peers4], [192, 0, 2, 33, 0x1a, 0xe1]);
        assert.deepEqual([...o.peers6], [...v6, 0xc3, 0x51]);
        assert.deepEqual(ids(o.peerIds4), [idOf(1)]);
        assert.deepEqual(ids(o.peerIds6), [idOf(2)]);
        assert.deepEqual(await s.stats(), { peers: 3, seeders: 0, leechers: 3, torrents: 1, ipv4: 2, ipv6: 1 });
        const no = await ann(s, { n: 3 });
        assert.equal(no.peerIds4, undefined);
        assert.equal(no.peerIds6, undefined);
      }));

    it('returns peer ids in the order of the addresses', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 12; n++) await ann(s, { n, ip: n % 4 === 0 ? ip6(n) : ip4(n), left: n % 2 });
        const o = await ann(s, { n: 1, numwant: 50, wantPeerIds: true });
        const a4 = list4(o.peers4);
        const a6 = list6(o.peers6);
        const i4 = ids(o.peerIds4);
        const i6 = ids(o.peerIds6);
        assert.equal(a4.length + a6.length, 11);
        assert.equal(i4.length, a4.length);
        assert.equal(i6.length, a6.length);
        const byId = new Map<string, number>();
        for (let n = 1; n <= 12; n++) byId.set(idOf(n), n);
        i4.forEach((id, k) => {
          const n = byId.get(id)!;
          assert.equal(a4[k], `10.0.0.${n}:${10000 + n}`);
        });
        i6.forEach((id, k) => {
          const n = byId.get(id)!;
          assert.equal(a6[k], `${hex(ip6(n))}:${10000 + n}`);
        });
      }));

    it('removes a peer on stopped and reports the counts after removal', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, left: 0 });
        await ann(s, { n: 2, uploaded: 10, downloaded: 20 });
        await ann(s, { n: 3 });
        const o = await ann(s, { n: 2, event: 'stopped', uploaded: 15, downloaded: 30, now: T0 + 60 });
        assert.equal(o.isNew, false);
        assert.equal(o.prevUploaded, 10);
        assert.equal(o.prevDownloaded, 20);
        assert.equal(o.elapsed, 60);
        assert.equal(o.wasSeeder, false);
        assert.deepEqual(counts(o), [1, 1, 0]);
        assert.equal(o.peers4.length + o.peers6.length, 0);
        const seed = await ann(s, { n: 1, left: 0, wantPeerIds: true });
        assert.deepEqual(selected(seed), [idOf(3)]);
        assert.equal((await s.stats()).peers, 2);
        // Stopping an unknown peer stores nothing.
        const u = await ann(s, { n: 9, event: 'stopped' });
        assert.equal(u.isNew, true);
        assert.deepEqual(counts(u), [1, 1, 0]);
        const z = await ann(s, { n: 9, event: 'stopped', infoHash: hash('b') });
        assert.deepEqual(counts(z), [0, 0, 0]);
        assert.equal((await s.stats()).peers, 2);
        assert.deepEqual(counts((await s.scrape([hash('b')]))[0]!), [0, 0, 0]);
        // The stopped peer comes back as new.
        assert.equal((await ann(s, { n: 2 })).isNew, true);
      }));

    it('counts event=completed once per peer', () =>
      withStore(async (s) => {
        await ann(s, { n: 1 });
        let o = await ann(s, { n: 1, left: 0, event: 'completed' });
        assert.deepEqual(counts(o), [1, 0, 1]);
        o = await ann(s, { n: 1, left: 0, event: 'completed' });
        assert.deepEqual(counts(o), [1, 0, 1]);
        o = await ann(s, { n: 2, left: 0, event: 'completed' });
        assert.deepEqual(counts(o), [2, 0, 2]);
        o = await ann(s, { n: 1, left: 0 });
        assert.equal(o.downloaded, 2);
        assert.deepEqual((await s.scrape([hash('a')]))[0], { complete: 2, incomplete: 0, downloaded: 2 });
      }));

    it('keeps paused peers in the swarm (a leecher while left > 0)', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, left: 0 });
        const p = await ann(s, { n: 2, event: 'paused', left: 50, wantPeerIds: true });
        assert.deepEqual(counts(p), [1, 1, 0]);
        assert.deepEqual(selected(p), [idOf(1)]);
        const seed = await ann(s, { n: 1, left: 0, wantPeerIds: true });
        assert.deepEqual(selected(seed), [idOf(2)]);
      }));

    it('refuses the N+1th peer of a user in a swarm, not other users, swarms or user 0', () =>
      withStore(async (s) => {
        const max = CONTRACT_MAX_PEERS_PER_USER;
        for (let n = 1; n <= max; n++) assert.equal((await ann(s, { n, userId: 7 })).refused, undefined);
        const before = await s.stats();
        const r = await ann(s, { n: 100, userId: 7, uploaded: 9, wantPeerIds: true });
        assert.equal(r.refused, 'peer-limit');
        assert.equal(r.isNew, true);
        assert.deepEqual(counts(r), [0, max, 0], 'counts are still returned');
        assert.equal(r.peers4.length + r.peers6.length, 0);
        assert.deepEqual(await s.stats(), before, 'nothing stored');
        // Known peers of the user keep announcing.
        assert.equal((await ann(s, { n: 1, userId: 7 })).refused, undefined);
        // The same peer id under the refused user stays refused; others are welcome.
        assert.equal((await ann(s, { n: 100, userId: 7 })).refused, 'peer-limit');
        assert.equal((await ann(s, { n: 100, userId: 8 })).refused, undefined);
        assert.equal((await ann(s, { n: 100, userId: 7, infoHash: hash('b') })).refused, undefined);
        // Nobody is handed the refused peer.
        const o = await ann(s, { n: 1, userId: 7, wantPeerIds: true });
        assert.deepEqual(selected(o).sort(), [2, 3, 100].map(idOf).sort());
        // Once one of the user's peers stops, a new one fits.
        await ann(s, { n: 2, userId: 7, event: 'stopped' });
        assert.equal((await ann(s, { n: 101, userId: 7 })).refused, undefined);
        assert.equal((await ann(s, { n: 102, userId: 7 })).refused, 'peer-limit');
        // User 0 (public mode) is not capped.
        for (let n = 200; n < 200 + 4 * max; n++) {
          assert.equal((await ann(s, { n, userId: 0, infoHash: hash('c') })).refused, undefined);
        }
        assert.deepEqual(counts((await s.scrape([hash('c')]))[0]!), [0, 4 * max, 0]);
      }));

    it('tells peers apart by user id: the same peer id under two users is two peers', () =>
      withStore(async (s) => {
        assert.equal((await ann(s, { n: 1, userId: 1 })).isNew, true);
        assert.equal((await ann(s, { n: 1, userId: 2 })).isNew, true);
        assert.equal((await ann(s, { n: 1, userId: 0 })).isNew, true);
        assert.equal((await ann(s, { n: 1, userId: 2 })).isNew, false);
        assert.equal((await s.stats()).peers, 3);
      }));

    it('expires peers on sweep and removes swarms left empty', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, now: T0 });
        await ann(s, { n: 2, now: T0 + 100, left: 0 });
        await ann(s, { n: 3, now: T0, infoHash: hash('b') });
        await ann(s, { n: 4, now: T0 + 10, infoHash: hash('b'), ip: ip6(4) });
        await ann(s, { n: 5, now: T0 + 200, infoHash: hash('c') });
        let r = await s.sweep(T0 + 50);
        assert.deepEqual(r, { expired: 3, swarmsRemoved: 1 });
        assert.deepEqual(await s.stats(), { peers: 2, seeders: 1, leechers: 1, torrents: 2, ipv4: 2, ipv6: 0 });
        const sc = await s.scrape([hash('a'), hash('b'), hash('c')]);
        assert.deepEqual(sc.map(counts), [
          [1, 0, 0],
          [0, 0, 0],
          [0, 1, 0],
        ]);
        // A peer that announced exactly at the limit stays.
        r = await s.sweep(T0 + 100);
        assert.deepEqual(r, { expired: 0, swarmsRemoved: 0 });
        const o = await ann(s, { n: 1, now: T0 + 300 });
        assert.equal(o.isNew, true, 'an expired peer comes back as new');
        r = await s.sweep(T0 + 1000);
        assert.deepEqual(r, { expired: 3, swarmsRemoved: 2 });
        assert.deepEqual(await s.stats(), { peers: 0, seeders: 0, leechers: 0, torrents: 0, ipv4: 0, ipv6: 0 });
      }));

    it('sweep removes swarms emptied by stopped', () =>
      withStore(async (s) => {
        await ann(s, { n: 1 });
        await ann(s, { n: 1, event: 'stopped' });
        assert.deepEqual(counts((await s.scrape([hash('a')]))[0]!), [0, 0, 0]);
        const r = await s.sweep(T0 - 10);
        assert.equal(r.expired, 0);
        assert.equal((await s.stats()).torrents, 0);
      }));

    it('drops a swarm with all its peers', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 5; n++) await ann(s, { n, left: n % 2, ip: n === 5 ? ip6(5) : ip4(n) });
        await ann(s, { n: 6, infoHash: hash('b') });
        await s.dropSwarm(hash('a'));
        await s.dropSwarm(hash('d'));
        assert.deepEqual(await s.stats(), { peers: 1, seeders: 0, leechers: 1, torrents: 1, ipv4: 1, ipv6: 0 });
        assert.deepEqual(counts((await s.scrape([hash('a')]))[0]!), [0, 0, 0]);
        const o = await ann(s, { n: 1 });
        assert.equal(o.isNew, true);
        assert.deepEqual(counts(o), [0, 1, 0]);
      }));

    it('scrapes in order, with zeros for unknown hashes', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, left: 0, event: 'completed' });
        await ann(s, { n: 2, infoHash: hash('b') });
        const r = await s.scrape([hash('f'), hash('a'), hash('b'), hash('e')]);
        assert.deepEqual(r, [
          { complete: 0, incomplete: 0, downloaded: 0 },
          { complete: 1, incomplete: 0, downloaded: 1 },
          { complete: 0, incomplete: 1, downloaded: 0 },
          { complete: 0, incomplete: 0, downloaded: 0 },
        ]);
        assert.deepEqual(await s.scrape([]), []);
      }));

    it('lists every swarm with forEachSwarm', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, left: 0 });
        await ann(s, { n: 2 });
        await ann(s, { n: 3, infoHash: hash('b') });
        const seen = new Map<string, [number, number, number]>();
        await s.forEachSwarm((h, c) => seen.set(h, counts(c)));
        assert.deepEqual(
          new Map([
            [hash('a'), [1, 1, 0]],
            [hash('b'), [0, 1, 0]],
          ]),
          seen,
        );
      }));

    it('keeps stats', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 10; n++) {
          await ann(s, { n, left: n <= 4 ? 0 : 1, ip: n > 7 ? ip6(n) : ip4(n), infoHash: hash(n % 2 ? 'a' : 'b') });
        }
        assert.deepEqual(await s.stats(), { peers: 10, seeders: 4, leechers: 6, torrents: 2, ipv4: 7, ipv6: 3 });
      }));

    it('hands out every peer of a big swarm over a few announces (round robin)', () =>
      withStore(async (s) => {
        for (let n = 1; n <= 100; n++) await ann(s, { n, left: n <= 40 ? 0 : 1, ip: n % 7 === 0 ? ip6(n) : ip4(n) });
        const seenByLeecher = new Set<string>();
        for (let k = 0; k < 12; k++) {
          const o = await ann(s, { n: 50, numwant: 10, wantPeerIds: true, now: T0 + k });
          const got = selected(o);
          assert.equal(got.length, 10);
          assert.equal(new Set(got).size, 10, 'no duplicates in one answer');
          assert.ok(!got.includes(idOf(50)), 'not itself');
          for (const x of got) seenByLeecher.add(x);
        }
        assert.equal(seenByLeecher.size, 99, 'a leecher saw every other peer');
        const seenBySeeder = new Set<string>();
        for (let k = 0; k < 7; k++) {
          const o = await ann(s, { n: 1, left: 0, numwant: 10, wantPeerIds: true, now: T0 + k });
          for (const x of selected(o)) seenBySeeder.add(x);
        }
        assert.equal(seenBySeeder.size, 60, 'a seeder saw every leecher');
      }));

    it('updates the address of a peer that moved', () =>
      withStore(async (s) => {
        await ann(s, { n: 1, ip: Uint8Array.of(1, 2, 3, 4), port: 1000 });
        await ann(s, { n: 2 });
        await ann(s, { n: 1, ip: Uint8Array.of(5, 6, 7, 8), port: 2000 });
        let o = await ann(s, { n: 2 });
        assert.deepEqual(list4(o.peers4), ['5.6.7.8:2000']);
        const v6 = ip6(0xabcdef);
        const m = await ann(s, { n: 1, ip: v6, port: 3000 });
        assert.equal(m.isNew, false);
        o = await ann(s, { n: 2 });
        assert.equal(o.peers4.length, 0);
        assert.deepEqual(list6(o.peers6), [`${hex(v6)}:3000`]);
        assert.deepEqual(await s.stats(), { peers: 2, seeders: 0, leechers: 2, torrents: 1, ipv4: 1, ipv6: 1 });
        await ann(s, { n: 1, ip: Uint8Array.of(9, 9, 9, 9), port: 4000 });
        o = await ann(s, { n: 2 });
        assert.deepEqual(list4(o.peers4), ['9.9.9.9:4000']);
        assert.equal(o.peers6.length, 0);
        assert.deepEqual(await s.stats(), { peers: 2, seeders: 0, leechers: 2, torrents: 1, ipv4: 2, ipv6: 0 });
      }));

    it('takes an info hash as 20 bytes or as hex (either case): one swarm, and refuses other lengths', () =>
      withStore(async (s) => {
        const bytes = new Uint8Array(Buffer.from(hash('c1'), 'hex'));
        const first = await ann(s, { n: 1, infoHash: bytes, event: 'started' });
        assert.ok(first.isNew, 'a new peer of a new swarm');
        const again = await ann(s, { n: 1, infoHash: hash('C1'), uploaded: 7 });
        assert.ok(!again.isNew, 'the same peer, found by the upper-case hex form');
        const o = await ann(s, { n: 2, infoHash: bytes, wantPeerIds: true });
        assert.deepEqual(selected(o), [idOf(1)]);
        assert.deepEqual(await s.scrape([bytes, hash('c1')]), [
          { complete: 0, incomplete: 2, downloaded: 0 },
          { complete: 0, incomplete: 2, downloaded: 0 },
        ]);
        let n = 0;
        await s.forEachSwarm((h) => {
          assert.equal(h, hash('c1'), 'listed in lowercase hex');
          n++;
        });
        assert.equal(n, 1, 'one swarm');
        await assert.rejects(async () => await s.announce(announceOf({ n: 3, infoHash: new Uint8Array(19) })), RangeError);
        assert.deepEqual(await s.scrape([new Uint8Array(21)]), [{ complete: 0, incomplete: 0, downloaded: 0 }]);
      }));

    it('keeps nothing of the arrays given: the caller may rewrite them once announce returns', () =>
      withStore(async (s) => {
        const h = new Uint8Array(Buffer.from(hash('d2'), 'hex'));
        const pid = peerId(1);
        const ip = ip4(1);
        const pending = s.announce(announceOf({ n: 1, infoHash: h, peerId: pid, ip, event: 'started' }));
        h.fill(0xee);
        pid.fill(0x41);
        ip.fill(0);
        await pending;
        const o = await ann(s, { n: 2, infoHash: hash('d2'), wantPeerIds: true });
        assert.deepEqual(selected(o), [idOf(1)], 'the peer id as it was sent');
        assert.deepEqual(list4(o.peers4), [`10.0.0.1:${10000 + 1}`], 'the address as it was sent');
        assert.deepEqual(await s.scrape([h]), [{ complete: 0, incomplete: 0, downloaded: 0 }], 'no swarm under the rewritten bytes');
      }));

    it('keeps swarms apart', () =>
      withStore(async (s) => {
        await ann(s, { n: 1 });
        await ann(s, { n: 2, infoHash: hash('b') });
        const o = await ann(s, { n: 3, infoHash: hash('b'), wantPeerIds: true });
        assert.deepEqual(selected(o), [idOf(2)]);
        assert.deepEqual(counts(o), [0, 2, 0]);
      }));
  });
}
