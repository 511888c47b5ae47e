/**
 * Fixed-window counters for rate limits (failed logins per IP and per account, password-reset
 * requests, API quotas). In memory, per process; on several web nodes the composition root uses
 * the Redis implementation of the same interface (src/cluster/redis-rate-limit.ts).
 */
export interface RateLimiter {
  /** Counts one hit for `key`; true while the count within the window is ≤ limit. */
  hit(key: string, limit: number, windowSeconds: number, now: number): boolean;
  /** Whether `key` is already over `limit` (without counting a hit). */
  blocked(key: string, limit: number, now: number): boolean;
  reset(key: string): void;
  /**
   * Brings this node's view of `keys` up to date with the other nodes' hits (a shared limiter),
   * before a decision that must not let one more attempt through per node. Absent: nothing shared.
   */
  sync?(keys: readonly string[], windowSeconds: number, now: number): Promise<void>;
}

/** RateLimiter.sync when the limiter has one (several web nodes), else nothing. */
export async function syncLimits(limiter: RateLimiter, keys: readonly string[], windowSeconds: number, now: number): Promise<void> {
  if (limiter.sync) await limiter.sync(keys, windowSeconds, now);
}

export class MemoryRateLimiter implements RateLimiter {
  private windows = new Map<string, { start: number; end: number; count: number }>();

  hit(key: string, limit: number, windowSeconds: number, now: number): boolean {
    let w = this.windows.get(key);
    if (!w || w.end <= now) {
      w = { start: now, end: now + windowSeconds, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 100_000) this.prune(now);
    }
    w.count++;
    return w.count <= limit;
  }

  blocked(key: string, limit: number, now: number): boolean {
    const w = this.windows.get(key);
    return !!w && w.end > now && w.count >= limit;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (w.end <= now) this.windows.delete(k);
  }
}
