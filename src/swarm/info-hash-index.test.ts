import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InfoHashIndex, loadInfoHash } from './info-hash-index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

void test('loadInfoHash reads 20 bytes and 40 hex characters (either case) alike, and nothing else', () => {
  const bytes = Buffer.from('00ff10a0b1c2d3e4f5061728394a5b6c7d8e9fab', 'hex');
  const a = new Uint32Array(5);
  const b = new Uint32Array(5);
  assert.ok(loadInfoHash(bytes, a), 'bytes');
  assert.ok(loadInfoHash(bytes.toString('hex'), b), 'hex');
  assert.deepEqual(a, b);
  assert.equal(a[0], 0xa010ff00, 'little-endian words of the bytes');
  assert.ok(loadInfoHash(bytes.toString('hex').toUpperCase(), b), 'upper case');
  assert.deepEqual(a, b);
  for (const bad of ['', 'ab'.repeat(19), 'ab'.repeat(21), 'g' + 'a'.repeat(39), 'é'.repeat(40), ' ' + 'a'.repeat(39)]) {
    assert.equal(loadInfoHash(bad, b), false, JSON.stringify(bad));
  }
  assert.equal(loadInfoHash(new Uint8Array(19), b), false, '19 bytes');
  assert.equal(loadInfoHash(new Uint8Array(21), b), false, '21 bytes');
});

void test('InfoHashIndex behaves as a Map keyed by the hash, whichever form a key comes in', () => {
  // A small key space and a small initial table: collisions, growth, and deletions in probe runs.
  const key = fc.integer({ min: 0, max: 40 }).map((n) => {
    const b = new Uint8Array(20);
    b[0] = n;
    b[19] = n * 7;
    return b;
  });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key, value: fc.integer(), asHex: fc.boolean() }),
    fc.record({ kind: fc.constant('delete' as const), key, asHex: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const idx = new InfoHashIndex<number>(1);
      const model = new Map<string, number>();
      for (const o of ops) {
        const k = o.asHex ? hex(o.key) : o.key;
        if (o.kind === 'set') {
          assert.ok(idx.set(k, o.value), 'a valid key is stored');
          model.set(hex(o.key), o.value);
        } else {
          assert.equal(idx.delete(k), model.delete(hex(o.key)));
        }
        assert.equal(idx.size, model.size);
      }
      for (let n = 0; n <= 40; n++) {
        const b = new Uint8Array(20);
        b[0] = n;
        b[19] = n * 7;
        assert.equal(idx.get(b), model.get(hex(b)), `bytes of key ${n}`);
        assert.equal(idx.get(hex(b).toUpperCase()), model.get(hex(b)), `hex of key ${n}`);
        assert.equal(idx.has(b), model.has(hex(b)));
      }
    }),
    { numRuns: 300 },
  );
});

void test('InfoHashIndex ignores keys that are not info hashes', () => {
  const idx = new InfoHashIndex<string>();
  assert.equal(idx.set('not a hash', 'x'), false);
  assert.equal(idx.set(new Uint8Array(32), 'x'), false);
  assert.equal(idx.size, 0);
  assert.equal(idx.get('not a hash'), undefined);
  assert.equal(idx.delete('zz'.repeat(20)), false);
  assert.equal(idx.has(new Uint8Array(3)), false);
});

void test('InfoHashIndex holds many keys', () => {
  const idx = new InfoHashIndex<number>();
  const keys = Array.from({ length: 5000 }, (_, i) => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE((i * 2654435761) >>> 0, 0);
    b.writeUInt32BE(i, 16);
    return b;
  });
  keys.forEach((k, i) => idx.set(k, i));
  for (let i = 0; i < keys.length; i += 2) assert.ok(idx.delete(keys[i]!.toString('hex')), `delete ${i}`);
  assert.equal(idx.size, 2500);
  keys.forEach((k, i) => assert.equal(idx.get(k), i % 2 === 0 ? undefined : i, `key ${i}`));
});
