/** The shared rate limiter: two nodes count into one window through Redis; reset; a dead Redis degrades to local counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../shared/log.js';
import { RedisRateLimiter } from './redis-rate-limit.js';

const settle = () => new Promise((r) => setTimeout(r, 50));

/** What the login path does: sync the key from Redis, then decide. */
async function blockedAfterSync(l: RedisRateLimiter, key: string, limit: number, windowSeconds: number, now: number): Promise<boolean> {
  await l.sync([key], windowSeconds, now);
  return l.blocked(key, limit, now);
}
const redisUrl = process.env.ESSAIM_TEST_REDIS_URL;

describe('RedisRateLimiter', { skip: redisUrl ? false : 'ESSAIM_TEST_REDIS_URL not set' }, () => {
  it('counts the hits of every node into one window', async () => {
    const prefix = `essaim-test-rl-${process.pid}-${Date.now()}:`;
    const c1 = new Redis(redisUrl!);
    const c2 = new Redis(redisUrl!);
    try {
      const a = new RedisRateLimiter(c1, prefix, silentLogger());
      const b = new RedisRateLimiter(c2, prefix, silentLogger());
      const now = 1_800_000_000;
      assert.equal(a.hit('login:ip:1', 3, 60, now), true);
      assert.equal(a.hit('login:ip:1', 3, 60, now), true);
      await settle();
      // b's first hit is sent; its reply (3) teaches b the total.
      assert.equal(b.hit('login:ip:1', 3, 60, now + 1), true);
      await settle();
      assert.equal(b.blocked('login:ip:1', 3, now + 2), true, 'b knows the total is 3');
      assert.equal(await blockedAfterSync(a, 'login:ip:1', 3, 60, now + 2), true, 'a asks Redis');
      assert.equal(await blockedAfterSync(new RedisRateLimiter(c1, prefix, silentLogger()), 'login:ip:1', 3, 60, now + 3), true, 'a third node learns it');
      assert.equal(a.hit('login:ip:1', 3, 60, now + 3), false, 'over the limit');
      // The next window starts afresh.
      assert.equal(a.hit('login:ip:1', 3, 60, now + 60), true);
      a.reset('login:ip:1');
      await settle();
      assert.equal(await blockedAfterSync(b, 'login:ip:1', 1, 60, now + 61), false, 'reset clears the shared count');
      const ttl = await c1.ttl(`${prefix}rl:login:ip:1:${Math.floor(now / 60) * 60}`);
      assert.ok(ttl === -2 || ttl > 0, `window keys expire (ttl ${ttl})`);
    } finally {
      const keys = await c1.keys(`${prefix}*`);
      if (keys.length) await c1.del(...keys);
      c1.disconnect();
      c2.disconnect();
    }
  });

  it('goes on with local counts when Redis is unreachable', async () => {
    const dead = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const l = new RedisRateLimiter(dead, 'x:', silentLogger());
    assert.equal(l.hit('k', 2, 60, 100), true);
    assert.equal(l.hit('k', 2, 60, 100), true);
    assert.equal(l.hit('k', 2, 60, 100), false);
    assert.equal(l.blocked('k', 2, 101), true);
    assert.equal(await blockedAfterSync(l, 'k', 2, 60, 101), true);
    await settle();
    dead.disconnect();
  });
});
