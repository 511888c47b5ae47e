import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bencode } from '../protocol/bencode.js';
import { infoHashesOf } from './info-hash.js';

test('v1 info hash is the SHA-1 of the exact info bytes', () => {
  const info = { length: 5, name: 'a.txt', 'piece length': 16384, pieces: Buffer.alloc(20, 1) };
  const file = bencode({ announce: 'http://x/announce', info });
  const r = infoHashesOf(file);
  assert.ok(r.ok, 'parsed');
  assert.equal(r.v1, createHash('sha1').update(bencode(info)).digest('hex'));
  assert.equal(r.v2, null);
  assert.equal(r.name, 'a.txt');
  assert.equal(r.size, 5);
});

test('hybrid torrents have both hashes', () => {
  const info = {
    'file tree': { 'a.txt': { '': { length: 5, 'pieces root': Buffer.alloc(32) } } },
    length: 5,
    'meta version': 2,
    name: 'a.txt',
    'piece length': 16384,
    pieces: Buffer.alloc(20),
  };
  const r = infoHashesOf(bencode({ info }));
  assert.ok(r.ok, 'parsed');
  assert.equal(r.v2, createHash('sha256').update(bencode(info)).digest('hex'));
  assert.match(r.v1!, /^[0-9a-f]{40}$/);
});

test('broken files get a message', () => {
  for (const bad of [Buffer.from('garbage'), bencode([1]), bencode({ info: 1 }), bencode({ info: { name: 'x' } })]) {
    const r = infoHashesOf(bad);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.error.length > 0, 'rejected with a message');
  }
});
