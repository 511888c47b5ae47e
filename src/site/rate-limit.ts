/**
 * Fixed-window counters for rate limits (failed logins per IP and per account, password-reset
 * requests). In memory, per process: on several web nodes (#6) the limit applies per node, which a
 * shared implementation of the same interface will tighten.
 */
export interface RateLimiter {
  /** Counts one hit for `key`; true while the count within the window is ≤ limit. */
  hit(key: string, limit: number, windowSeconds: number, now: number): boolean;
  /** Whether `key` is already over `limit` (without counting a hit). */
  blocked(key: string, limit: number, now: number): boolean;
  reset(key: string): void;
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
