/**
 * Email verification of new accounts (`joining.verify_email`): the sign-up sends a one-time link
 * (auth_token purpose `email_verify`, its data the address it verifies); following it marks the
 * address verified. Until then the member may log in and browse, but the site refuses them
 * .torrent downloads (the torrent page and RSS enclosures) with a message that says why and how
 * to get a new link.
 *
 * Accounts created by operators (first-run setup, the command line, tests) are created verified;
 * only sign-ups and accepted applications start unverified.
 */
import type { Kysely } from 'kysely';
import type { Database, Locale, User } from '../../db/schema.js';
import { consumeAuthToken, createAuthToken, revokeAuthTokens } from '../accounts/tokens.js';
import type { Site } from '../site.js';

export const VERIFY_PATH = '/verify-email/';

/** Whether the site refuses this member downloads until they verify their address. */
export function mustVerifyEmail(site: Pick<Site, 'config'>, user: Pick<User, 'email' | 'email_verified'>): boolean {
  return site.config.joining.verify_email && user.email !== null && user.email_verified !== 1;
}

/** Creates a verification link for the member's current address (earlier links stop working). */
export async function verificationLink(site: Site, user: Pick<User, 'id' | 'email'>): Promise<string | null> {
  if (!user.email) return null;
  const now = site.now();
  await revokeAuthTokens(site.db, user.id, 'email_verify', now);
  const token = await createAuthToken(site.db, { purpose: 'email_verify', userId: user.id, data: user.email, ttl: site.config.joining.verify_ttl, now });
  return `${site.publicUrl}${VERIFY_PATH}${token}`;
}

export type VerifyResult = { ok: true; userId: number } | { ok: false };

/**
 * Uses a verification token: marks the address verified when it is still the member's address.
 * Unknown, used, expired tokens, and tokens for an address the member no longer has, fail.
 */
export async function verifyEmailToken(db: Kysely<Database>, token: string, now: number): Promise<VerifyResult> {
  const row = await consumeAuthToken(db, token, 'email_verify', now);
  if (!row || row.user_id === null || !row.data) return { ok: false };
  const r = await db
    .updateTable('user')
    .set({ email_verified: 1, updated_at: now })
    .where('id', '=', row.user_id)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', row.data!.toLowerCase()))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? { ok: true, userId: row.user_id } : { ok: false };
}

/** The locale to write a member's mail in. */
export function mailLocale(site: Site, user: Pick<User, 'locale'>, fallback?: Locale): Locale {
  return user.locale ?? fallback ?? site.config.site.default_locale;
}
