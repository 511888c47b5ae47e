/**
 * Notifications to members (moderation results, takedowns, hit-and-run warnings, filled
 * requests...): a row per event with a kind and JSON parameters; pages render them in the
 * member's language from the kind (message key `notify.<kind>`), so nothing is stored translated.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export type NotificationData = Record<string, string | number | null>;

export async function notify(db: Kysely<Database>, userId: number, kind: string, data: NotificationData, now: number): Promise<void> {
  await db.insertInto('notification').values({ user_id: userId, kind, data: JSON.stringify(data), created_at: now, read_at: null }).execute();
}

export async function listNotifications(db: Kysely<Database>, userId: number, limit = 50) {
  const rows = await db.selectFrom('notification').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as NotificationData }));
}

export async function unreadNotifications(db: Kysely<Database>, userId: number): Promise<number> {
  const r = await db.selectFrom('notification').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function markNotificationsRead(db: Kysely<Database>, userId: number, now: number): Promise<void> {
  await db.updateTable('notification').set({ read_at: now }).where('user_id', '=', userId).where('read_at', 'is', null).execute();
}
