import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConnectionIdIssuer, halfSipHash24 } from './connection-id.js';

const SECRET = Buffer.alloc(32, 0x5a);
const TTL = 120;
const NOW = 1_700_000_000;
const IP4 = Uint8Array.from([192, 0, 2, 10]);
const IP6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

void test('issued ids are 8 bytes: issue time then tag', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  const id = ids.issue(NOW + 0.9, IP4, 6881);
  assert.equal(id.length, 8);
  assert.equal(id.readUInt32BE(0), NOW);
  // Deterministic for the same inputs, different for another address or second.
  assert.deepEqual(ids.issue(NOW, IP4, 1), id);
  assert.notDeepEqual(ids.issue(NOW, Uint8Array.from([192, 0, 2, 11]), 6881), id);
  assert.notDeepEqual(ids.issue(NOW + 1, IP4, 6881).subarray(4), id.subarray(4));
});

void test('valid ids are accepted over the whole ttl, for IPv4 and IPv6', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  for (const ip of [IP4, IP6]) {
    const id = ids.issue(NOW, ip, 6881);
    assert.ok(ids.check(id, NOW, ip, 6881), 'ids.check(id, NOW, ip, 6881)');
    assert.ok(ids.check(id, NOW + TTL, ip, 6881), 'still valid at exactly ttl');
    assert.ok(ids.check(id, NOW - 2, ip, 6881), 'a small clock skew is tolerated');
  }
});

void test('checkAt reads the id where a datagram carries it, and only when all 8 bytes are there', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  const id = ids.issue(NOW, IP4, 6881);
  const datagram = Buffer.concat([id, Buffer.alloc(90, 7)]);
  assert.ok(ids.checkAt(datagram, 0, NOW, IP4), 'the id at the start of a datagram');
  assert.ok(ids.checkAt(Buffer.concat([Buffer.alloc(3), id]), 3, NOW, IP4), 'at an offset');
  assert.ok(!ids.checkAt(datagram, 0, NOW, IP6), 'another address');
  assert.ok(!ids.checkAt(datagram, 0, NOW + TTL + 1, IP4), 'expired');
  assert.ok(!ids.checkAt(id.subarray(0, 7), 0, NOW, IP4), 'a truncated id');
  assert.ok(!ids.checkAt(datagram, datagram.length - 7, NOW, IP4), 'past the end');
  const forged = Buffer.from(datagram);
  forged[7]! ^= 1;
  assert.ok(!ids.checkAt(forged, 0, NOW, IP4), 'one bit of the tag flipped');
});

void test('the port is not part of the id (NATs may change it)', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  assert.ok(ids.check(ids.issue(NOW, IP4, 6881), NOW + 1, IP4, 51413), 'ids.check(ids.issue(NOW, IP4, 6881), NOW + 1, IP4, 51413)');
});

void test('IPv4-mapped IPv6 addresses are the IPv4 address', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  const mapped = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...IP4]);
  assert.ok(ids.check(ids.issue(NOW, IP4, 1), NOW, mapped, 1), 'ids.check(ids.issue(NOW, IP4, 1), NOW, mapped, 1)');
  assert.ok(ids.check(ids.issue(NOW, mapped, 1), NOW, IP4, 1), 'ids.check(ids.issue(NOW, mapped, 1), NOW, IP4, 1)');
  // IPv4-compatible (::a.b.c.d) is not mapped: a different address.
  const compat = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...IP4]);
  assert.ok(!ids.check(ids.issue(NOW, IP4, 1), NOW, compat, 1), '!ids.check(ids.issue(NOW, IP4, 1), NOW, compat, 1)');
});

void test('rejections: wrong ip, expired, future, tampered, other secret, malformed', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  const id = ids.issue(NOW, IP4, 6881);
  assert.ok(!ids.check(id, NOW, Uint8Array.from([192, 0, 2, 11]), 6881), 'wrong ip');
  assert.ok(!ids.check(id, NOW, IP6, 6881), 'wrong family');
  assert.ok(!ids.check(id, NOW + TTL + 1, IP4, 6881), 'expired');
  assert.ok(!ids.check(id, NOW - 3, IP4, 6881), 'issued too far in the future');
  const custom = new ConnectionIdIssuer(SECRET, TTL, { skewSeconds: 0 });
  assert.ok(!custom.check(custom.issue(NOW + 1, IP4, 1), NOW, IP4, 1), 'no skew allowed');
  for (let bit = 0; bit < 64; bit++) {
    const t = Buffer.from(id);
    t[bit >> 3]! ^= 1 << (bit & 7);
    assert.ok(!ids.check(t, NOW + 5, IP4, 6881), `bit ${bit} flipped`);
  }
  assert.ok(!new ConnectionIdIssuer(Buffer.alloc(32, 1), TTL).check(id, NOW, IP4, 6881), 'other secret');
  assert.ok(!ids.check(id.subarray(0, 7), NOW, IP4, 6881), 'short id');
  assert.ok(!ids.check(Buffer.concat([id, Buffer.alloc(1)]), NOW, IP4, 6881), 'long id');
  assert.ok(!ids.check(id, NOW, Uint8Array.from([1, 2, 3]), 6881), 'bad ip length');
  assert.ok(!ids.check(Buffer.alloc(8), NOW, IP4, 6881), 'zeros');
  // The connect magic (0x41727101980) is never a valid id.
  assert.ok(!ids.check(Buffer.from('0000041727101980', 'hex'), NOW, IP4, 6881), '!ids.check(Buffer.from(\'0000041727101980\', \'hex\'), NOW, IP4, 6881)');
});

void test('constructor and issue validate their arguments', () => {
  assert.throws(() => new ConnectionIdIssuer(Buffer.alloc(8), TTL), TypeError);
  assert.throws(() => new ConnectionIdIssuer(SECRET, 0), RangeError);
  assert.throws(() => new ConnectionIdIssuer(SECRET, TTL).issue(NOW, Uint8Array.from([1, 2, 3]), 1), TypeError);
});

void test('property: ids issued at any time in the window verify; the key cache stays bounded', () => {
  const ids = new ConnectionIdIssuer(SECRET, 10);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 10 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (t, age, ip) => {
      const id = ids.issue(NOW + t, ip, 1);
      assert.ok(ids.check(id, NOW + t + age, ip, 1), 'ids.check(id, NOW + t + age, ip, 1)');
      assert.ok(!ids.check(id, NOW + t + 11, ip, 1), '!ids.check(id, NOW + t + 11, ip, 1)');
      const size = (ids as unknown as { keys: Map<number, unknown> }).keys.size;
      assert.ok(size <= 2 * (10 + 2 + 2), `cache size ${size}`);
    }),
    { numRuns: 2000 },
  );
});

void test('property: random ids are rejected', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (raw) => {
      const id = Buffer.from(raw);
      id.writeUInt32BE(NOW, 0);
      fc.pre(!id.equals(ids.issue(NOW, IP4, 1)));
      assert.ok(!ids.check(id, NOW, IP4, 1), '!ids.check(id, NOW, IP4, 1)');
    }),
    { numRuns: 1000 },
  );
});

void test('HalfSipHash-2-4 (32-bit output) matches the reference test vectors', () => {
  // Key 00..07, message 00 01 02 .. of length n: the reference implementation's vectors_hsip32.
  const expected = ['a9359f5b', '27475ab8', 'fa62a603', '8afee704', '2a6e4689', 'c5fab669', '5863fc23', '8bcf63c5', 'd0b8848f', 'f806e779', '94b07934'];
  const key = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]);
  const msg = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  expected.forEach((hex, n) => {
    const out = Buffer.alloc(4);
    out.writeUInt32LE(halfSipHash24(key.readUInt32LE(0), key.readUInt32LE(4), msg, 0, n));
    assert.equal(out.toString('hex'), hex, `length ${n}`);
  });
  // An offset into a larger buffer gives the same tag as the bytes alone.
  const inner = Buffer.concat([Buffer.from([9, 9, 9]), msg.subarray(0, 7)]);
  assert.equal(halfSipHash24(1, 2, inner, 3, 7), halfSipHash24(1, 2, msg, 0, 7));
});

void test('an IPv4 address and an IPv6 address starting with the same bytes get different tags', () => {
  const ids = new ConnectionIdIssuer(SECRET, TTL);
  const v6 = Uint8Array.from([...IP4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.notDeepEqual(ids.issue(NOW, v6, 1).subarray(4), ids.issue(NOW, IP4, 1).subarray(4));
  assert.ok(!ids.check(ids.issue(NOW, IP4, 1), NOW, v6, 1), 'an IPv4 id is not valid for the IPv6 address');
});
