import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  maxPeersForDatagram,
  parseUdpRequest,
  udpParseScratch,
  writeAnnounceResponse,
  writeScrapeResponse,
  type UdpParseResult,
} from './packets.js';

const CID = Buffer.from('0102030405060708', 'hex');

function connectPacket(tid: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0x417, 0);
  b.writeUInt32BE(0x27101980, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(tid, 12);
  return b;
}

interface AnnounceFields {
  tid: number;
  hash: Buffer;
  peer: Buffer;
  downloaded: bigint;
  left: bigint;
  uploaded: bigint;
  event: number;
  ip: number;
  key: number;
  numwant: number;
  port: number;
  options?: Buffer;
}

const DEFAULTS: AnnounceFields = {
  tid: 0xdeadbeef,
  hash: Buffer.alloc(20, 0xab),
  peer: Buffer.from('-lt2000-abcdefghijkl'),
  downloaded: 10n,
  left: 20n,
  uploaded: 30n,
  event: 2,
  ip: 0,
  key: 0x0badf00d,
  numwant: -1,
  port: 6881,
};

function announcePacket(over: Partial<AnnounceFields> = {}): Buffer {
  const f = { ...DEFAULTS, ...over };
  const b = Buffer.alloc(98);
  CID.copy(b, 0);
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(f.tid, 12);
  f.hash.copy(b, 16);
  f.peer.copy(b, 36);
  b.writeBigUInt64BE(f.downloaded, 56);
  b.writeBigUInt64BE(f.left, 64);
  b.writeBigUInt64BE(f.uploaded, 72);
  b.writeUInt32BE(f.event, 80);
  b.writeUInt32BE(f.ip, 84);
  b.writeUInt32BE(f.key, 88);
  b.writeInt32BE(f.numwant, 92);
  b.writeUInt16BE(f.port, 96);
  return f.options ? Buffer.concat([b, f.options]) : b;
}

function scrapePacket(hashes: Buffer[], tid = 7): Buffer {
  const b = Buffer.alloc(16);
  CID.copy(b, 0);
  b.writeUInt32BE(2, 8);
  b.writeUInt32BE(tid, 12);
  return Buffer.concat([b, ...hashes]);
}

function expectKind<K extends UdpParseResult['kind']>(r: UdpParseResult, kind: K): Extract<UdpParseResult, { kind: K }> {
  assert.equal(r.kind, kind, JSON.stringify(r));
  return r as Extract<UdpParseResult, { kind: K }>;
}

void test('connect', () => {
  assert.deepEqual(parseUdpRequest(connectPacket(0x12345678)), { kind: 'connect', transactionId: 0x12345678 });
  // Longer packets are fine (BEP 15: at least 16 bytes).
  assert.equal(parseUdpRequest(Buffer.concat([connectPacket(1), Buffer.alloc(4)])).kind, 'connect');
  const bad = connectPacket(1);
  bad[7]! ^= 1;
  assert.deepEqual(parseUdpRequest(bad), { kind: 'drop', reason: 'bad_protocol_id' });
  assert.deepEqual(parseUdpRequest(connectPacket(1).subarray(0, 15)), { kind: 'drop', reason: 'too_short' });
  assert.deepEqual(parseUdpRequest(Buffer.alloc(0)), { kind: 'drop', reason: 'too_short' });
});

void test('announce: fields', () => {
  const r = expectKind(parseUdpRequest(announcePacket()), 'announce');
  assert.equal(r.transactionId, 0xdeadbeef);
  assert.equal(r.urlData, null);
  assert.deepEqual(r.request, {
    kind: 'announce',
    infoHash: new Uint8Array(20).fill(0xab),
    peerId: new Uint8Array(DEFAULTS.peer),
    port: 6881,
    uploaded: 30,
    downloaded: 10,
    left: 20,
    event: 'started',
    compact: true,
    noPeerId: false,
    numwant: null,
    key: 0x0badf00d,
    trackerId: null,
    ip: null,
  });
  const pkt = announcePacket({ ip: 0x0a000102, numwant: 50, key: 0, left: 2n ** 53n - 1n });
  const r2 = expectKind(parseUdpRequest(pkt), 'announce');
  assert.equal(r2.request.ip, '10.0.1.2');
  assert.equal(r2.request.numwant, 50);
  assert.equal(r2.request.key, 0);
  assert.equal(r2.request.left, Number.MAX_SAFE_INTEGER);
  // The peer id is a copy.
  pkt[36] = 0;
  assert.equal(r2.request.peerId[0], DEFAULTS.peer[0]);
  // With scratch arrays, the request holds them: no allocation, rewritten by the next parse.
  const scratch = udpParseScratch();
  const s1 = expectKind(parseUdpRequest(announcePacket({ hash: Buffer.alloc(20, 1), peer: Buffer.alloc(20, 2) }), undefined, scratch), 'announce');
  assert.equal(s1.request.infoHash, scratch.infoHash);
  assert.equal(s1.request.peerId, scratch.peerId);
  assert.deepEqual(scratch.infoHash, new Uint8Array(20).fill(1));
  assert.deepEqual(scratch.peerId, new Uint8Array(20).fill(2));
  const s2 = expectKind(parseUdpRequest(announcePacket({ hash: Buffer.alloc(20, 3), peer: Buffer.alloc(20, 4) }), undefined, scratch), 'announce');
  assert.equal(s2.request.infoHash, scratch.infoHash);
  assert.deepEqual(s1.request.infoHash, new Uint8Array(20).fill(3), 'the earlier request sees the new bytes');
  assert.deepEqual(s2.request.peerId, new Uint8Array(20).fill(4));
  for (const [n, e] of [
    [0, 'none'],
    [1, 'completed'],
    [2, 'started'],
    [3, 'stopped'],
    [4, 'paused'],
  ] as const) {
    assert.equal(expectKind(parseUdpRequest(announcePacket({ event: n })), 'announce').request.event, e);
  }
});

void test('announce: invalid bodies are error-sendable, in field order', () => {
  const cases: Array<[Partial<AnnounceFields>, string, string]> = [
    [{ downloaded: 2n ** 53n }, 'bad_number', 'invalid downloaded'],
    [{ left: 2n ** 64n - 1n }, 'bad_number', 'invalid left'],
    [{ uploaded: 2n ** 63n }, 'bad_number', 'invalid uploaded'],
    [{ event: 5 }, 'bad_event', 'invalid event'],
    [{ event: 0xffffffff }, 'bad_event', 'invalid event'],
    [{ port: 0 }, 'bad_port', 'invalid port'],
    [{ left: 2n ** 60n, event: 9, port: 0 }, 'bad_number', 'invalid left'],
  ];
  for (const [over, code, message] of cases) {
    assert.deepEqual(parseUdpRequest(announcePacket(over)), {
      kind: 'error-sendable',
      action: 1,
      transactionId: DEFAULTS.tid,
      code,
      message,
    });
  }
  assert.deepEqual(parseUdpRequest(announcePacket().subarray(0, 97)), { kind: 'drop', reason: 'too_short' });
});

void test('announce: BEP 41 options', () => {
  const url = (s: string) => Buffer.concat([Buffer.from([2, s.length]), Buffer.from(s, 'latin1')]);
  const opt = (...parts: Buffer[]) => expectKind(parseUdpRequest(announcePacket({ options: Buffer.concat(parts) })), 'announce').urlData;
  assert.equal(opt(url('/0123456789abcdef0123456789abcdef/announce')), '/0123456789abcdef0123456789abcdef/announce');
  assert.equal(opt(url('/abc'), Buffer.from([1, 1]), url('/announce?x=1')), '/abc/announce?x=1');
  assert.equal(opt(url('/a'), Buffer.from([0]), url('/ignored')), '/a', 'EndOfOptions stops');
  assert.equal(opt(Buffer.from([0]), url('/a')), null);
  assert.equal(opt(Buffer.from([1, 1, 1])), null);
  assert.equal(opt(url('')), '', 'an empty URL data option is still URL data');
  assert.equal(opt(Buffer.from([9, 2, 0xff, 0xff]), url('/x')), '/x', 'unknown options are skipped by length');
  assert.equal(opt(url('/x'), Buffer.from([2, 10, 0x41])), '/x', 'truncated option ignored');
  assert.equal(opt(url('/x'), Buffer.from([2])), '/x', 'missing length byte');
  assert.equal(opt(Buffer.from([2, 3]), Buffer.from([0xe9, 0x00, 0x41])), '\xe9\x00A', 'raw bytes as latin1');
});

void test('scrape', () => {
  const h = (n: number) => Buffer.alloc(20, n);
  const r = expectKind(parseUdpRequest(scrapePacket([h(1), h(2), h(1), h(3)])), 'scrape');
  assert.deepEqual(r, {
    kind: 'scrape',
    transactionId: 7,
    infoHashes: [h(1), h(2), h(3)].map((b) => new Uint8Array(b)),
    urlData: null,
  });
  // Trailing partial hash ignored; more than 74 capped.
  assert.equal(expectKind(parseUdpRequest(Buffer.concat([scrapePacket([h(1)]), Buffer.alloc(19)])), 'scrape').infoHashes.length, 1);
  const many = Array.from({ length: 80 }, (_, i) => h(i));
  const capped = expectKind(parseUdpRequest(scrapePacket(many)), 'scrape');
  assert.deepEqual(capped.infoHashes, many.slice(0, 74).map((b) => new Uint8Array(b)));
  // Copies: the datagram's memory may be reused.
  const pkt = scrapePacket([h(9)]);
  const copied = expectKind(parseUdpRequest(pkt), 'scrape');
  pkt.fill(0, 16);
  assert.deepEqual(copied.infoHashes, [new Uint8Array(h(9))]);
  assert.deepEqual(parseUdpRequest(scrapePacket([])), {
    kind: 'error-sendable',
    action: 2,
    transactionId: 7,
    code: 'missing_info_hash',
    message: 'missing info_hash',
  });
});

void test('unknown actions are dropped', () => {
  for (const action of [3, 4, 0xffffffff]) {
    const b = scrapePacket([Buffer.alloc(20)]);
    b.writeUInt32BE(action, 8);
    assert.deepEqual(parseUdpRequest(b), { kind: 'drop', reason: 'unknown_action' });
  }
});

void test('encoders', () => {
  const c = encodeConnectResponse(0xfedcba98, CID);
  assert.equal(c.toString('hex'), '00000000' + 'fedcba98' + '0102030405060708');
  assert.throws(() => encodeConnectResponse(1, Buffer.alloc(7)), TypeError);

  const peers = Buffer.from([1, 2, 3, 4, 0x1a, 0xe1, 5, 6, 7, 8, 0, 80]);
  const a = encodeAnnounceResponse(9, 1800, 3, 4, peers);
  assert.equal(a.toString('hex'), '00000001' + '00000009' + '00000708' + '00000003' + '00000004' + peers.toString('hex'));
  const clamped = encodeAnnounceResponse(-1, 2 ** 40, -5, Number.NaN, new Uint8Array(0));
  assert.equal(clamped.toString('hex'), '00000001' + 'ffffffff' + 'ffffffff' + '00000000' + '00000000');

  const s = encodeScrapeResponse(5, [
    { complete: 1, downloaded: 2, incomplete: 3 },
    { complete: 4, downloaded: 5, incomplete: 6 },
  ]);
  assert.equal(s.toString('hex'), '00000002' + '00000005' + '000000010000000200000003' + '000000040000000500000006');
  assert.equal(encodeScrapeResponse(5, []).length, 8);

  const e = encodeErrorResponse(3, 'unregistered torrent é');
  assert.equal(e.readUInt32BE(0), 3);
  assert.equal(e.readUInt32BE(4), 3);
  assert.equal(e.subarray(8).toString('utf8'), 'unregistered torrent é');
});

void test('in-place writers: the bytes of the encoders, at an offset, never past the room', () => {
  const peers = Buffer.from([1, 2, 3, 4, 0x1a, 0xe1]);
  const out = Buffer.alloc(64, 0xee);
  assert.equal(writeAnnounceResponse(out, 10, 9, 1800, 3, 4, peers), 26);
  assert.deepEqual(out.subarray(10, 36), encodeAnnounceResponse(9, 1800, 3, 4, peers));
  assert.equal(out[9], 0xee, 'nothing written before the offset');
  assert.equal(out[36], 0xee, 'nothing written after the answer');
  assert.throws(() => writeAnnounceResponse(out, 39, 9, 1800, 3, 4, peers), RangeError, 'one byte short');
  assert.equal(writeAnnounceResponse(out, 38, 9, 1800, 3, 4, peers), 26, 'exactly enough room');
  assert.throws(() => writeAnnounceResponse(out, -1, 9, 1800, 3, 4, peers), RangeError);

  const counts = [
    { complete: 1, downloaded: 2, incomplete: 3 },
    { complete: -4, downloaded: 2 ** 40, incomplete: Number.NaN },
  ];
  const sb = Buffer.alloc(40, 0xee);
  assert.equal(writeScrapeResponse(sb, 3, 5, counts), 32);
  assert.deepEqual(sb.subarray(3, 35), encodeScrapeResponse(5, counts));
  assert.equal(sb[35], 0xee);
  assert.throws(() => writeScrapeResponse(sb, 9, 5, counts), RangeError);
});

void test('a datagram given by its length inside a larger receive slot parses as the datagram alone', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }), fc.constantFrom(0, 1, 2), (bytes, tail, action) => {
      const b = Buffer.from(bytes);
      if (b.length >= 12) b.writeUInt32BE(action, 8);
      const slot = Buffer.concat([b, Buffer.from(tail)]);
      assert.deepEqual(parseUdpRequest(slot, b.length), parseUdpRequest(b));
    }),
    { numRuns: 2000 },
  );
  // A real announce followed by stale bytes of a longer datagram: the stale bytes are not options.
  const pkt = announcePacket();
  const stale = Buffer.concat([pkt, Buffer.from([2, 4, 0x2f, 0x61, 0x62, 0x63])]);
  assert.equal(expectKind(parseUdpRequest(stale, pkt.length), 'announce').urlData, null);
  assert.equal(expectKind(parseUdpRequest(stale), 'announce').urlData, '/abc');
  // A length past the buffer is the buffer's.
  assert.equal(expectKind(parseUdpRequest(pkt, 5000), 'announce').transactionId, DEFAULTS.tid);
  assert.deepEqual(parseUdpRequest(pkt, 15), { kind: 'drop', reason: 'too_short' });
  assert.deepEqual(parseUdpRequest(pkt, -1), { kind: 'drop', reason: 'too_short' });
});

void test('maxPeersForDatagram', () => {
  assert.equal(maxPeersForDatagram(1200, 6), 196);
  assert.equal(maxPeersForDatagram(1200, 18), 65);
  assert.equal(maxPeersForDatagram(26, 6), 1);
  assert.equal(maxPeersForDatagram(25, 6), 0);
  assert.equal(maxPeersForDatagram(10, 6), 0);
  assert.equal(maxPeersForDatagram(1200, 0), 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65507 }), fc.constantFrom(6, 18), (max, size) => {
      const n = maxPeersForDatagram(max, size);
      const len = encodeAnnounceResponse(1, 1, 1, 1, new Uint8Array(n * size)).length;
      assert.ok(n === 0 || len <= max);
      assert.ok(20 + (n + 1) * size > max, 'as many as fit');
    }),
  );
});

void test('property: arbitrary datagrams never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 1, 2, 3, 7), fc.boolean(), (bytes, action, setAction) => {
      const b = Buffer.from(bytes);
      if (setAction && b.length >= 12) b.writeUInt32BE(action, 8);
      const r = parseUdpRequest(b);
      assert.ok(['connect', 'announce', 'scrape', 'error-sendable', 'drop'].includes(r.kind));
    }),
    { numRuns: 3000 },
  );
});

void test('property: announce packets round trip', () => {
  const u53 = fc.bigInt({ min: 0n, max: 2n ** 53n - 1n });
  fc.assert(
    fc.property(
      fc.record({
        tid: fc.integer({ min: 0, max: 0xffffffff }),
        hash: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((u) => Buffer.from(u)),
        peer: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((u) => Buffer.from(u)),
        downloaded: u53,
        left: u53,
        uploaded: u53,
        event: fc.integer({ min: 0, max: 4 }),
        ip: fc.integer({ min: 0, max: 0xffffffff }),
        key: fc.integer({ min: 0, max: 0xffffffff }),
        numwant: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        port: fc.integer({ min: 1, max: 65535 }),
        options: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
      }),
      (f) => {
        const r = expectKind(parseUdpRequest(announcePacket(f)), 'announce');
        assert.equal(r.transactionId, f.tid);
        assert.deepEqual(r.request, {
          kind: 'announce',
          infoHash: new Uint8Array(f.hash),
          peerId: new Uint8Array(f.peer),
          port: f.port,
          uploaded: Number(f.uploaded),
          downloaded: Number(f.downloaded),
          left: Number(f.left),
          event: ['none', 'completed', 'started', 'stopped', 'paused'][f.event],
          compact: true,
          noPeerId: false,
          numwant: f.numwant < 0 ? null : f.numwant,
          key: f.key,
          trackerId: null,
          ip: f.ip === 0 ? null : [f.ip >>> 24, (f.ip >>> 16) & 255, (f.ip >>> 8) & 255, f.ip & 255].join('.'),
        });
      },
    ),
    { numRuns: 500 },
  );
});
