/**
 * TOTP recovery codes: ten one-time codes shown once when two-factor authentication is switched
 * on (or the codes regenerated), each usable once instead of an authenticator code. Stored as
 * SHA-256 of the member id and the normalised code: 60 random bits per code, so a stored hash
 * is no shortcut to guessing one online, where the login rate limit applies.
 *
 * Codes are 12 characters of Crockford's base32 (no I, L, O or U), shown as `xxxx-xxxx-xxxx`;
 * what the member types is read forgivingly (case, spaces, hyphens, i/l for 1 and o for 0).
 */
import { createHash, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += ALPHABET[randomInt(32)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  const set = new Set<string>();
  while (set.size < n) set.add(newRecoveryCode());
  return [...set];
}

/** The canonical form of a typed code, or null when it cannot be one. */
export function normaliseRecoveryCode(typed: string): string | null {
  const s = typed
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  if (s.length !== 12) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return s;
}

export function hashRecoveryCode(userId: number, code: string): string | null {
  const n = normaliseRecoveryCode(code);
  if (n === null) return null;
  return createHash('sha256').update(`recovery:${userId}:${n}`).digest('hex');
}

/** Replaces a member's codes with new ones (the old ones stop working). */
export async function replaceRecoveryCodes(db: Kysely<Database>, userId: number, codes: readonly string[]): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom('recovery_code').where('user_id', '=', userId).execute();
    if (codes.length === 0) return;
    await trx
      .insertInto('recovery_code')
      .values(codes.map((c) => ({ user_id: userId, code_hash: hashRecoveryCode(userId, c)!, used_at: null })))
      .execute();
  });
}

/** Uses one code: true when it was the member's and unused (now it is used). Atomic. */
export async function useRecoveryCode(db: Kysely<Database>, userId: number, typed: string, now: number): Promise<boolean> {
  const hash = hashRecoveryCode(userId, typed);
  if (hash === null) return false;
  const r = await db
    .updateTable('recovery_code')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** How many unused codes a member has left. */
export async function countRecoveryCodes(db: Kysely<Database>, userId: number): Promise<number> {
  const row = await db
    .selectFrom('recovery_code')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function deleteRecoveryCodes(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('recovery_code').where('user_id', '=', userId).execute();
}
