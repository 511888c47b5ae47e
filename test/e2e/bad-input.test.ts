/**
 * Hostile and broken input against a running Essaim (private mode), end to end over real sockets:
 *
 * - HTTP: each malformed announce gets HTTP 200 with a bencoded `failure reason` naming the
 *   problem (missing or 19-byte info_hash, missing peer_id, bad port, an uploaded value beyond
 *   64 bits, bad percent-encoding, no / unknown / malformed passkey, unregistered torrent, bad
 *   event...), and the process stays up; a garbage request line gets a 400 or a closed
 *   connection, nothing worse.
 * - UDP: garbage datagrams (random bytes, short packets, a valid-looking announce or scrape with a
 *   wrong connection id, a connect with a wrong protocol id) get NO answer at all (BEP 15: never
 *   answer an address that has not proven it receives our packets), and a valid connect +
 *   announce interleaved with the garbage, from the same socket, still works.
 *
 * Replies are decoded with the test's own bdecode (test/helpers/bencode.ts), not Essaim's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Essaim, essaimUnavailable } from '../helpers/essaim.js';
import {
  buildQuery,
  httpGetRaw,
  percentEncodeAll,
  udpAnnouncePacket,
  udpConnectPacket,
  UdpTrackerClient,
  type HttpReply,
} from '../helpers/announce.js';
import { dictInt } from '../helpers/bencode.js';
import { Rng, testSeed } from '../helpers/random.js';

const NO_REPLY_WAIT_MS = 1_500;

test('malformed HTTP announces get a named failure reason; UDP garbage gets no answer', { timeout: 120_000 }, async (t) => {
  const why = essaimUnavailable();
  if (why) return t.skip(why);
  const rng = new Rng(testSeed());
  const e = await Essaim.create(t, { mode: 'private' });
  await e.migrate();
  const alice = await e.createUser('alice');
  const infoHash = rng.bytes(20);
  const unregistered = rng.bytes(20);
  await e.registerTorrent(infoHash.toString('hex'), 'bad-input');
  await e.start();

  const peerId = Buffer.concat([Buffer.from('-XX0001-'), rng.bytes(12)]);
  const valid = { info_hash: infoHash, peer_id: peerId, port: 6881, uploaded: 0, downloaded: 0, left: 1000, compact: 1 } as const;
  const path = (q: string, passkey: string | null = alice.passkey) => `${passkey === null ? '' : `/${passkey}`}/announce?${q}`;
  const get = (p: string): Promise<HttpReply> => httpGetRaw('127.0.0.1', e.httpPort, p, 5_000);
  const stillUp = async (after: string) => {
    assert.ok(e.running, `Essaim died after: ${after}\n${e.output().slice(-6000)}`);
    const res = await fetch(`http://127.0.0.1:${e.webPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
    assert.equal(res.status, 200, `healthz after: ${after}`);
  };

  await t.test('a valid announce is accepted (sanity)', async () => {
    const r = await get(path(buildQuery({ ...valid, event: 'started' })));
    assert.equal(r.status, 200);
    assert.equal(r.failure, null, `unexpected failure: ${r.failure}`);
    assert.ok(r.dict && dictInt(r.dict, 'interval')! > 0, 'interval in the reply');
  });

  const q = (over: Record<string, string | number | Uint8Array | undefined>) => buildQuery({ ...valid, ...over });
  const cases: { name: string; path: string; expect: RegExp }[] = [
    { name: 'missing info_hash', path: path(q({ info_hash: undefined })), expect: /info_hash/i },
    { name: 'info_hash of 19 bytes', path: path(q({ info_hash: infoHash.subarray(0, 19) })), expect: /info_hash/i },
    { name: 'info_hash of 21 bytes', path: path(q({ info_hash: Buffer.concat([infoHash, Buffer.from([0])]) })), expect: /info_hash/i },
    { name: 'missing peer_id', path: path(q({ peer_id: undefined })), expect: /peer_id/i },
    { name: 'peer_id of 5 bytes', path: path(q({ peer_id: Buffer.from('short') })), expect: /peer_id/i },
    { name: 'missing port', path: path(q({ port: undefined })), expect: /port/i },
    { name: 'port not a number', path: path(q({ port: 'abc' })), expect: /port/i },
    { name: 'port 70000', path: path(q({ port: 70000 })), expect: /port/i },
    { name: 'port -1', path: path(q({ port: -1 })), expect: /port/i },
    { name: 'uploaded=99999999999999999999', path: path(q({ uploaded: '99999999999999999999' })), expect: /uploaded/i },
    { name: 'downloaded=-5', path: path(q({ downloaded: -5 })), expect: /downloaded/i },
    { name: 'left=abc', path: path(q({ left: 'abc' })), expect: /left/i },
    { name: 'event=bogus', path: path(q({ event: 'bogus' })), expect: /event/i },
    {
      name: 'bad percent-encoding (%zz) in info_hash',
      path: path(`info_hash=%zz${percentEncodeAll(infoHash.subarray(1))}&peer_id=${percentEncodeAll(peerId)}&port=6881&uploaded=0&downloaded=0&left=0`),
      expect: /percent|encod/i,
    },
    {
      name: 'bad percent-encoding (truncated %4) in peer_id',
      path: path(`info_hash=${percentEncodeAll(infoHash)}&peer_id=${percentEncodeAll(peerId.subarray(0, 19))}%4&port=6881&uploaded=0&downloaded=0&left=0`),
      expect: /percent|encod/i,
    },
    { name: 'no passkey in the URL', path: path(q({}), null), expect: /passkey/i },
    { name: 'unknown passkey', path: path(q({}), rng.bytes(16).toString('hex')), expect: /passkey/i },
    { name: 'malformed passkey', path: path(q({}), 'not-a-passkey'), expect: /passkey/i },
    { name: 'valid passkey, unregistered torrent', path: path(q({ info_hash: unregistered })), expect: /^Unregistered torrent/ },
  ];
  for (const c of cases) {
    await t.test(`HTTP: ${c.name}`, async () => {
      const r = await get(c.path);
      assert.equal(r.status, 200, `HTTP status for ${c.name}: body ${r.body.subarray(0, 200).toString('latin1')}`);
      assert.ok(r.dict, `reply must be a bencoded dictionary (${r.decodeError}): ${r.body.subarray(0, 200).toString('latin1')}`);
      assert.equal(typeof r.failure, 'string', `reply must carry a failure reason: ${r.body.subarray(0, 200).toString('latin1')}`);
      assert.match(r.failure!, c.expect, `failure reason for ${c.name}`);
      await stillUp(c.name);
    });
  }

  await t.test('HTTP: garbage instead of a request line gets a 400 or a closed connection', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(e.httpPort, '127.0.0.1');
      let data = '';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('no reply nor close within 5 s'));
      }, 5_000);
      s.on('data', (d: Buffer) => (data += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
      s.write(Buffer.concat([rng.bytes(300), Buffer.from('\r\n\r\n')]));
    });
    assert.ok(reply === '' || /^HTTP\/1\.[01] 4\d\d/.test(reply), `unexpected reply: ${reply.slice(0, 200)}`);
    await stillUp('garbage request line');
  });

  await t.test('UDP: garbage gets no answer; a valid connect + announce interleaved with it works', async () => {
    const dropped0 = await e.metric('essaim_tracker_udp_dropped_total');
    const garbageOnly = await UdpTrackerClient.open('127.0.0.1', e.udpPort);
    const good = await UdpTrackerClient.open('127.0.0.1', e.udpPort);
    t.after(() => garbageOnly.close());
    t.after(() => good.close());
    const wrongCid = rng.bytes(8).readBigUInt64BE(0);
    const garbage: { name: string; packet: Buffer }[] = [
      { name: 'empty datagram', packet: Buffer.alloc(0) },
      { name: '1 byte', packet: rng.bytes(1) },
      { name: '7 bytes', packet: rng.bytes(7) },
      { name: '15 bytes', packet: rng.bytes(15) },
      { name: 'connect with a wrong protocol id', packet: Buffer.concat([rng.bytes(8), Buffer.from([0, 0, 0, 0]), rng.bytes(4)]) },
      { name: 'connect packet cut to 12 bytes', packet: udpConnectPacket(rng.next()).subarray(0, 12) },
      {
        name: 'valid-looking announce with a wrong connection id',
        packet: udpAnnouncePacket({
          connectionId: wrongCid,
          transactionId: rng.next(),
          infoHash,
          peerId,
          downloaded: 0,
          left: 100,
          uploaded: 0,
          event: 'started',
          port: 6882,
          urlData: `/${alice.passkey}/announce`,
        }),
      },
      {
        name: 'scrape with a wrong connection id',
        packet: (() => {
          const b = Buffer.alloc(36);
          b.writeBigUInt64BE(wrongCid, 0);
          b.writeUInt32BE(2, 8);
          b.writeUInt32BE(rng.next(), 12);
          infoHash.copy(b, 16);
          return b;
        })(),
      },
      {
        name: 'error-action packet with a wrong connection id',
        packet: Buffer.concat([rng.bytes(8), Buffer.from([0, 0, 0, 3]), rng.bytes(4), Buffer.from('hello')]),
      },
      {
        name: 'unknown action 99 with a wrong connection id',
        packet: Buffer.concat([rng.bytes(8), Buffer.from([0, 0, 0, 99]), rng.bytes(4), rng.bytes(90)]),
      },
      ...Array.from({ length: 20 }, (_, i) => ({ name: `random ${i}`, packet: rng.bytes(rng.int(1, 1400)) })),
    ];
    const sendGarbage = async (from: UdpTrackerClient, n: number) => {
      for (let i = 0; i < n; i++) {
        const g = garbage[rng.int(0, garbage.length - 1)]!;
        await from.sendRaw(g.packet);
      }
    };

    // Every kind once from the garbage-only socket.
    for (const g of garbage) await garbageOnly.sendRaw(g.packet);
    // Interleaved on the good socket: garbage, connect, garbage, announce, garbage.
    await sendGarbage(good, 10);
    const cid = await good.connect({ timeoutMs: 1_000, tries: 3 });
    await sendGarbage(good, 10);
    await sendGarbage(garbageOnly, 10);
    const ann = await good.announce(
      { infoHash, peerId, downloaded: 0, left: 100, uploaded: 0, event: 'started', port: 6883, numwant: 10, urlData: `/${alice.passkey}/announce` },
      { timeoutMs: 1_000, tries: 3 },
    );
    assert.equal(ann.action, 'announce', `valid UDP announce: ${JSON.stringify(ann, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    if (ann.action === 'announce') assert.ok(ann.interval > 0);
    await sendGarbage(good, 10);
    // A wrong connection id from the very address that holds a valid one: still no answer.
    await good.sendRaw(
      udpAnnouncePacket({ connectionId: cid ^ 0xffn, transactionId: rng.next(), infoHash, peerId, downloaded: 0, left: 50, uploaded: 0, port: 6883, urlData: `/${alice.passkey}/announce` }),
    );

    const [fromGarbage, strayOnGood] = await Promise.all([garbageOnly.countRepliesFor(NO_REPLY_WAIT_MS), good.countRepliesFor(NO_REPLY_WAIT_MS)]);
    assert.equal(garbageOnly.received, 0, `garbage-only socket got ${garbageOnly.received} datagrams (last wait: ${fromGarbage})`);
    assert.equal(strayOnGood, 0, 'no late answers on the good socket');
    assert.deepEqual(good.stray.map((b) => b.toString('hex')), [], 'the good socket got only the answers to its own requests');

    // Still serving after all of it.
    const again = await good.announce(
      { infoHash, peerId, downloaded: 10, left: 90, uploaded: 5, port: 6883, numwant: 10, urlData: `/${alice.passkey}/announce` },
      { timeoutMs: 1_000, tries: 3 },
    );
    assert.equal(again.action, 'announce');
    const dropped1 = await e.metric('essaim_tracker_udp_dropped_total');
    if (dropped0 !== null && dropped1 !== null) assert.ok(dropped1 > dropped0, `udp dropped counter ${dropped0} -> ${dropped1}`);
    await stillUp('UDP garbage');
  });
});
