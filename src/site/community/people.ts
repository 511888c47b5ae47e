/**
 * Members among themselves: friends (a one-way list, as T411 had: adding someone needs no
 * acceptance), who is online (seen on the site within the last ONLINE_WINDOW seconds), the member
 * search by username prefix, and the staff team by role. Deleted accounts never appear; disabled
 * ones do not appear in the online list or the staff team.
 *
 * Privacy: a member with the "strong" privacy level is left out of the online list (staff still
 * see them), and their online status is shown only to friends they added back.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, UserPrivacy, UserRole } from '../../db/schema.js';
import { isStaff } from '../torrents/read.js';
import { notify } from '../notifications.js';
import { fail, num, touched, type Result } from './common.js';

export const ONLINE_WINDOW = 15 * 60;
export const MAX_FRIENDS = 500;
export const SEARCH_LIMIT = 50;
/** Roles listed on the staff page, highest first. */
export const TEAM_ROLES: readonly UserRole[] = ['admin', 'supermod', 'moderator', 'uploader'];

export function isOnline(lastSeenAt: number | null, now: number): boolean {
  return lastSeenAt !== null && lastSeenAt >= now - ONLINE_WINDOW;
}

export interface MemberRow {
  id: number;
  username: string;
  role: UserRole;
  privacy: UserPrivacy;
  last_seen_at: number | null;
  created_at: number;
}

const MEMBER_COLUMNS = ['user.id as id', 'user.username as username', 'user.role as role', 'user.privacy as privacy', 'user.last_seen_at as last_seen_at', 'user.created_at as created_at'] as const;

export async function addFriend(
  db: Kysely<Database>,
  o: { userId: number; userName: string; friendId: number; now: number },
): Promise<Result<{ added: boolean }, 'self' | 'not_found' | 'too_many'>> {
  if (o.friendId === o.userId) return fail('self');
  const f = await db.selectFrom('user').select('id').where('id', '=', o.friendId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!f) return fail('not_found');
  const n = await db.selectFrom('friend').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', o.userId).executeTakeFirstOrThrow();
  if (num(n.n) >= MAX_FRIENDS) return fail('too_many');
  const r = await db
    .insertInto('friend')
    .values({ user_id: o.userId, friend_id: o.friendId, created_at: o.now })
    .onConflict((oc) => oc.columns(['user_id', 'friend_id']).doNothing())
    .executeTakeFirst();
  const added = touched(r) === 1;
  if (added) await notify(db, o.friendId, 'friend_added', { user: o.userId, name: o.userName, link: `/u/${o.userId}` }, o.now);
  return { ok: true, added };
}

export async function removeFriend(db: Kysely<Database>, userId: number, friendId: number): Promise<boolean> {
  const r = await db.deleteFrom('friend').where('user_id', '=', userId).where('friend_id', '=', friendId).executeTakeFirst();
  return touched(r) === 1;
}

export async function isFriend(db: Kysely<Database>, userId: number, friendId: number): Promise<boolean> {
  const r = await db.selectFrom('friend').select('friend_id').where('user_id', '=', userId).where('friend_id', '=', friendId).executeTakeFirst();
  return r !== undefined;
}

export interface FriendRow extends MemberRow {
  /** The friend added this member back. */
  mutual: boolean;
  /** Whether this member may see the friend's online status (see the module comment). */
  status_visible: boolean;
}

/** A member's friends, by username. */
export async function listFriends(db: Kysely<Database>, userId: number): Promise<FriendRow[]> {
  const rows = await db
    .selectFrom('friend')
    .innerJoin('user', 'user.id', 'friend.friend_id')
    .leftJoin('friend as back', (j) => j.onRef('back.user_id', '=', 'friend.friend_id').on('back.friend_id', '=', userId))
    .select([...MEMBER_COLUMNS, 'back.user_id as back_id'])
    .where('friend.user_id', '=', userId)
    .where('user.deleted_at', 'is', null)
    .orderBy('user.username')
    .execute();
  return rows.map(({ back_id, ...r }) => ({ ...r, mutual: back_id !== null, status_visible: r.privacy !== 'strong' || back_id !== null }));
}

/** Members seen within ONLINE_WINDOW, most recent first; strong-privacy ones only for staff. */
export async function listOnline(db: Kysely<Database>, now: number, viewer: { role: UserRole }, limit = 500): Promise<MemberRow[]> {
  let q = db
    .selectFrom('user')
    .select(MEMBER_COLUMNS)
    .where('last_seen_at', '>=', now - ONLINE_WINDOW)
    .where('deleted_at', 'is', null)
    .where('enabled', '=', 1);
  if (!isStaff(viewer)) q = q.where('privacy', '!=', 'strong');
  return q.orderBy('last_seen_at', 'desc').orderBy('id').limit(limit).execute();
}

/** `%`, `_` and the escape character itself, escaped for LIKE ... ESCAPE '\'. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Members whose username starts with `prefix` (case-insensitive), by username. */
export async function searchMembers(db: Kysely<Database>, prefix: string, limit = SEARCH_LIMIT): Promise<MemberRow[]> {
  const p = prefix.trim().toLowerCase();
  if (p.length === 0 || p.length > 100) return [];
  return db
    .selectFrom('user')
    .select(MEMBER_COLUMNS)
    .where(sql<boolean>`lower(username) like ${`${escapeLike(p)}%`} escape '\\'`)
    .where('deleted_at', 'is', null)
    .orderBy('username')
    .limit(limit)
    .execute();
}

/** Enabled members of the staff roles, grouped by role (highest first), each by username. */
export async function listStaffTeam(db: Kysely<Database>): Promise<Array<{ role: UserRole; members: MemberRow[] }>> {
  const rows = await db
    .selectFrom('user')
    .select(MEMBER_COLUMNS)
    .where('role', 'in', [...TEAM_ROLES])
    .where('deleted_at', 'is', null)
    .where('enabled', '=', 1)
    .orderBy('username')
    .execute();
  return TEAM_ROLES.map((role) => ({ role, members: rows.filter((r) => r.role === role) }));
}
