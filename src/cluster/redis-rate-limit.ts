/**
 * A rate limiter shared by every web node through Redis, behind the same synchronous interface as
 * the in-memory one (src/site/rate-limit.ts), so that no caller changes.
 *
 * Windows are fixed and aligned (`floor(now / window)`), so every node counts into the same Redis
 * key `<prefix>rl:<key>:<window start>` (INCR, with an expiry at the window's end). Each node
 * keeps its own view of each count: a hit counts locally at once and is sent to Redis; the reply
 * (the count over every node) replaces the local view when larger. A decision is therefore exact
 * for this node's own hits and at most one round trip behind for the others' (a few
 * milliseconds), which is what login throttling and API quotas need. When Redis is unreachable
 * the node goes on with its local counts (logged once), never refusing everyone.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../shared/log.js';
import type { RateLimiter } from '../site/rate-limit.js';

interface Window {
  start: number;
  end: number;
  count: number;
}

export class RedisRateLimiter implements RateLimiter {
  private windows = new Map<string, Window>();
  private failing = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private redisKey(key: string, start: number): string {
    return `${this.prefix}rl:${key}:${start}`;
  }

  private window(key: string, windowSeconds: number, now: number): Window {
    const start = Math.floor(now / windowSeconds) * windowSeconds;
    let w = this.windows.get(key);
    if (!w || w.start !== start || w.end !== start + windowSeconds) {
      w = { start, end: start + windowSeconds, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 100_000) this.prune(now);
    }
    return w;
  }

  hit(key: string, limit: number, windowSeconds: number, now: number): boolean {
    const w = this.window(key, windowSeconds, now);
    w.count++;
    const rk = this.redisKey(key, w.start);
    this.redis
      .multi()
      .incr(rk)
      .expireat(rk, w.end + 1)
      .exec()
      .then(
        (r) => {
          this.failing = false;
          const n = Number(r?.[0]?.[1]);
          if (Number.isFinite(n) && n > w.count) w.count = n;
        },
        (err: unknown) => this.failed(err),
      );
    return w.count <= limit;
  }

  blocked(key: string, limit: number, now: number): boolean {
    const w = this.windows.get(key);
    if (w && w.end > now) {
      // Learn the other nodes' hits for the next question.
      this.redis.get(this.redisKey(key, w.start)).then(
        (v) => {
          const n = Number(v);
          if (v !== null && Number.isFinite(n) && n > w.count) w.count = n;
        },
        (err: unknown) => this.failed(err),
      );
      return w.count >= limit;
    }
    return false;
  }

  /** Reads the shared counts of `keys` from Redis into this node's view (before a decision that must see every node's hits). */
  async sync(keys: readonly string[], windowSeconds: number, now: number): Promise<void> {
    const ws = keys.map((k) => this.window(k, windowSeconds, now));
    try {
      const values = await this.redis.mget(...keys.map((k, i) => this.redisKey(k, ws[i]!.start)));
      values.forEach((v, i) => {
        const n = Number(v);
        if (v !== null && Number.isFinite(n) && n > ws[i]!.count) ws[i]!.count = n;
      });
    } catch (err) {
      this.failed(err);
    }
  }

  reset(key: string): void {
    const w = this.windows.get(key);
    this.windows.delete(key);
    if (w) this.redis.del(this.redisKey(key, w.start)).catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (!this.failing) this.log.warn({ err }, 'shared rate limits: Redis unreachable, counting per node');
    this.failing = true;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (w.end <= now) this.windows.delete(k);
  }
}
