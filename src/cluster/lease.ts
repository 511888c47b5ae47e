/**
 * Job leases: on several nodes, a periodic job that must run once across the site (the sharing
 * rules, ban expiry, pruning, the swarm-count copy, the peer sweep of a shared store) runs on the
 * node holding its lease. A lease is a row of `job_lease` (name, holder, expires_at) taken by
 * compare-and-set: a node takes a lease that is free, expired, or already its own, and renews it at
 * each run. When the holder dies, another node takes the lease once it expires.
 *
 * One statement per attempt, atomic on both dialects: an insert that does nothing on conflict,
 * then an update guarded by `holder = me OR expires_at <= now`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Logger } from '../shared/log.js';

export class JobLeases {
  constructor(
    private readonly db: Kysely<Database>,
    /** This node's id (unique per process). */
    readonly holder: string,
  ) {}

  /** Takes or renews the lease `name` until now + ttl; true when this node holds it. */
  async acquire(name: string, ttl: number, now: number): Promise<boolean> {
    const ins = await this.db
      .insertInto('job_lease')
      .values({ name, holder: this.holder, expires_at: now + ttl })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0n) > 0) return true;
    const up = await this.db
      .updateTable('job_lease')
      .set({ holder: this.holder, expires_at: now + ttl })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('holder', '=', this.holder), eb('expires_at', '<=', now)]))
      .executeTakeFirst();
    return Number(up.numUpdatedRows) > 0;
  }

  /** Gives the lease up (graceful shutdown), so that another node need not wait for its expiry. */
  async release(name: string): Promise<void> {
    await this.db.deleteFrom('job_lease').where('name', '=', name).where('holder', '=', this.holder).execute();
  }

  /** Who holds `name` now (tests, status pages), or null. */
  async holderOf(name: string, now: number): Promise<string | null> {
    const r = await this.db.selectFrom('job_lease').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
    return r && r.expires_at > now ? r.holder : null;
  }
}

/**
 * The lease's lifetime for a job run every `intervalSeconds`: longer than the interval, so that the
 * holder renews it before it expires, and at most five minutes longer, so that a dead holder's
 * jobs move to another node soon.
 */
export function leaseTtl(intervalSeconds: number): number {
  return intervalSeconds + Math.min(Math.max(intervalSeconds, 15), 300);
}

/**
 * Wraps a job so that it runs only while this node holds its lease (when `leases` is null, a
 * single-node deployment, the job always runs).
 */
export function leased(leases: JobLeases | null, name: string, intervalSeconds: number, now: () => number, fn: () => Promise<void> | void, log?: Logger): () => Promise<void> {
  if (!leases) return async () => void (await fn());
  const ttl = leaseTtl(intervalSeconds);
  let held = false;
  return async () => {
    const got = await leases.acquire(name, ttl, now());
    if (got !== held) log?.info({ job: name, holder: leases.holder, held: got }, got ? 'job lease taken' : 'job lease lost');
    held = got;
    if (got) await fn();
  };
}
