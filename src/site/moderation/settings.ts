/**
 * Moderation settings kept in site_setting, editable by administrators:
 *
 * - 'listings.verified_only' ('1' or '0'): listings, searches, top lists and feeds show only
 *   verified torrents (approved by the staff, or uploaded by members who bypass the queue).
 *
 * Read on every listing, so kept in memory for SETTINGS_TTL_MS (another web node sees a change
 * within that time; this node at once).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { getSetting, setSetting } from '../settings.js';
import { audit } from '../staff/audit.js';
import type { Actor } from './common.js';
import { cacheInvalidated, registerCacheDropper } from '../../shared/cache-events.js';

export const VERIFIED_ONLY_KEY = 'listings.verified_only';
export const SETTINGS_TTL_MS = 5_000;

export interface ModerationSettings {
  verifiedOnly: boolean;
}

const cache = new WeakMap<object, { at: number; value: Promise<ModerationSettings> }>();

/** The settings as stored now (no cache). */
export async function readModerationSettings(db: Kysely<Database>): Promise<ModerationSettings> {
  return { verifiedOnly: (await getSetting(db, VERIFIED_ONLY_KEY)) === '1' };
}

export function moderationSettings(db: Kysely<Database>, nowMs = Date.now()): Promise<ModerationSettings> {
  const hit = cache.get(db);
  if (hit && nowMs - hit.at < SETTINGS_TTL_MS) return hit.value;
  const value = readModerationSettings(db);
  const entry = { at: nowMs, value };
  cache.set(db, entry);
  value.catch(() => {
    if (cache.get(db) === entry) cache.delete(db);
  });
  return value;
}

/** Whether listings show only verified torrents. */
export async function listingsVerifiedOnly(db: Kysely<Database>): Promise<boolean> {
  return (await moderationSettings(db)).verifiedOnly;
}

/** Changes the settings (audited as settings.update with before/after). */
export async function updateModerationSettings(db: Kysely<Database>, actor: Actor, next: ModerationSettings, now: number): Promise<void> {
  await inTransaction(db, async (trx) => {
    const before = await readModerationSettings(trx);
    await setSetting(trx, VERIFIED_ONLY_KEY, next.verifiedOnly ? '1' : '0', now);
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'settings.update', targetType: 'setting', before, after: next, now });
  });
  cache.delete(db);
  cacheInvalidated('settings', db);
}
registerCacheDropper('settings', (db) => void cache.delete(db));
