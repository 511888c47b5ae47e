/**
 * One-time tokens sent by link (password reset, first-run setup, email change). The link carries
 * the token; the database keeps only its SHA-256 (`auth_token.token_hash`), its purpose, member,
 * data, expiry, and when it was used: a token works once, before its expiry, for its purpose.
 *
 * Tokens are 128 random bits written as 32 lowercase hex characters: enough against guessing,
 * and the shape that the request log already redacts in URL paths (src/shared/log.ts), so that
 * `/password/reset/<token>` never reaches a log line in clear.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AuthTokenPurpose, AuthTokenTable, Database } from '../../db/schema.js';
import { hashToken } from '../sessions.js';

export type AuthToken = Selectable<AuthTokenTable>;

const TOKEN_RE = /^[0-9a-f]{32}$/;

export function newLinkToken(): string {
  return randomBytes(16).toString('hex');
}

/** Whether a string has the shape of a link token (checked before any database query). */
export function isLinkToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN_RE.test(s);
}

export interface NewAuthToken {
  purpose: AuthTokenPurpose;
  userId: number | null;
  data?: string | null;
  /** Seconds of validity. */
  ttl: number;
  now: number;
}

/** Stores a new token (hashed) and returns the token itself, for the link. */
export async function createAuthToken(db: Kysely<Database>, o: NewAuthToken): Promise<string> {
  const token = newLinkToken();
  await db
    .insertInto('auth_token')
    .values({
      token_hash: hashToken(token),
      purpose: o.purpose,
      user_id: o.userId,
      data: o.data ?? null,
      created_at: o.now,
      expires_at: o.now + o.ttl,
      used_at: null,
    })
    .execute();
  return token;
}

/** The token's row while it is usable (right purpose, not used, not expired), without using it. */
export async function findAuthToken(db: Kysely<Database>, token: string, purpose: AuthTokenPurpose, now: number): Promise<AuthToken | null> {
  if (!isLinkToken(token)) return null;
  const row = await db
    .selectFrom('auth_token')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  if (!row || row.used_at !== null || row.expires_at <= now) return null;
  return row;
}

/**
 * Uses a token: marks it used and returns its row, or null when it is unknown, of another purpose,
 * expired or already used. Atomic: of two concurrent uses, one wins.
 */
export async function consumeAuthToken(db: Kysely<Database>, token: string, purpose: AuthTokenPurpose, now: number): Promise<AuthToken | null> {
  if (!isLinkToken(token)) return null;
  const hash = hashToken(token);
  const r = await db
    .updateTable('auth_token')
    .set({ used_at: now })
    .where('token_hash', '=', hash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return null;
  const row = await db.selectFrom('auth_token').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  return row ?? null;
}

/** Marks every live (unused, unexpired) token of a member for a purpose as used (e.g. other reset links after a reset). */
export async function revokeAuthTokens(db: Kysely<Database>, userId: number, purpose: AuthTokenPurpose, now: number): Promise<number> {
  const r = await db
    .updateTable('auth_token')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
