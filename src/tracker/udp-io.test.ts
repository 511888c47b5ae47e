/**
 * The same BEP 15 conversation against both UDP I/O paths (tracker.udp_io = "dgram" and
 * "batched"): connect, announce and scrape over IPv4 and IPv6, error answers, dropped bad
 * connection ids and malformed datagrams, answers from an async store, the response size cap,
 * and bursts larger than one native batch. The tracker service is a stub, so that what reaches
 * it (address, port, passkey) can be checked.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { UdpTracker, type UdpIo } from './udp-tracker.js';
import { BatchedUdpSocket, hugePageAdvisor, loadUdpBatch, SLOTS } from './udp-batch-io.js';
import { TrackerStats } from '../shared/metrics.js';
import { silentLogger } from '../shared/log.js';
import { ManualClock } from '../shared/clock.js';
import type { TrackerService } from '../swarm/tracker-service.js';
import { UdpTrackerClient, udpAnnouncePacket, udpConnectPacket, parseUdpReply } from '../../test/helpers/announce.js';

const PASSKEY = 'a'.repeat(32);

interface Seen {
  ip: Uint8Array;
  port: number;
  passkey: string | null;
}

/** A stub TrackerService: peers4/peers6 of `npeers` entries; sync or async (Promise) answers. */
function stubService(opts: { async: boolean; npeers: number; refuse?: Set<string> }) {
  const seen: Seen[] = [];
  const answer = <T>(v: T): T | Promise<T> => (opts.async ? new Promise((r) => setTimeout(() => r(v), 2)) : v);
  const peers4 = new Uint8Array(opts.npeers * 6).map((_, i) => i & 0xff);
  const peers6 = new Uint8Array(opts.npeers * 18).map((_, i) => (i * 7) & 0xff);
  const service = {
    announce(req: { infoHash: Uint8Array; port: number }, passkey: string | null, ip: Uint8Array) {
      seen.push({ ip: Uint8Array.from(ip), port: req.port, passkey });
      if (opts.refuse?.has(Buffer.from(req.infoHash).toString('hex'))) return answer({ ok: false, code: 'unregistered_torrent', reason: 'unregistered torrent' });
      return answer({ ok: true, interval: 1800, minInterval: 300, outcome: { complete: 7, incomplete: 3, downloaded: 0, peers4, peers6 } });
    },
    scrape(req: { infoHashes: Uint8Array[] }) {
      // Hashes starting 11 or 44 are known; a request naming a 44… hash is answered in reverse
      // order (the UDP tracker must still answer in request order). The files carry the
      // request's own values, as TrackerService's do.
      const files = req.infoHashes
        .filter((h) => h[0] === 0x11 || h[0] === 0x44)
        .map((h) => ({ infoHash: h, counts: { complete: h[0] === 0x11 ? 5 : 6, incomplete: 2, downloaded: 9 } }));
      if (files.some((f) => f.infoHash[0] === 0x44)) files.reverse();
      return answer({ ok: true, files });
    },
  };
  return { service: service as unknown as TrackerService, seen };
}

/** The (seeders, completed, leechers) triples of the first n hashes of a scrape answer. */
function scrapeCounts(raw: Buffer, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => [raw.readUInt32BE(8 + i * 12), raw.readUInt32BE(12 + i * 12), raw.readUInt32BE(16 + i * 12)]);
}

function scrapePacket(cid: bigint, tid: number, hashes: Buffer[]): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(cid, 0);
  b.writeUInt32BE(2, 8);
  b.writeUInt32BE(tid, 12);
  return Buffer.concat([b, ...hashes]);
}

const IOS: UdpIo[] = ['dgram', 'batched'];
const haveAddon = loadUdpBatch() !== null;

for (const io of IOS) {
  for (const asyncStore of [false, true]) {
    describe(`UDP tracker, io=${io}, ${asyncStore ? 'async' : 'sync'} store`, { skip: io === 'batched' && !haveAddon ? 'native addon not built' : false }, () => {
      let tracker: UdpTracker;
      let port4: number;
      let port6: number;
      let stats: TrackerStats;
      let seen: Seen[];
      const refused = randomBytes(20);
      const maxResponseBytes = 20 + 6 * 10; // room for 10 IPv4 peers, 3 IPv6 peers

      before(async () => {
        stats = new TrackerStats();
        const stub = stubService({ async: asyncStore, npeers: 40, refuse: new Set([refused.toString('hex')]) });
        seen = stub.seen;
        tracker = new UdpTracker({
          service: stub.service,
          stats,
          log: silentLogger(),
          clock: new ManualClock(Date.now()),
          connectionTtl: 300,
          maxResponseBytes,
          maxScrapeHashes: 3,
          io,
        });
        assert.equal(tracker.ioPath(), io, 'the requested I/O path is used');
        port4 = await tracker.listen('127.0.0.1', 0);
        port6 = await tracker.listen('::1', 0);
      });
      after(() => tracker.close());

      test('IPv4: connect then announce; the address, port and BEP 41 passkey reach the service; peers capped', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const r = await c.announce({ infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 10, uploaded: 0, port: 6881, urlData: `/${PASSKEY}/announce` });
          assert.equal(r.action, 'announce', `announce answered (${r.action})`);
          if (r.action !== 'announce') return;
          assert.deepEqual([r.interval, r.leechers, r.seeders], [1800, 3, 7]);
          assert.equal(r.peers.length, 60, '10 IPv4 peers fit in maxResponseBytes');
          const last = seen.at(-1)!;
          assert.deepEqual([...last.ip], [127, 0, 0, 1]);
          assert.equal(last.port, 6881);
          assert.equal(last.passkey, PASSKEY);
        } finally {
          await c.close();
        }
      });

      test('IPv6: 18-byte peers, 16-byte source address', async () => {
        const c = await UdpTrackerClient.open('::1', port6);
        try {
          const r = await c.announce({ infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 0, uploaded: 0, port: 51413 });
          assert.equal(r.action, 'announce', `announce answered (${r.action})`);
          if (r.action !== 'announce') return;
          assert.equal(r.peers.length, 3 * 18, 'IPv6 peers, capped to the datagram size');
          const last = seen.at(-1)!;
          assert.equal(last.ip.length, 16);
          assert.deepEqual([...last.ip], [...new Array<number>(15).fill(0), 1]);
          assert.equal(last.passkey, null);
        } finally {
          await c.close();
        }
      });

      test('scrape: request order, unknown hashes as zeros, capped to maxScrapeHashes', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const cid = await c.connect();
          const known = Buffer.alloc(20, 0x11);
          const hashes = [randomBytes(20), known, randomBytes(20), Buffer.from(known.map((x) => x ^ 0xff))];
          hashes[0]![0] = 0x22;
          hashes[2]![0] = 0x33;
          const r = await c.request(scrapePacket(cid, 77, hashes), 77);
          assert.equal(r.action, 'scrape', `scrape answered (${r.action})`);
          if (r.action !== 'scrape') return;
          assert.equal(r.raw.length, 8 + 3 * 12, 'three hashes answered');
          const counts = scrapeCounts(r.raw, 3);
          assert.deepEqual(counts, [
            [0, 0, 0],
            [5, 9, 2],
            [0, 0, 0],
          ]);
        } finally {
          await c.close();
        }
      });

      test('scrape: an answer in another order is put back in request order', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const cid = await c.connect();
          const hashes = [Buffer.alloc(20, 0x44), Buffer.alloc(20, 0x22), Buffer.alloc(20, 0x11)];
          const r = await c.request(scrapePacket(cid, 78, hashes), 78);
          assert.equal(r.action, 'scrape', `scrape answered (${r.action})`);
          if (r.action !== 'scrape') return;
          const counts = scrapeCounts(r.raw, 3);
          assert.deepEqual(counts, [
            [6, 9, 2],
            [0, 0, 0],
            [5, 9, 2],
          ]);
        } finally {
          await c.close();
        }
      });

      test('error answers: a refusal and a malformed announce field', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const r = await c.announce({ infoHash: refused, peerId: randomBytes(20), downloaded: 0, left: 0, uploaded: 0, port: 6881 });
          assert.equal(r.action, 'error', 'refusal answered as an error');
          if (r.action === 'error') assert.equal(r.message, 'unregistered torrent');
          const bad = await c.announce({ infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 0, uploaded: 0, port: 0 });
          assert.equal(bad.action, 'error', 'port 0 answered as an error');
          if (bad.action === 'error') assert.equal(bad.message, 'invalid port');
        } finally {
          await c.close();
        }
      });

      test('no answer to a bad connection id, garbage, an empty or an oversized datagram; the tracker keeps answering', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const cid = await c.connect();
          const before = new Map(stats.udpDropped);
          const forged = udpAnnouncePacket({ connectionId: cid ^ 1n, transactionId: 5, infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 0, uploaded: 0, port: 6881 });
          await c.sendRaw(forged);
          await c.sendRaw(Buffer.from('garbage'));
          await c.sendRaw(Buffer.alloc(0));
          // A connect header followed by junk: over the batched path's slot size, and a valid
          // connect for node:dgram (which reads only the header).
          const big = Buffer.concat([udpConnectPacket(6), randomBytes(3000)]);
          await c.sendRaw(big);
          await c.sendRaw(randomBytes(16));
          const tid = 9;
          const ok = await c.request(udpConnectPacket(tid), tid);
          assert.equal(ok.action, 'connect', 'still answering');
          const strays = c.stray.map((m) => parseUdpReply(m));
          assert.ok(!strays.some((r) => r?.transactionId === 5), 'no answer to the forged connection id');
          const grown = (k: string) => (stats.udpDropped.get(k) ?? 0) - (before.get(k) ?? 0);
          assert.equal(grown('bad_connection_id'), 1, 'forged id counted');
          const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
          assert.equal(grown('too_short'), 2, 'garbage and the empty datagram counted as short');
          assert.equal(total(stats.udpDropped) - total(before), io === 'batched' ? 5 : 4, `drops counted: ${JSON.stringify([...stats.udpDropped])}`);
          if (io === 'batched') assert.equal(grown('too_long'), 1, 'the oversized datagram is dropped');
          assert.equal(stats.udpDropped.get('internal_error') ?? 0, 0, 'no handler crashed');
        } finally {
          await c.close();
        }
      });

      test(`a burst of ${3 * SLOTS + 5} connects (several native batches) is answered in full`, async () => {
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
        const n = 3 * SLOTS + 5;
        const got = new Set<number>();
        const done = new Promise<void>((resolve) => {
          sock.on('message', (m) => {
            const r = parseUdpReply(m);
            if (r?.action === 'connect') got.add(r.transactionId);
            if (got.size === n) resolve();
          });
        });
        try {
          for (let i = 0; i < n; i++) sock.send(udpConnectPacket(1000 + i), port4, '127.0.0.1');
          await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
          assert.equal(got.size, n, 'every connect answered');
        } finally {
          await new Promise<void>((r) => sock.close(() => r()));
        }
      });

      test('random datagrams (0 to 3,000 bytes, some with a valid header) never break the handler', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          const cid = await c.connect();
          for (let i = 0; i < 300; i++) {
            const b = randomBytes(Math.floor(Math.random() * 3001));
            // Every third one carries our connection id and a real action, so that the parsers
            // past the connection-id check see random bodies too.
            if (i % 3 === 0 && b.length >= 16) {
              b.writeBigUInt64BE(cid, 0);
              b.writeUInt32BE(i % 2 === 0 ? 1 : 2, 8);
            }
            await c.sendRaw(b);
          }
          const ok = await c.request(udpConnectPacket(4242), 4242);
          assert.equal(ok.action, 'connect', 'still answering after the random datagrams');
          assert.equal(stats.udpDropped.get('internal_error') ?? 0, 0, 'no handler crashed');
        } finally {
          await c.close();
        }
      });

      test('announces in a burst, each answered to its own transaction', async () => {
        const c = await UdpTrackerClient.open('127.0.0.1', port4);
        try {
          await c.connect();
          const replies = await Promise.all(
            Array.from({ length: 100 }, () => c.announce({ infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 1, uploaded: 0, port: 7000 })),
          );
          assert.ok(replies.every((r) => r.action === 'announce'), 'every announce answered');
        } finally {
          await c.close();
        }
      });
    });
  }
}

describe('UDP I/O selection', () => {
  test('"dgram" never loads the addon path; "auto" follows the addon; close frees the port', async () => {
    const mk = (io: UdpIo) =>
      new UdpTracker({
        service: stubService({ async: false, npeers: 0 }).service,
        stats: new TrackerStats(),
        log: silentLogger(),
        clock: new ManualClock(),
        connectionTtl: 300,
        maxResponseBytes: 1200,
        maxScrapeHashes: 64,
        io,
      });
    assert.equal(mk('dgram').ioPath(), 'dgram');
    assert.equal(mk('auto').ioPath(), haveAddon ? 'batched' : 'dgram');
    if (!haveAddon) assert.throws(() => mk('batched').ioPath(), /native UDP addon is unavailable/);
    const a = mk('auto');
    const port = await a.listen('127.0.0.1', 0);
    await assert.rejects(mk('auto').listen('127.0.0.1', port), /EADDRINUSE|address already in use/i, 'a taken port is an error');
    await a.close();
    const b = mk('auto');
    assert.equal(await b.listen('127.0.0.1', port), port, 'the port is free again after close');
    await b.close();
  });

  for (const io of IOS) {
    test(`io=${io}: an answer from an async store that arrives after close is dropped quietly`, { skip: io === 'batched' && !haveAddon ? 'native addon not built' : false }, async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const stub = stubService({ async: false, npeers: 1 });
    const service = {
      announce: (...args: Parameters<TrackerService['announce']>) => gate.then(() => stub.service.announce(...args)),
      scrape: stub.service.scrape.bind(stub.service),
    } as unknown as TrackerService;
    const stats = new TrackerStats();
    const t = new UdpTracker({ service, stats, log: silentLogger(), clock: new ManualClock(Date.now()), connectionTtl: 300, maxResponseBytes: 1200, maxScrapeHashes: 64, io });
    const port = await t.listen('127.0.0.1', 0);
    const c = await UdpTrackerClient.open('127.0.0.1', port);
    try {
      const cid = await c.connect();
      await c.sendRaw(udpAnnouncePacket({ connectionId: cid, transactionId: 31, infoHash: randomBytes(20), peerId: randomBytes(20), downloaded: 0, left: 0, uploaded: 0, port: 6881 }));
      await new Promise((r) => setTimeout(r, 50));
      await t.close();
      release();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await c.countRepliesFor(100), 0, 'nothing sent after close');
      assert.equal(stats.udpDropped.get('internal_error') ?? 0, 0, 'no handler crashed');
    } finally {
      await c.close();
    }
  });
  }
});

describe('batched socket: source addresses', { skip: haveAddon ? false : 'native addon not built' }, () => {
  test('IPv4, IPv6, IPv4-mapped, link-local and unknown families', () => {
    const sock = new BatchedUdpSocket(loadUdpBatch()!, '::1', 0, true, 1200, () => {}, () => {});
    try {
      const inner = sock as unknown as { inMeta: Int32Array; inMetaBytes: Uint8Array };
      const put = (slot: number, family: number, addr: number[]) => {
        inner.inMeta[slot * 8 + 3] = family;
        inner.inMetaBytes.fill(0, slot * 32 + 16, slot * 32 + 32);
        inner.inMetaBytes.set(addr, slot * 32 + 16);
      };
      put(0, 4, [10, 1, 2, 3]);
      assert.deepEqual([...sock.sourceIp(0)!], [10, 1, 2, 3]);
      const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
      put(1, 6, v6);
      assert.deepEqual([...sock.sourceIp(1)!], v6);
      put(2, 6, [...new Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]);
      assert.deepEqual([...sock.sourceIp(2)!], [192, 0, 2, 1], 'IPv4-mapped as IPv4');
      put(3, 6, [0xfe, 0x80, ...new Array<number>(13).fill(0), 1]);
      assert.equal(sock.sourceIp(3), null, 'link-local refused');
      put(4, 0, []);
      assert.equal(sock.sourceIp(4), null, 'unknown family refused');
      const a = sock.sourceIp(0)!;
      a[0] = 99;
      assert.equal(sock.sourceIp(0)![0], 10, 'a fresh copy each time');
    } finally {
      sock.close();
    }
  });
});

test('the addon advises huge pages on the whole 2 MiB pages of a buffer, and nothing on a small one', { skip: haveAddon ? false : 'native addon not built' }, () => {
  const advise = hugePageAdvisor();
  assert.ok(advise !== null, 'the addon offers the advice');
  const big = new ArrayBuffer(16 << 20);
  const n = advise(big);
  assert.ok(n % (2 << 20) === 0 && n <= big.byteLength, `whole huge pages inside the buffer (${n})`);
  assert.ok(n >= 14 << 20 || n === 0, 'all of them, or none where the kernel has no huge pages');
  assert.equal(advise(new ArrayBuffer(4096)), 0, 'nothing in a buffer smaller than a huge page');
  // The memory is still ordinary memory.
  const v = new Uint32Array(big);
  v[v.length - 1] = 7;
  v[0] = 9;
  assert.equal(v[0]! + v[v.length - 1]!, 16);
});
