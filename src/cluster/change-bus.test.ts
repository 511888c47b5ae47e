/**
 * The change bus: message parsing never throws and keeps only well-formed changes; over Redis
 * pub/sub and over PostgreSQL LISTEN/NOTIFY, a change published by one node reaches the other
 * node and not the sender.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { silentLogger } from '../shared/log.js';
import { testPostgresUrl } from '../db/test-databases.js';
import { parseChange, PgChangeBus, RedisChangeBus, type Change, type ChangeBus } from './change-bus.js';

describe('parseChange', () => {
  it('keeps well-formed changes', () => {
    const pk = 'ab'.repeat(16);
    assert.deepEqual(parseChange(JSON.stringify({ from: 'n', change: { kind: 'user', id: 3, previousPasskey: pk } })), { from: 'n', change: { kind: 'user', id: 3, previousPasskey: pk } });
    assert.deepEqual(parseChange(JSON.stringify({ from: 'n', change: { kind: 'torrent', id: 9, extra: 1 } })), { from: 'n', change: { kind: 'torrent', id: 9 } });
    assert.deepEqual(parseChange(JSON.stringify({ from: 'n', change: { kind: 'blocklist' } })), { from: 'n', change: { kind: 'blocklist' } });
    assert.deepEqual(parseChange(JSON.stringify({ from: 'n', change: { kind: 'cache', name: 'catalogue' } })), { from: 'n', change: { kind: 'cache', name: 'catalogue' } });
  });
  it('drops everything else', () => {
    for (const bad of ['', 'null', '[]', '{"from":1}', '{"from":"n","change":{"kind":"torrent","id":-1}}', '{"from":"n","change":{"kind":"user","id":1,"previousPasskey":"x"}}', '{"from":"n","change":{"kind":"nope"}}', '{"from":"n","change":{"kind":"cache","name":"__proto__"}}']) {
      assert.equal(parseChange(bad), null, bad);
    }
  });
  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (s) => void parseChange(s)), { numRuns: 500 });
  });
});

async function exchange(a: ChangeBus, b: ChangeBus): Promise<void> {
  const gotA: Change[] = [];
  const gotB: Change[] = [];
  a.subscribe((c) => gotA.push(c));
  b.subscribe((c) => gotB.push(c));
  await a.publish({ kind: 'torrent', id: 42 });
  await b.publish({ kind: 'user', id: 7, previousPasskey: 'cd'.repeat(16) });
  const deadline = Date.now() + 5000;
  while ((gotA.length < 1 || gotB.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(gotB, [{ kind: 'torrent', id: 42 }], 'b got a’s change, once');
  assert.deepEqual(gotA, [{ kind: 'user', id: 7, previousPasskey: 'cd'.repeat(16) }], 'a got b’s change and not its own');
}

const redisUrl = process.env.ESSAIM_TEST_REDIS_URL;
describe('RedisChangeBus', { skip: redisUrl ? false : 'ESSAIM_TEST_REDIS_URL not set' }, () => {
  it('carries changes between nodes', async () => {
    const prefix = `essaim-test-${process.pid}-${Date.now()}:`;
    const c1 = new Redis(redisUrl!);
    const c2 = new Redis(redisUrl!);
    const a = new RedisChangeBus(c1, prefix, 'a', silentLogger());
    const b = new RedisChangeBus(c2, prefix, 'b', silentLogger());
    try {
      await a.start();
      await b.start();
      await exchange(a, b);
      // A malformed message on the channel is counted and dropped.
      await c1.publish(`${prefix}changes`, '{not json');
      const deadline = Date.now() + 3000;
      while (b.malformed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(b.malformed, 1);
    } finally {
      await a.close();
      await b.close();
      c1.disconnect();
      c2.disconnect();
    }
  });
});

const pgUrl = testPostgresUrl();
describe('PgChangeBus', { skip: pgUrl ? false : 'ESSAIM_TEST_PG_URL not set' }, () => {
  it('carries changes between nodes', async () => {
    const a = new PgChangeBus(pgUrl!, 'a', silentLogger());
    const b = new PgChangeBus(pgUrl!, 'b', silentLogger());
    try {
      await a.start();
      await b.start();
      await exchange(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
