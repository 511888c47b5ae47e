/**
 * Freeleech and multipliers (see docs/tracker.md, "Factors").
 *
 * Three sources of factors, combined by the tracker at announce time (src/swarm/access-cache.ts):
 *   - the torrent's own `upload_factor` / `download_factor`, until `factors_until` when set;
 *   - site-wide windows (`freeleech_window`): from `starts_at` to `ends_at`, e.g. download factor 0
 *     (freeleech) or upload factor 2 (double upload); staff with `freeleech.manage` schedule them;
 *   - freeleech tokens: a member spends one of `user.freeleech_tokens` on a torrent, which is then
 *     free (download factor 0) for that member only, for `rules.token_duration`.
 * Download factor = the SMALLEST of the torrent's, the windows in force and 0 with a token;
 * upload factor = the LARGEST of the torrent's and the windows in force.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, FreeleechWindowTable } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import type { FactorWindow, TokenUse } from '../../swarm/access-cache.js';
import type { Site } from '../site.js';
import { audit } from '../staff/audit.js';
import { cacheInvalidated, registerCacheDropper } from '../../shared/cache-events.js';

export type FreeleechWindow = Selectable<FreeleechWindowTable>;

/** Windows not over at `now` (for the tracker's access cache). */
export async function listFactorWindows(db: Kysely<Database>, now: number): Promise<FactorWindow[]> {
  const rows = await db.selectFrom('freeleech_window').selectAll().where('ends_at', '>', now).orderBy('starts_at').execute();
  return rows.map((r) => ({ startsAt: Number(r.starts_at), endsAt: Number(r.ends_at), uploadFactor: r.upload_factor, downloadFactor: r.download_factor }));
}

/** Tokens not expired at `now` (for the tracker's access cache). */
export async function listTokenUses(db: Kysely<Database>, now: number): Promise<TokenUse[]> {
  const rows = await db.selectFrom('freeleech_token_use').select(['user_id', 'torrent_id', 'expires_at']).where('expires_at', '>', now).execute();
  return rows.map((r) => ({ userId: r.user_id, torrentId: r.torrent_id, expiresAt: Number(r.expires_at) }));
}

/** Every window, newest start first (staff page). */
export async function listWindows(db: Kysely<Database>, limit = 100): Promise<Array<FreeleechWindow & { created_by_name: string | null }>> {
  return db
    .selectFrom('freeleech_window')
    .leftJoin('user', 'user.id', 'freeleech_window.created_by')
    .selectAll('freeleech_window')
    .select('user.username as created_by_name')
    .orderBy('freeleech_window.starts_at', 'desc')
    .orderBy('freeleech_window.id', 'desc')
    .limit(limit)
    .execute();
}

/** The windows in force at `now` (badges on listings and torrent pages). */
export async function activeWindows(db: Kysely<Database>, now: number): Promise<FreeleechWindow[]> {
  return db.selectFrom('freeleech_window').selectAll().where('starts_at', '<=', now).where('ends_at', '>', now).orderBy('starts_at').execute();
}

export interface SiteFactors {
  upload: number;
  download: number;
  /** When the earliest window in force ends. */
  until: number;
}

/** The factors every member gets from the site-wide windows in force at `now` (1 and 1 without one); not cached. */
export async function windowFactors(db: Kysely<Database>, now: number): Promise<{ upload: number; download: number }> {
  return effectiveFactors({ upload_factor: 1, download_factor: 1, factors_until: null }, await activeWindows(db, now), false, now);
}

/** The torrents on which the member has a freeleech token in force at `now`. */
export async function tokenTorrentIds(db: Kysely<Database>, userId: number, now: number): Promise<number[]> {
  const rows = await db.selectFrom('freeleech_token_use').select('torrent_id').where('user_id', '=', userId).where('expires_at', '>', now).execute();
  return rows.map((r) => r.torrent_id);
}

const siteFactorsCache = new WeakMap<object, { at: number; value: SiteFactors | null }>();

/**
 * The site-wide factors in force at `now` (the banner on every page), or null when no window is
 * in force. Cached for 30 s per database: pages must not query it on every request.
 */
export async function siteFactors(db: Kysely<Database>, now: number): Promise<SiteFactors | null> {
  const c = siteFactorsCache.get(db);
  if (c && now - c.at < 30 && (c.value === null || now < c.value.until)) return c.value;
  const windows = await activeWindows(db, now);
  let value: SiteFactors | null = null;
  if (windows.length > 0) {
    const f = effectiveFactors({ upload_factor: 1, download_factor: 1, factors_until: null }, windows, false, now);
    value = { ...f, until: Math.min(...windows.map((w) => w.ends_at)) };
    if (f.upload === 1 && f.download === 1) value = null;
  }
  siteFactorsCache.set(db, { at: now, value });
  return value;
}

/** Forgets the cached site-wide factors (after a window is created or deleted). */
export function invalidateSiteFactors(db: Kysely<Database>): void {
  siteFactorsCache.delete(db);
  cacheInvalidated('factors', db);
}
registerCacheDropper('factors', (db) => void siteFactorsCache.delete(db as Kysely<Database>));

/** The factors a member gets on a torrent at `now`: the same combination as the tracker's. */
export function effectiveFactors(
  torrent: { upload_factor: number; download_factor: number; factors_until: number | null },
  windows: ReadonlyArray<Pick<FreeleechWindow, 'starts_at' | 'ends_at' | 'upload_factor' | 'download_factor'>>,
  tokenActive: boolean,
  now: number,
): { upload: number; download: number } {
  const expired = torrent.factors_until !== null && now >= torrent.factors_until;
  let upload = expired ? 1 : torrent.upload_factor;
  let download = expired ? 1 : torrent.download_factor;
  for (const w of windows) {
    if (now < w.starts_at || now >= w.ends_at) continue;
    if (w.upload_factor > upload) upload = w.upload_factor;
    if (w.download_factor < download) download = w.download_factor;
  }
  if (tokenActive) download = 0;
  return { upload, download };
}

export interface WindowInput {
  startsAt: number;
  endsAt: number;
  uploadFactor: number;
  downloadFactor: number;
  reason: string;
}

export type WindowError = 'dates' | 'factors' | 'reason';

/** What is wrong with a window, or null. */
export function checkWindow(w: WindowInput): WindowError | null {
  if (!Number.isInteger(w.startsAt) || !Number.isInteger(w.endsAt) || w.endsAt <= w.startsAt) return 'dates';
  const ok = (f: number) => Number.isFinite(f) && f >= 0 && f <= 10;
  if (!ok(w.uploadFactor) || !ok(w.downloadFactor)) return 'factors';
  if (w.reason.trim() === '' || w.reason.length > 500) return 'reason';
  return null;
}

export interface StaffActor {
  id: number;
  username: string;
}

/** Schedules a window (audited, same transaction) and tells the tracker. Returns its id. */
export async function createWindow(site: Pick<Site, 'db' | 'tracker' | 'log'>, actor: StaffActor, w: WindowInput, now: number): Promise<number> {
  const err = checkWindow(w);
  if (err) throw new RangeError('invalid freeleech window: ' + err);
  const id = await inTransaction(site.db, async (trx) => {
    const row = await trx
      .insertInto('freeleech_window')
      .values({ starts_at: w.startsAt, ends_at: w.endsAt, upload_factor: w.uploadFactor, download_factor: w.downloadFactor, reason: w.reason.trim(), created_by: actor.id, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'freeleech.window_create',
      targetType: 'freeleech_window',
      targetId: row.id,
      reason: w.reason.trim(),
      after: { starts_at: w.startsAt, ends_at: w.endsAt, upload_factor: w.uploadFactor, download_factor: w.downloadFactor },
      now,
    });
    return row.id;
  });
  await tellTracker(site);
  return id;
}

/** Removes a window (audited); returns false when it did not exist. */
export async function deleteWindow(site: Pick<Site, 'db' | 'tracker' | 'log'>, actor: StaffActor, id: number, now: number): Promise<boolean> {
  const done = await inTransaction(site.db, async (trx) => {
    const before = await trx.selectFrom('freeleech_window').selectAll().where('id', '=', id).executeTakeFirst();
    if (!before) return false;
    await trx.deleteFrom('freeleech_window').where('id', '=', id).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'freeleech.window_delete', targetType: 'freeleech_window', targetId: id, reason: before.reason, before, now });
    return true;
  });
  if (done) await tellTracker(site);
  return done;
}

export type TokenResult = { ok: true; expiresAt: number } | { ok: false; error: 'no_tokens' | 'already_active' | 'no_torrent' };

/** The member's active token on a torrent: its expiry, or null. */
export async function activeToken(db: Kysely<Database>, userId: number, torrentId: number, now: number): Promise<number | null> {
  const r = await db
    .selectFrom('freeleech_token_use')
    .select('expires_at')
    .where('user_id', '=', userId)
    .where('torrent_id', '=', torrentId)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return r ? Number(r.expires_at) : null;
}

/**
 * Spends one of the member's freeleech tokens on a torrent: for `duration` seconds their download
 * on it is not counted. Refused when they have none left, already have one active on it, or the
 * torrent is not active.
 */
export async function spendToken(site: Pick<Site, 'db' | 'tracker' | 'log'>, userId: number, torrentId: number, duration: number, now: number): Promise<TokenResult> {
  const r = await inTransaction(site.db, async (trx): Promise<TokenResult> => {
    const t = await trx.selectFrom('torrent').select('status').where('id', '=', torrentId).executeTakeFirst();
    if (!t || t.status !== 'active') return { ok: false, error: 'no_torrent' };
    const existing = await trx.selectFrom('freeleech_token_use').select('expires_at').where('user_id', '=', userId).where('torrent_id', '=', torrentId).executeTakeFirst();
    if (existing && Number(existing.expires_at) > now) return { ok: false, error: 'already_active' };
    const spent = await trx
      .updateTable('user')
      .set((eb) => ({ freeleech_tokens: eb('freeleech_tokens', '-', 1) }))
      .where('id', '=', userId)
      .where('freeleech_tokens', '>', 0)
      .executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) return { ok: false, error: 'no_tokens' };
    const expiresAt = now + duration;
    if (existing) {
      await trx.updateTable('freeleech_token_use').set({ created_at: now, expires_at: expiresAt }).where('user_id', '=', userId).where('torrent_id', '=', torrentId).execute();
    } else {
      await trx.insertInto('freeleech_token_use').values({ user_id: userId, torrent_id: torrentId, created_at: now, expires_at: expiresAt }).execute();
    }
    return { ok: true, expiresAt };
  });
  if (r.ok) await tellTracker(site);
  return r;
}

async function tellTracker(site: Pick<Site, 'db' | 'tracker' | 'log'>): Promise<void> {
  invalidateSiteFactors(site.db);
  try {
    await site.tracker.freeleechChanged?.();
  } catch (err) {
    site.log.error({ err }, 'telling the tracker about a freeleech change failed');
  }
}
