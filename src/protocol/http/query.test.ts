import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAnnounceQuery, parseScrapeQuery } from './query.js';
import type { AnnounceRequest, ProtocolError } from '../types.js';

const HASH = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');
const PEER = Buffer.from('-qB4600-abcdefghijkl', 'latin1');
const pct = (b: Uint8Array): string => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');
const BASE = `info_hash=${pct(HASH)}&peer_id=${pct(PEER)}&port=6881`;

function announce(q: string): AnnounceRequest {
  const r = parseAnnounceQuery(q);
  if (r.kind !== 'announce') assert.fail(`expected announce, got ${JSON.stringify(r)}`);
  return r;
}

function announceErr(q: string): Omit<ProtocolError, 'kind'> {
  const r = parseAnnounceQuery(q);
  if (r.kind !== 'error') assert.fail(`expected an error for ${q}`);
  return { code: r.code, message: r.message };
}

void test('announce: a full query', () => {
  const r = announce(
    `${BASE}&uploaded=10&downloaded=20&left=30&event=started&compact=1&no_peer_id=1&numwant=50&key=ab+c%21&trackerid=t1&ip=10.0.0.1&supportcrypto=1`,
  );
  assert.deepEqual(r, {
    kind: 'announce',
    infoHash: new Uint8Array(HASH),
    peerId: PEER,
    port: 6881,
    uploaded: 10,
    downloaded: 20,
    left: 30,
    event: 'started',
    compact: true,
    noPeerId: true,
    numwant: 50,
    key: 'ab c!',
    trackerId: 't1',
    ip: '10.0.0.1',
  });
  assert.ok(Buffer.isBuffer(r.peerId) && r.peerId.buffer.byteLength === 20, 'peer id is a standalone allocation');
});

void test('announce: defaults', () => {
  assert.deepEqual(announce(BASE), {
    kind: 'announce',
    infoHash: new Uint8Array(HASH),
    peerId: PEER,
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'none',
    compact: true,
    noPeerId: false,
    numwant: null,
    key: null,
    trackerId: null,
    ip: null,
  });
});

void test('announce: literal bytes, case of escapes, + in binary params', () => {
  const hash = Buffer.from('++++++++++++++++++++', 'latin1');
  const r = announce(`info_hash=${hash.toString('latin1')}&peer_id=${PEER.toString('latin1')}&port=1`);
  assert.deepEqual(r.infoHash, new Uint8Array(hash));
  assert.deepEqual(r.peerId, PEER);
  const raw = Buffer.from([0, 1, 2, 0x80, 0xff, 0x20, 0x3d, 0x3f, 0x23, 0x7f, 10, 13, 9, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x41]);
  const mixed = [...raw].map((b, i) => (i % 2 === 0 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');
  const r2 = announce(`peer_id=${PEER.toString('latin1')}&port=1&info_hash=${mixed}`);
  assert.deepEqual(r2.infoHash, new Uint8Array(raw));
});

void test('announce: numbers', () => {
  assert.equal(announce(`${BASE}&left=9007199254740991`).left, Number.MAX_SAFE_INTEGER);
  assert.equal(announce(`${BASE}&uploaded=000123`).uploaded, 123);
  assert.equal(announce(`${BASE}&downloaded=%31%32`).downloaded, 12);
  for (const [name, bad] of [
    ['uploaded', '-1'],
    ['uploaded', '9007199254740992'],
    ['downloaded', '1.5'],
    ['downloaded', ''],
    ['left', '+1'],
    ['left', '1e3'],
    ['left', '0x10'],
    ['left', '1'.repeat(33)],
  ]) {
    assert.deepEqual(announceErr(`${BASE}&${name}=${bad}`), { code: 'bad_number', message: `invalid ${name}` }, `${name}=${bad}`);
  }
  // A bare `left` (no '=') is an empty value.
  assert.deepEqual(announceErr(`${BASE}&left`), { code: 'bad_number', message: 'invalid left' });
});

void test('announce: port', () => {
  assert.equal(announce(`${BASE.replace('port=6881', 'port=65535')}`).port, 65535);
  assert.equal(announce(`${BASE.replace('port=6881', 'port=1')}`).port, 1);
  for (const bad of ['0', '65536', '', 'abc', '-1', '99999999999999999999']) {
    assert.deepEqual(announceErr(BASE.replace('port=6881', `port=${bad}`)), { code: 'bad_port', message: 'invalid port' }, bad);
  }
  assert.deepEqual(announceErr(BASE.replace('&port=6881', '')), { code: 'missing_port', message: 'missing port' });
});

void test('announce: info_hash and peer_id errors', () => {
  const peer = `peer_id=${pct(PEER)}&port=1`;
  assert.deepEqual(announceErr(peer), { code: 'missing_info_hash', message: 'missing info_hash' });
  assert.deepEqual(announceErr(`${peer}&info_hash=${pct(HASH.subarray(0, 19))}`), { code: 'bad_info_hash', message: 'invalid info_hash' });
  assert.deepEqual(announceErr(`${peer}&info_hash=${pct(HASH)}%00`), { code: 'bad_info_hash', message: 'invalid info_hash' });
  assert.deepEqual(announceErr(`${peer}&info_hash=`), { code: 'bad_info_hash', message: 'invalid info_hash' });
  assert.deepEqual(announceErr(`${peer}&info_hash=${pct(HASH.subarray(0, 19))}%G0`), {
    code: 'bad_encoding',
    message: 'invalid percent-encoding in info_hash',
  });
  assert.deepEqual(announceErr(`${peer}&info_hash=${pct(HASH.subarray(0, 19))}%0`), {
    code: 'bad_encoding',
    message: 'invalid percent-encoding in info_hash',
  });
  assert.deepEqual(announceErr(`${peer}&info_hash=${pct(HASH.subarray(0, 19))}%`), {
    code: 'bad_encoding',
    message: 'invalid percent-encoding in info_hash',
  });
  // A char above 0xff cannot come from a latin1 query: treated as bad encoding.
  assert.equal(announceErr(`${peer}&info_hash=${pct(HASH.subarray(0, 19))}\u0100`).code, 'bad_encoding');
  const hash = `info_hash=${pct(HASH)}&port=1`;
  assert.deepEqual(announceErr(hash), { code: 'missing_peer_id', message: 'missing peer_id' });
  assert.deepEqual(announceErr(`${hash}&peer_id=short`), { code: 'bad_peer_id', message: 'invalid peer_id' });
  assert.deepEqual(announceErr(`${hash}&peer_id=${pct(PEER)}x`), { code: 'bad_peer_id', message: 'invalid peer_id' });
  assert.equal(announceErr(`${hash}&peer_id=%zz`).code, 'bad_encoding');
  // Missing fields are reported in a fixed order.
  assert.equal(announceErr('').code, 'missing_info_hash');
  assert.equal(announceErr(`info_hash=${pct(HASH)}`).code, 'missing_peer_id');
});

void test('announce: event, compact, no_peer_id, numwant', () => {
  for (const [v, e] of [
    ['started', 'started'],
    ['completed', 'completed'],
    ['stopped', 'stopped'],
    ['paused', 'paused'],
    ['', 'none'],
    ['empty', 'none'],
    ['%73tarted', 'started'],
  ] as const) {
    assert.equal(announce(`${BASE}&event=${v}`).event, e, v);
  }
  for (const v of ['start', 'STARTED', 'started ', 'update', 'completedx']) {
    assert.deepEqual(announceErr(`${BASE}&event=${v}`), { code: 'bad_event', message: 'invalid event' }, v);
  }
  assert.equal(announce(`${BASE}&compact=0`).compact, false);
  assert.equal(announce(`${BASE}&compact=1`).compact, true);
  assert.equal(announce(`${BASE}&compact=`).compact, true);
  assert.equal(announce(`${BASE}&no_peer_id=1`).noPeerId, true);
  assert.equal(announce(`${BASE}&no_peer_id`).noPeerId, true);
  assert.equal(announce(`${BASE}&no_peer_id=0`).noPeerId, false);
  assert.equal(announce(`${BASE}&numwant=0`).numwant, 0);
  assert.equal(announce(`${BASE}&numwant=200`).numwant, 200);
  assert.equal(announce(`${BASE}&numwant=-1`).numwant, null);
  assert.equal(announce(`${BASE}&numwant=-${'9'.repeat(50)}`).numwant, null);
  for (const v of ['', '-', 'abc', '1.5', '99999999999999999999']) {
    assert.deepEqual(announceErr(`${BASE}&numwant=${v}`), { code: 'bad_number', message: 'invalid numwant' }, v);
  }
});

void test('announce: text parameters', () => {
  const r = announce(`${BASE}&key=%FF%00x&trackerid=&ip=2001%3Adb8%3A%3A1`);
  assert.equal(r.key, '\xff\x00x');
  assert.equal(r.trackerId, null, 'empty is absent');
  assert.equal(r.ip, '2001:db8::1');
  assert.equal(announce(`${BASE}&key=${'k'.repeat(64)}`).key, 'k'.repeat(64));
  for (const name of ['key', 'trackerid', 'ip']) {
    assert.deepEqual(announceErr(`${BASE}&${name}=${'k'.repeat(65)}`), { code: 'bad_request', message: `invalid ${name}` });
    assert.deepEqual(announceErr(`${BASE}&${name}=%2`), { code: 'bad_encoding', message: `invalid percent-encoding in ${name}` });
  }
});

void test('announce: first occurrence wins, unknown and malformed-but-ignored parameters', () => {
  const r = announce(`${BASE}&port=1&info_hash=bad&peer_id=%zz&event=started&event=bogus&left=5&left=x&&=&%zz=%zz&Port=0&passkey=%`);
  assert.equal(r.port, 6881);
  assert.deepEqual(r.infoHash, new Uint8Array(HASH));
  assert.equal(r.event, 'started');
  assert.equal(r.left, 5);
  // A '=' inside a value belongs to the value.
  assert.equal(announce(`${BASE}&key=a=b`).key, 'a=b');
  // The first occurrence is used even when it is the defective one.
  assert.equal(announceErr(`port=0&${BASE}`).code, 'bad_port');
});

void test('scrape: list semantics', () => {
  const h = (n: number) => Buffer.alloc(20, n);
  const q = [1, 2, 1, 3].map((n) => `info_hash=${pct(h(n))}`).join('&') + '&foo=bar';
  assert.deepEqual(parseScrapeQuery(q, { maxScrapeHashes: 10 }), {
    kind: 'scrape',
    infoHashes: [h(1), h(2), h(3)].map((b) => b.toString('hex')),
  });
  assert.deepEqual(parseScrapeQuery(q, { maxScrapeHashes: 2 }), {
    kind: 'scrape',
    infoHashes: [h(1), h(2)].map((b) => b.toString('hex')),
  });
  // Duplicates do not count against the cap; hashes beyond the cap are not even examined.
  assert.deepEqual(parseScrapeQuery(`${q}&info_hash=junk`, { maxScrapeHashes: 3 }), {
    kind: 'scrape',
    infoHashes: [h(1), h(2), h(3)].map((b) => b.toString('hex')),
  });
  assert.deepEqual(parseScrapeQuery('', { maxScrapeHashes: 10 }), { kind: 'scrape', infoHashes: [] });
  assert.deepEqual(parseScrapeQuery('passkey=x', { maxScrapeHashes: 10 }), { kind: 'scrape', infoHashes: [] });
  assert.deepEqual(parseScrapeQuery(`${q}&info_hash=abc`, { maxScrapeHashes: 10 }), {
    kind: 'error',
    code: 'bad_info_hash',
    message: 'invalid info_hash',
  });
  assert.equal((parseScrapeQuery('info_hash=%q1', { maxScrapeHashes: 10 }) as ProtocolError).code, 'bad_encoding');
  assert.deepEqual(parseScrapeQuery(q, { maxScrapeHashes: 0 }), {
    kind: 'error',
    code: 'too_many_info_hashes',
    message: 'too many info_hash parameters',
  });
});

/* Property tests ----------------------------------------------------------------------------- */

const bytes20 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((u) => Buffer.from(u));

/** Escapes one byte of a binary parameter in one of the ways a client might. */
function escBinary(b: number, how: number): string {
  const lit = b !== 0x26 && b !== 0x25; // '&' and '%' must be escaped
  if (how === 0 && lit) return String.fromCharCode(b);
  const hex = b.toString(16).padStart(2, '0');
  return '%' + (how === 1 ? hex.toUpperCase() : hex);
}

/** Escapes one byte of a text parameter: '+' must be escaped, a space may be '+'. */
function escText(b: number, how: number): string {
  if (b === 0x20 && how === 2) return '+';
  const lit = b !== 0x26 && b !== 0x25 && b !== 0x2b;
  if (how === 0 && lit) return String.fromCharCode(b);
  return '%' + b.toString(16).padStart(2, '0');
}

const textValue = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((u) => Buffer.from(u).toString('latin1'));

const request = fc.record({
  infoHash: bytes20,
  peerId: bytes20,
  port: fc.integer({ min: 1, max: 65535 }),
  uploaded: fc.option(fc.maxSafeNat(), { nil: undefined }),
  downloaded: fc.option(fc.maxSafeNat(), { nil: undefined }),
  left: fc.option(fc.maxSafeNat(), { nil: undefined }),
  event: fc.constantFrom(undefined, '', 'empty', 'started', 'completed', 'stopped', 'paused'),
  compact: fc.constantFrom(undefined, '0', '1'),
  noPeerId: fc.constantFrom(undefined, '0', '1'),
  numwant: fc.option(fc.integer({ min: -1000, max: 100000 }), { nil: undefined }),
  key: fc.option(textValue, { nil: undefined }),
  trackerId: fc.option(textValue, { nil: undefined }),
  ip: fc.option(textValue, { nil: undefined }),
});

void test('property: a query built from a valid request parses back to it', () => {
  fc.assert(
    fc.property(
      request,
      fc.infiniteStream(fc.integer({ min: 0, max: 2 })),
      fc.array(fc.tuple(fc.constantFrom('supportcrypto', 'passkey', 'corrupt', 'requirecrypto', 'x'), fc.string({ maxLength: 8 })), { maxLength: 3 }),
      fc.integer(),
      (r, hows, extra, seed) => {
        const it = hows[Symbol.iterator]();
        const how = () => it.next().value as number;
        const bin = (b: Buffer) => [...b].map((x) => escBinary(x, how())).join('');
        const txt = (s: string) => [...Buffer.from(s, 'latin1')].map((x) => escText(x, how())).join('');
        const num = (n: number) => (how() === 1 ? [...String(n)].map((c) => '%3' + c).join('') : String(n));
        const params = [`info_hash=${bin(r.infoHash)}`, `peer_id=${bin(r.peerId)}`, `port=${num(r.port)}`];
        if (r.uploaded !== undefined) params.push(`uploaded=${num(r.uploaded)}`);
        if (r.downloaded !== undefined) params.push(`downloaded=${num(r.downloaded)}`);
        if (r.left !== undefined) params.push(`left=${num(r.left)}`);
        if (r.event !== undefined) params.push(`event=${txt(r.event)}`);
        if (r.compact !== undefined) params.push(`compact=${r.compact}`);
        if (r.noPeerId !== undefined) params.push(`no_peer_id=${r.noPeerId}`);
        if (r.numwant !== undefined) params.push(`numwant=${r.numwant < 0 ? r.numwant : num(r.numwant)}`);
        if (r.key !== undefined) params.push(`key=${txt(r.key)}`);
        if (r.trackerId !== undefined) params.push(`trackerid=${txt(r.trackerId)}`);
        if (r.ip !== undefined) params.push(`ip=${txt(r.ip)}`);
        for (const [k, v] of extra) params.push(`${k}=${v.replaceAll('&', '')}`);
        // Shuffle deterministically, then add later duplicates that must be ignored.
        let s = seed;
        for (let i = params.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) | 0;
          const j = Math.abs(s) % (i + 1);
          [params[i], params[j]] = [params[j]!, params[i]!];
        }
        params.push('port=0', 'info_hash=x', 'peer_id=%');
        if (r.event !== undefined) params.push('event=bogus');
        if (r.left !== undefined) params.push('left=-1');
        if (r.numwant !== undefined) params.push('numwant=x');
        if (r.key !== undefined) params.push('key=%zz');
        const parsed = parseAnnounceQuery(params.join('&'));
        assert.deepEqual(parsed, {
          kind: 'announce',
          infoHash: new Uint8Array(r.infoHash),
          peerId: r.peerId,
          port: r.port,
          uploaded: r.uploaded ?? 0,
          downloaded: r.downloaded ?? 0,
          left: r.left ?? 0,
          event: r.event === undefined || r.event === '' || r.event === 'empty' ? 'none' : r.event,
          compact: r.compact !== '0',
          noPeerId: r.noPeerId === '1',
          numwant: r.numwant === undefined || r.numwant < 0 ? null : r.numwant,
          key: r.key ?? null,
          trackerId: r.trackerId ?? null,
          ip: r.ip ?? null,
        });
      },
    ),
    { numRuns: 1000 },
  );
});

void test('property: scrape queries round trip', () => {
  fc.assert(
    fc.property(fc.array(bytes20, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), fc.infiniteStream(fc.integer({ min: 0, max: 2 })), (hashes, max, hows) => {
      const it = hows[Symbol.iterator]();
      const q = hashes.map((h) => `info_hash=${[...h].map((x) => escBinary(x, it.next().value as number)).join('')}`).join('&');
      const distinct = [...new Set(hashes.map((h) => h.toString('hex')))];
      assert.deepEqual(parseScrapeQuery(q, { maxScrapeHashes: max }), { kind: 'scrape', infoHashes: distinct.slice(0, max) });
    }),
    { numRuns: 500 },
  );
});

void test('property: arbitrary strings never throw', () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('info_hash=', 'peer_id=', 'port=', 'left=', 'numwant=-', 'event=', 'key=', '%', '%4', '&', '=', '+'),
    fc.string({ unit: 'binary', maxLength: 10 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), fc.nat(5), (pieces, max) => {
      const q = pieces.join('');
      const a = parseAnnounceQuery(q);
      assert.ok(a.kind === 'announce' || a.kind === 'error');
      const s = parseScrapeQuery(q, { maxScrapeHashes: max });
      assert.ok(s.kind === 'scrape' || s.kind === 'error');
    }),
    { numRuns: 3000 },
  );
});
