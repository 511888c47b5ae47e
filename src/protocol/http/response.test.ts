import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bdecode, type BDict, type BValue } from '../bencode.js';
import {
  HTTP_HEAD,
  encodeAnnounceResponse,
  encodeAnnounceResponseDict,
  encodeFailure,
  encodeScrapeResponse,
  httpResponse,
  HTTP_HEAD_MAX,
  writeHttpHead,
} from './response.js';

/** Decodes strictly (canonical: sorted keys, no trailing bytes) and returns the top dict. */
function decodeDict(buf: Buffer): BDict {
  const r = bdecode(buf, { strict: true });
  if (!r.ok) assert.fail(`not canonical bencode: ${r.error}: ${buf.toString('latin1')}`);
  assert.ok(r.value instanceof Map);
  return r.value;
}

const bytes = (v: BValue | undefined): string => {
  assert.ok(Buffer.isBuffer(v), 'expected a byte string');
  return v.toString('latin1');
};

void test('compact announce: exact bytes', () => {
  const peers4 = Buffer.from([10, 0, 0, 1, 0x1a, 0xe1]);
  const buf = encodeAnnounceResponse({ interval: 1800, minInterval: 900, complete: 3, incomplete: 0, peers4, peers6: new Uint8Array(0) });
  assert.equal(buf.toString('latin1'), 'd8:completei3e10:incompletei0e8:intervali1800e12:min intervali900e5:peers6:\x0a\x00\x00\x01\x1a\xe1e');
});

void test('compact announce: every optional field, in sorted order', () => {
  const peers6 = Buffer.alloc(36, 0xab);
  const buf = encodeAnnounceResponse({
    interval: 60,
    minInterval: 30,
    complete: 12345,
    incomplete: 7,
    downloaded: 0,
    peers4: new Uint8Array(0),
    peers6,
    warning: 'attention: é',
    trackerId: 'tid',
  });
  const d = decodeDict(buf);
  assert.deepEqual([...d.keys()], ['complete', 'downloaded', 'incomplete', 'interval', 'min interval', 'peers', 'peers6', 'tracker id', 'warning message']);
  assert.equal(d.get('complete'), 12345);
  assert.equal(d.get('downloaded'), 0);
  assert.equal(d.get('incomplete'), 7);
  assert.equal(d.get('interval'), 60);
  assert.equal(d.get('min interval'), 30);
  assert.equal(bytes(d.get('peers')), '');
  assert.deepEqual(d.get('peers6'), peers6);
  assert.equal(bytes(d.get('tracker id')), 'tid');
  assert.equal((d.get('warning message') as Buffer).toString('utf8'), 'attention: é');
  // Empty strings and undefined are omitted.
  const minimal = decodeDict(encodeAnnounceResponse({ interval: 1, complete: 0, incomplete: 0, peers4: new Uint8Array(0), peers6: new Uint8Array(0), warning: '', trackerId: '' }));
  assert.deepEqual([...minimal.keys()], ['complete', 'incomplete', 'interval', 'peers']);
});

void test('encoders reject counts that are not safe integers', () => {
  const base = { interval: 60, complete: 1, incomplete: 1, peers4: new Uint8Array(0), peers6: new Uint8Array(0) };
  assert.throws(() => encodeAnnounceResponse({ ...base, complete: 1.5 }), RangeError);
  assert.throws(() => encodeAnnounceResponse({ ...base, interval: Number.NaN }), RangeError);
  assert.throws(() => encodeAnnounceResponse({ ...base, downloaded: 2 ** 60 }), RangeError);
  assert.throws(() => encodeAnnounceResponseDict({ ...base, peers: [{ ip: '1.2.3.4', port: 0.5 }] }), RangeError);
  assert.throws(() => encodeScrapeResponse([{ infoHash: 'zz', complete: 0, downloaded: 0, incomplete: 0 }]), TypeError);
  assert.throws(() => encodeScrapeResponse([{ infoHash: new Uint8Array(19), complete: 0, downloaded: 0, incomplete: 0 }]), TypeError);
  assert.throws(() => encodeFailure('x', 1.5), RangeError);
  assert.throws(() => HTTP_HEAD(42, 0, true), RangeError);
});

void test('dictionary-model announce', () => {
  const id = Buffer.from('-TR3000-abcdefghijkl');
  const buf = encodeAnnounceResponseDict({
    interval: 1800,
    minInterval: 900,
    complete: 1,
    incomplete: 2,
    downloaded: 3,
    peers: [
      { ip: '10.0.0.1', port: 6881, peerId: id },
      { ip: '2001:db8::1', port: 1 },
    ],
    warning: 'w',
  });
  const d = decodeDict(buf);
  assert.deepEqual([...d.keys()], ['complete', 'downloaded', 'incomplete', 'interval', 'min interval', 'peers', 'warning message']);
  const peers = d.get('peers') as BValue[];
  assert.equal(peers.length, 2);
  const p0 = peers[0] as BDict;
  assert.deepEqual([...p0.keys()], ['ip', 'peer id', 'port']);
  assert.equal(bytes(p0.get('ip')), '10.0.0.1');
  assert.deepEqual(p0.get('peer id'), id);
  assert.equal(p0.get('port'), 6881);
  const p1 = peers[1] as BDict;
  assert.deepEqual([...p1.keys()], ['ip', 'port'], 'no peer id when not given');
  assert.equal(bytes(p1.get('ip')), '2001:db8::1');
  const empty = decodeDict(encodeAnnounceResponseDict({ interval: 1, complete: 0, incomplete: 0, peers: [] }));
  assert.deepEqual(empty.get('peers'), []);
});

void test('failure', () => {
  assert.equal(encodeFailure('invalid info_hash').toString(), 'd14:failure reason17:invalid info_hashe');
  assert.equal(encodeFailure('').toString(), 'd14:failure reason0:e');
  assert.equal(encodeFailure('é').toString('latin1'), 'd14:failure reason2:\xc3\xa9e');
  assert.equal(encodeFailure('slow down', 5).toString(), 'd14:failure reason9:slow down8:retry ini5ee');
  assert.equal(encodeFailure('banned', 'never').toString(), 'd14:failure reason6:banned8:retry in5:nevere');
  decodeDict(encodeFailure('x', 'never'));
});

void test('scrape: keyed by raw hashes, sorted, deduplicated, flags', () => {
  const hi = 'ff'.repeat(20);
  const lo = Buffer.alloc(20, 0x01);
  const buf = encodeScrapeResponse(
    [
      { infoHash: hi.toUpperCase(), complete: 1, downloaded: 2, incomplete: 3 },
      { infoHash: new Uint8Array(lo), complete: 4, downloaded: 5, incomplete: 6, downloaders: 2 },
      { infoHash: hi, complete: 9, downloaded: 9, incomplete: 9 },
    ],
    { minRequestInterval: 600 },
  );
  const d = decodeDict(buf);
  assert.deepEqual([...d.keys()], ['files', 'flags']);
  const files = d.get('files') as BDict;
  assert.deepEqual([...files.keys()], [lo.toString('latin1'), Buffer.from(hi, 'hex').toString('latin1')]);
  const a = files.get(lo.toString('latin1')) as BDict;
  assert.deepEqual(Object.fromEntries(a), { complete: 4, downloaded: 5, downloaders: 2, incomplete: 6 });
  const b = files.get(Buffer.from(hi, 'hex').toString('latin1')) as BDict;
  assert.deepEqual(Object.fromEntries(b), { complete: 1, downloaded: 2, incomplete: 3 }, 'first of a repeated hash wins');
  assert.deepEqual(Object.fromEntries(d.get('flags') as BDict), { min_request_interval: 600 });
  assert.equal(encodeScrapeResponse([]).toString(), 'd5:filesdee');
});

void test('HTTP heads', () => {
  assert.equal(
    HTTP_HEAD(200, 42, true).toString(),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 42\r\nConnection: keep-alive\r\n\r\n',
  );
  assert.equal(
    HTTP_HEAD(431, 0, false).toString(),
    'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  );
  assert.match(HTTP_HEAD(299, 0, false).toString(), /^HTTP\/1\.1 299 Unknown\r\n/);
  const body = encodeFailure('nope');
  const full = httpResponse(200, body, false);
  assert.deepEqual(full, Buffer.concat([HTTP_HEAD(200, body.length, false), body]));
});

void test('property: announce responses are canonical bencode carrying the inputs', () => {
  const count = fc.nat({ max: 10_000_000 });
  fc.assert(
    fc.property(
      fc.record({
        interval: count,
        minInterval: fc.option(count, { nil: undefined }),
        complete: count,
        incomplete: count,
        downloaded: fc.option(count, { nil: undefined }),
        warning: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
        trackerId: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
        n4: fc.nat(20),
        n6: fc.nat(5),
        ips: fc.array(fc.tuple(fc.ipV4(), fc.nat(65535), fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined })), { maxLength: 10 }),
      }),
      (r) => {
        const peers4 = Buffer.alloc(r.n4 * 6, 7);
        const peers6 = Buffer.alloc(r.n6 * 18, 9);
        const d = decodeDict(encodeAnnounceResponse({ ...r, peers4, peers6 }));
        const check = (x: BDict) => {
          assert.equal(x.get('interval'), r.interval);
          assert.equal(x.get('min interval'), r.minInterval);
          assert.equal(x.get('complete'), r.complete);
          assert.equal(x.get('incomplete'), r.incomplete);
          assert.equal(x.get('downloaded'), r.downloaded);
          assert.equal((x.get('warning message') as Buffer | undefined)?.toString('utf8'), r.warning || undefined);
          assert.equal((x.get('tracker id') as Buffer | undefined)?.toString('utf8'), r.trackerId || undefined);
        };
        check(d);
        assert.deepEqual(d.get('peers'), peers4);
        assert.deepEqual(d.get('peers6'), r.n6 > 0 ? peers6 : undefined);
        const peers = r.ips.map(([ip, port, id]) => (id === undefined ? { ip, port } : { ip, port, peerId: id }));
        const dd = decodeDict(encodeAnnounceResponseDict({ ...r, peers }));
        check(dd);
        const list = dd.get('peers') as BDict[];
        assert.deepEqual(
          list.map((p) => ({ ip: bytes(p.get('ip')), port: p.get('port'), id: (p.get('peer id') as Buffer | undefined)?.toString('hex') })),
          r.ips.map(([ip, port, id]) => ({ ip, port, id: id === undefined ? undefined : Buffer.from(id).toString('hex') })),
        );
      },
    ),
    { numRuns: 500 },
  );
});

void test('property: scrape responses decode to the distinct inputs', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ h: fc.uint8Array({ minLength: 20, maxLength: 20 }), c: fc.nat(), d: fc.nat(), i: fc.nat(), asHex: fc.boolean() }), { maxLength: 20 }),
      (files) => {
        const buf = encodeScrapeResponse(files.map((f) => ({ infoHash: f.asHex ? Buffer.from(f.h).toString('hex') : f.h, complete: f.c, downloaded: f.d, incomplete: f.i })));
        const got = decodeDict(buf).get('files') as BDict;
        const want = new Map<string, object>();
        for (const f of files) {
          const k = Buffer.from(f.h).toString('latin1');
          if (!want.has(k)) want.set(k, { complete: f.c, downloaded: f.d, incomplete: f.i });
        }
        assert.equal(got.size, want.size);
        for (const [k, v] of want) assert.deepEqual(Object.fromEntries(got.get(k) as BDict), v);
      },
    ),
    { numRuns: 300 },
  );
});

void test('writeHttpHead writes the bytes of HTTP_HEAD in place, within HTTP_HEAD_MAX', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(200, 400, 404, 405, 413, 414, 431, 503, 505, 299),
      fc.oneof(fc.constantFrom(0, 1, 9, 10, 99, 100), fc.nat(), fc.constant(9_999_999_999)),
      fc.boolean(),
      fc.nat(64),
      (status, len, keepAlive, off) => {
        const out = new Uint8Array(off + HTTP_HEAD_MAX).fill(0xee);
        const end = writeHttpHead(out, off, status, len, keepAlive);
        const want = HTTP_HEAD(status, len, keepAlive);
        assert.deepEqual(Buffer.from(out.subarray(off, end)), want);
        assert.ok(end - off <= HTTP_HEAD_MAX, `head of ${end - off} bytes`);
        assert.ok(out.subarray(0, off).every((b) => b === 0xee), 'nothing written before the offset');
      },
    ),
  );
  assert.throws(() => writeHttpHead(new Uint8Array(HTTP_HEAD_MAX), 0, 200, 1.5, true), RangeError);
});
