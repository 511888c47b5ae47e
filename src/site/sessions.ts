/**
 * Server-side sessions. The cookie holds a random token; the database holds its SHA-256, the
 * member, and the expiry. Sessions are revocable one by one or all at once ("log out everywhere").
 * Sessions without "remember me" slide: each visit pushes their expiry `session_ttl` further.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, User } from '../db/schema.js';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface SessionOptions {
  persistent: boolean;
  ttl: number;
  ip: string | null;
  userAgent: string | null;
  now: number;
}

/** Creates a session and returns the cookie token. */
export async function createSession(db: Kysely<Database>, userId: number, o: SessionOptions): Promise<string> {
  const token = newToken();
  await db
    .insertInto('session')
    .values({
      id: hashToken(token),
      user_id: userId,
      persistent: o.persistent ? 1 : 0,
      created_at: o.now,
      last_seen_at: o.now,
      expires_at: o.now + o.ttl,
      ip: o.ip,
      user_agent: o.userAgent ? o.userAgent.slice(0, 300) : null,
    })
    .execute();
  return token;
}

export interface SessionUser {
  sessionId: string;
  persistent: boolean;
  lastSeenAt: number;
  expiresAt: number;
  user: User;
}

/** The live session for a cookie token, with its member (enabled members only). */
export async function findSession(db: Kysely<Database>, token: string, now: number): Promise<SessionUser | null> {
  if (token.length < 20 || token.length > 100) return null;
  const id = hashToken(token);
  const row = await db
    .selectFrom('session')
    .innerJoin('user', 'user.id', 'session.user_id')
    .selectAll('user')
    .select(['session.persistent', 'session.last_seen_at as s_last_seen', 'session.expires_at as s_expires'])
    .where('session.id', '=', id)
    .executeTakeFirst();
  if (!row || row.s_expires <= now || row.enabled !== 1) return null;
  const { persistent, s_last_seen, s_expires, ...user } = row;
  return { sessionId: id, persistent: persistent === 1, lastSeenAt: s_last_seen, expiresAt: s_expires, user: user as User };
}

/** Records activity (at most once a minute per session, to spare the database). */
export async function touchSession(db: Kysely<Database>, s: SessionUser, ttl: number, now: number): Promise<void> {
  if (now - s.lastSeenAt < 60) return;
  await db
    .updateTable('session')
    .set(s.persistent ? { last_seen_at: now } : { last_seen_at: now, expires_at: now + ttl })
    .where('id', '=', s.sessionId)
    .execute();
  await db.updateTable('user').set({ last_seen_at: now }).where('id', '=', s.user.id).execute();
}

export async function deleteSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.deleteFrom('session').where('id', '=', sessionId).execute();
}

/** Ends every session of a member, except `keep` when given. Returns how many ended. */
export async function deleteUserSessions(db: Kysely<Database>, userId: number, keep?: string): Promise<number> {
  let q = db.deleteFrom('session').where('user_id', '=', userId);
  if (keep) q = q.where('id', '!=', keep);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function listUserSessions(db: Kysely<Database>, userId: number, now: number) {
  return db
    .selectFrom('session')
    .select(['id', 'persistent', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('last_seen_at', 'desc')
    .execute();
}

export async function pruneSessions(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('session').where('expires_at', '<=', now).execute();
}
