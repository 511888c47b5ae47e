/**
 * The IP addresses members signed up or logged in from (table login_ip), the cap of accounts per
 * address (`joining.accounts_per_ip`, 2 by default as T411), and their deletion after
 * `privacy.login_ip_days` days.
 *
 * Addresses are stored in canonical form ("::ffff:192.0.2.1" is 192.0.2.1). An address counts
 * every distinct account seen from it, at sign-up or login, within the retention, plus pending
 * applications sent from it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { canonicalIp } from '../../tracker/peer-ip.js';
import type { Site } from '../site.js';

export function normaliseIp(ip: string): string {
  return canonicalIp(ip) ?? ip;
}

/** Records that a member used an address now (at sign-up, `signup` marks the row). */
export async function recordLoginIp(db: Kysely<Database>, userId: number, ip: string, now: number, signup = false): Promise<void> {
  const addr = normaliseIp(ip);
  await db
    .insertInto('login_ip')
    .values({ user_id: userId, ip: addr, first_at: now, last_at: now, signup: signup ? 1 : 0 })
    .onConflict((oc) => oc.columns(['user_id', 'ip']).doUpdateSet(signup ? { last_at: now, signup: 1 } : { last_at: now }))
    .execute();
}

/** Distinct accounts seen from an address (sign-ups and logins still kept). */
export async function accountsFromIp(db: Kysely<Database>, ip: string): Promise<number> {
  const r = await db
    .selectFrom('login_ip')
    .select((eb) => eb.fn.count<number>('user_id').distinct().as('n'))
    .where('ip', '=', normaliseIp(ip))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function ipCapExempt(site: Site, ip: string): boolean {
  const addr = normaliseIp(ip);
  return site.config.joining.ip_cap_exempt.some((x) => normaliseIp(x) === addr);
}

/** Whether a new account (or application) from this address would go over the cap. */
export async function ipCapReached(site: Site, ip: string): Promise<boolean> {
  const cap = site.config.joining.accounts_per_ip;
  if (cap === 0 || ipCapExempt(site, ip)) return false;
  const addr = normaliseIp(ip);
  const accounts = await accountsFromIp(site.db, addr);
  if (accounts >= cap) return true;
  const pending = await site.db
    .selectFrom('application')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ip', '=', addr)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return accounts + Number(pending.n) >= cap;
}

/** The addresses a member used, most recent first (staff view). */
export async function loginIpsOf(db: Kysely<Database>, userId: number, limit = 50) {
  return db.selectFrom('login_ip').selectAll().where('user_id', '=', userId).orderBy('last_at', 'desc').limit(limit).execute();
}

/** Deletes addresses not used for `days` days; returns how many rows went. */
export async function pruneLoginIps(db: Kysely<Database>, now: number, days: number): Promise<number> {
  const r = await db.deleteFrom('login_ip').where('last_at', '<', now - days * 86400).executeTakeFirst();
  return Number(r.numDeletedRows);
}
