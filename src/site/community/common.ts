/**
 * Small pieces shared by the community services: result types, row-count helpers, and the text
 * checks every form uses (trimmed, not empty, bounded).
 */
import type { Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import { can, type Permission } from '../staff/policy.js';

/** A success with its value, or a failure named by a code the pages turn into a message. */
export type Result<T, E extends string> = ({ ok: true } & T) | { ok: false; error: E };

export function fail<E extends string>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** Rows touched by an update or delete (Kysely answers bigint). */
export function touched(r: { numUpdatedRows?: bigint; numDeletedRows?: bigint; numInsertedOrUpdatedRows?: bigint }): number {
  return Number(r.numUpdatedRows ?? r.numDeletedRows ?? r.numInsertedOrUpdatedRows ?? 0n);
}

/** A count(*) answer as a number (PostgreSQL answers a string for bigint counts). */
export function num(v: number | string | bigint | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

/** The member acting, as the services need it: id, name and what the policy looks at. */
export type Actor = Pick<User, 'id' | 'username' | 'role' | 'enabled'> & { deleted_at?: number | null };

/** Text from a form: trimmed; line ends normalised. */
export function cleanText(s: unknown): string {
  return typeof s === 'string' ? s.replace(/\r\n?/g, '\n').trim() : '';
}

/** A single line from a form: trimmed, inner whitespace runs collapsed. */
export function cleanLine(s: unknown): string {
  return typeof s === 'string' ? s.replace(/\s+/g, ' ').trim() : '';
}

/** Checks a text against bounds: 'empty' or 'too_long', or null when it fits. */
export function checkLength(s: string, max: number): 'empty' | 'too_long' | null {
  if (s.length === 0) return 'empty';
  if (s.length > max) return 'too_long';
  return null;
}

/**
 * Whether `actor` may act as staff with `permission` on content written by `authorId` (null: the
 * author's account is gone): the policy's rank rule applies to the author when there is one.
 */
export async function mayModerate(db: Kysely<Database>, actor: Actor, permission: Permission, authorId: number | null): Promise<boolean> {
  if (authorId === null) return can(db, actor, permission);
  const author = await db.selectFrom('user').select(['id', 'role']).where('id', '=', authorId).executeTakeFirst();
  return author ? can(db, actor, permission, author) : can(db, actor, permission);
}
