/**
 * IP bans: single addresses and CIDR ranges (IPv4 and IPv6), with a reason and an optional
 * expiry. Stored in canonical form (src/site/discipline/cidr.ts). The website refuses every
 * request from a banned address before anything else (src/web/context.ts); the list lives in
 * memory per database handle and is reloaded after BAN_CACHE_TTL_MS, at the next expiry, or at
 * once after a change made through this module (other web nodes follow within the TTL).
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, IpBanTable } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { cidrContains, formatCidr, parseCidr, parseIp, type Cidr } from './cidr.js';
import type { Actor } from './warnings.js';
import { cacheInvalidated, registerCacheDropper } from '../../shared/cache-events.js';

export type IpBan = Selectable<IpBanTable>;

export const BAN_CACHE_TTL_MS = 30_000;

/** Narrowest ranges a ban may name: a /8 of IPv4, a /16 of IPv6. */
export const MIN_PREFIX = { 4: 8, 6: 16 } as const;

export type IpBanProblem = 'invalid' | 'too_wide';

/** The canonical form of an address or range, or the reason it is refused. */
export function checkCidr(input: string): { cidr: string; range: Cidr } | { problem: IpBanProblem } {
  const c = parseCidr(input);
  if (!c) return { problem: 'invalid' };
  if (c.prefix < MIN_PREFIX[c.family]) return { problem: 'too_wide' };
  return { cidr: formatCidr(c), range: c };
}

export async function listIpBans(db: Kysely<Database>, now: number, o: { includeExpired?: boolean } = {}): Promise<IpBan[]> {
  let q = db.selectFrom('ip_ban').selectAll();
  if (!o.includeExpired) q = q.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export async function addIpBan(db: Kysely<Database>, actor: Actor, b: { cidr: string; reason: string; expiresAt: number | null }, now: number): Promise<number> {
  const checked = checkCidr(b.cidr);
  if ('problem' in checked) throw new Error(`refused IP ban ${b.cidr}: ${checked.problem}`);
  const id = await inTransaction(db, async (trx) => {
    const r = await trx
      .insertInto('ip_ban')
      .values({ cidr: checked.cidr, reason: b.reason, created_by: actor.id, created_at: now, expires_at: b.expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'ip.ban', targetType: 'ip_ban', targetId: r.id, reason: b.reason, after: { cidr: checked.cidr, expires_at: b.expiresAt }, now });
    return r.id;
  });
  invalidateIpBans(db);
  return id;
}

export async function removeIpBan(db: Kysely<Database>, actor: Actor, id: number, now: number): Promise<boolean> {
  const done = await inTransaction(db, async (trx) => {
    const ban = await trx.selectFrom('ip_ban').selectAll().where('id', '=', id).executeTakeFirst();
    if (!ban) return false;
    await trx.deleteFrom('ip_ban').where('id', '=', id).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'ip.unban', targetType: 'ip_ban', targetId: id, before: { cidr: ban.cidr, reason: ban.reason, expires_at: ban.expires_at }, now });
    return true;
  });
  invalidateIpBans(db);
  return done;
}

// --- the in-memory list -----------------------------------------------------------------------------

interface Loaded {
  singles: Set<string>;
  ranges: Cidr[];
  loadedAt: number;
  /** Epoch seconds of the next expiry among the loaded bans (Infinity: none). */
  nextExpiry: number;
}

const lists = new WeakMap<object, Loaded>();
const loading = new WeakMap<object, Promise<Loaded>>();

export function invalidateIpBans(db: Kysely<Database>): void {
  lists.delete(db);
  cacheInvalidated('ipbans', db);
}
registerCacheDropper('ipbans', (db) => void lists.delete(db as Kysely<Database>));

async function load(db: Kysely<Database>, now: number): Promise<Loaded> {
  const rows = await db
    .selectFrom('ip_ban')
    .select(['cidr', 'expires_at'])
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  const l: Loaded = { singles: new Set(), ranges: [], loadedAt: Date.now(), nextExpiry: Infinity };
  for (const r of rows) {
    const c = parseCidr(r.cidr);
    if (!c) continue;
    if (c.prefix === (c.family === 4 ? 32 : 128)) l.singles.add(formatCidr(c));
    else l.ranges.push(c);
    if (r.expires_at !== null) l.nextExpiry = Math.min(l.nextExpiry, r.expires_at);
  }
  return l;
}

async function current(db: Kysely<Database>, now: number): Promise<Loaded> {
  const l = lists.get(db);
  if (l && Date.now() - l.loadedAt < BAN_CACHE_TTL_MS && now < l.nextExpiry) return l;
  // One load at a time per database, however many requests arrive meanwhile.
  let p = loading.get(db);
  if (!p) {
    p = load(db, now).finally(() => loading.delete(db));
    loading.set(db, p);
    const fresh = await p;
    lists.set(db, fresh);
    return fresh;
  }
  return p;
}

/** Whether `ip` (as the socket or a trusted proxy gave it) falls under a ban in force. */
export async function isIpBanned(db: Kysely<Database>, ip: string, now: number): Promise<boolean> {
  const l = await current(db, now);
  if (l.singles.size === 0 && l.ranges.length === 0) return false;
  const addr = parseIp(ip);
  if (!addr) return false;
  const c: Cidr = { ...addr, prefix: addr.family === 4 ? 32 : 128 };
  if (l.singles.has(formatCidr(c))) return true;
  for (const r of l.ranges) if (cidrContains(r, addr)) return true;
  return false;
}
