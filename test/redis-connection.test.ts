/**
 * src/shared/redis.ts: url parsing and key prefix checks (always), and real connections to the
 * test Redis (ESSAIM_TEST_REDIS_URL; skipped without it): the database number is honoured, auth
 * failures surface as errors, closeRedis ends the connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkKeyPrefix, closeRedis, connectRedis, isCluster, parseRedisUrl } from '../src/shared/redis.js';
import { REDIS_SKIP, testRedisUrl } from '../src/swarm/redis-testing.js';

describe('parseRedisUrl', () => {
  it('reads host, port, database, credentials and TLS', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), { host: '127.0.0.1', port: 6380, db: 2, tls: false });
    assert.deepEqual(parseRedisUrl('redis://localhost'), { host: 'localhost', port: 6379, db: 0, tls: false });
    assert.deepEqual(parseRedisUrl('rediss://u%40x:p%3Ass@cache.example:7000/'), {
      host: 'cache.example',
      port: 7000,
      db: 0,
      tls: true,
      username: 'u@x',
      password: 'p:ss',
    });
    assert.deepEqual(parseRedisUrl('redis://:secret@[::1]:6379/1'), { host: '::1', port: 6379, db: 1, tls: false, password: 'secret' });
  });

  it('refuses what is not a Redis url', () => {
    assert.throws(() => parseRedisUrl('127.0.0.1:6379'), TypeError);
    assert.throws(() => parseRedisUrl('http://127.0.0.1:6379'), /redis:\/\/ or rediss:\/\//);
    assert.throws(() => parseRedisUrl('redis://127.0.0.1/abc'), /database number/);
    assert.throws(() => parseRedisUrl('redis://127.0.0.1/-1'), /database number/);
  });
});

describe('connectRedis settings', () => {
  it('refuses an empty url, braces in the prefix, and a database other than 0 on a cluster', () => {
    assert.throws(() => connectRedis({ url: '', cluster: false }), /redis.url is empty/);
    assert.throws(() => connectRedis({ url: 'redis://127.0.0.1', cluster: false, key_prefix: 'a{b}' }), /must not contain/);
    assert.throws(() => connectRedis({ url: 'redis://127.0.0.1/3', cluster: true }), /only database 0/);
    assert.equal(checkKeyPrefix('essaim:'), 'essaim:');
    assert.throws(() => checkKeyPrefix('}'), TypeError);
  });
});

const url = testRedisUrl();

describe('connectRedis against Redis', () => {
  it('connects to the configured database and closes', { skip: url === null ? REDIS_SKIP : false }, async () => {
    const base = new URL(url!);
    base.pathname = '/3';
    const c = connectRedis({ url: base.toString(), cluster: false, key_prefix: 'essaim:' });
    try {
      assert.equal(isCluster(c), false);
      const key = `essaim-test:conn:${process.pid}`;
      await c.set(key, 'x', 'EX', 30);
      assert.equal(await c.call('CLIENT', 'GETNAME'), 'essaim');
      const other = connectRedis({ url: url!, cluster: false });
      try {
        assert.equal(await other.get(key), null, 'another database does not see it');
        await other.select(3);
        assert.equal(await other.get(key), 'x');
      } finally {
        await closeRedis(other);
      }
      await c.del(key);
    } finally {
      await closeRedis(c);
    }
    assert.equal(c.status, 'end');
    await closeRedis(c); // twice is harmless
  });

  it('reports a wrong password as an error', { skip: url === null ? REDIS_SKIP : false }, async () => {
    const bad = new URL(url!);
    bad.username = 'nobody';
    bad.password = 'wrong';
    const c = connectRedis({ url: bad.toString(), cluster: false }, { lazyConnect: true });
    c.on('error', () => {});
    try {
      await assert.rejects(c.ping(), /WRONGPASS|NOAUTH|AUTH|invalid|Reached the max retries/i);
    } finally {
      c.disconnect();
    }
  });
});
