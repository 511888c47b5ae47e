/**
 * Members: creation with their secret keys, lookups, passkey rotation, enabling/disabling, the
 * tracker's passkey list and traffic totals.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Passkey } from '../shared/types.js';
import { DuplicateUserError, isUniqueViolation, NotFoundError } from './errors.js';
import type { Database, Locale, User, UserPrivacy, UserRole } from './schema.js';
import { inTransaction } from './util.js';

export { DuplicateUserError, NotFoundError };

/** 16 random bytes as 32 lowercase hex characters (passkeys, RSS keys). */
export function newSecretKey(): string {
  return randomBytes(16).toString('hex');
}

export interface CreateUserInput {
  username: string;
  email?: string | null;
  passwordHash?: string | null;
  role?: UserRole;
  /**
   * Whether the address counts as verified. Default: yes when there is one, for accounts made by
   * operators (setup, command line); sign-ups pass false and verify by mail (site/joining/verify.ts).
   */
  emailVerified?: boolean;
  /** Epoch seconds. */
  now: number;
}

/**
 * Creates a member with a fresh passkey and RSS key. Throws DuplicateUserError when the username
 * (regardless of case) or the email is taken.
 */
export async function createUser(
  db: Kysely<Database>,
  input: CreateUserInput,
): Promise<{ id: number; passkey: Passkey; rssKey: string }> {
  const passkey = newSecretKey() as Passkey;
  const rssKey = newSecretKey();
  const email = input.email ?? null;
  try {
    return await inTransaction(db, async (trx) => {
      await assertFree(trx, input.username, email);
      const row = await trx
        .insertInto('user')
        .values({
          username: input.username,
          email,
          password_hash: input.passwordHash ?? null,
          passkey,
          rss_key: rssKey,
          role: input.role ?? 'member',
          email_verified: email !== null && input.emailVerified !== false ? 1 : 0,
          disabled_reason: null,
          created_at: input.now,
          updated_at: input.now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id, passkey, rssKey };
    });
  } catch (err) {
    // A concurrent insert won the race: report it the same way.
    if (isUniqueViolation(err)) await assertFree(db, input.username, email);
    throw err;
  }
}

async function assertFree(db: Kysely<Database>, username: string, email: string | null): Promise<void> {
  if (await findUserByUsername(db, username)) throw new DuplicateUserError('username', username);
  if (email !== null) {
    const taken = await db.selectFrom('user').select('id').where('email', '=', email).executeTakeFirst();
    if (taken) throw new DuplicateUserError('email', email);
  }
}

/** The member with this username, compared without regard to (ASCII) case. */
export async function findUserByUsername(db: Kysely<Database>, username: string): Promise<User | undefined> {
  return db
    .selectFrom('user')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['username']), '=', eb.fn('lower', [eb.val(username)])))
    .executeTakeFirst();
}

/**
 * The member with this email address, compared without regard to (ASCII) case. The site stores
 * new addresses in lower case; the comparison also finds older mixed-case ones.
 */
export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db
    .selectFrom('user')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', eb.fn('lower', [eb.val(email)])))
    .executeTakeFirst();
}

/** The member named by a login field: a username, or else an email address. */
export async function findUserByLogin(db: Kysely<Database>, login: string): Promise<User | undefined> {
  const byName = await findUserByUsername(db, login);
  if (byName || !login.includes('@')) return byName;
  return findUserByEmail(db, login);
}

/** Stores a new password hash. Returns false if no such member. */
export async function setPasswordHash(db: Kysely<Database>, userId: number, passwordHash: string, now: number): Promise<boolean> {
  const r = await db.updateTable('user').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Changes a member's email address (marked verified when `verified`). Throws DuplicateUserError
 * when another member has it (regardless of case). Returns false if no such member.
 */
export async function setUserEmail(db: Kysely<Database>, userId: number, email: string, verified: boolean, now: number): Promise<boolean> {
  const check = async (q: Kysely<Database>) => {
    const other = await findUserByEmail(q, email);
    if (other && other.id !== userId) throw new DuplicateUserError('email', email);
  };
  try {
    return await inTransaction(db, async (trx) => {
      await check(trx);
      const r = await trx
        .updateTable('user')
        .set({ email, email_verified: verified ? 1 : 0, updated_at: now })
        .where('id', '=', userId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    });
  } catch (err) {
    if (isUniqueViolation(err)) await check(db);
    throw err;
  }
}

export interface UserPreferences {
  /** null follows the browser. */
  locale: Locale | null;
  privacy: UserPrivacy;
}

/** Saves a member's language and privacy level. Returns false if no such member. */
export async function setUserPreferences(db: Kysely<Database>, userId: number, p: UserPreferences, now: number): Promise<boolean> {
  const r = await db.updateTable('user').set({ locale: p.locale, privacy: p.privacy, updated_at: now }).where('id', '=', userId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Records a successful login (last_login_at and last_seen_at). */
export async function recordLogin(db: Kysely<Database>, userId: number, now: number): Promise<void> {
  await db.updateTable('user').set({ last_login_at: now, last_seen_at: now }).where('id', '=', userId).execute();
}

/**
 * Sets a member's TOTP state: a secret being enrolled (enabled false), switched on (enabled true),
 * or cleared (secret null, enabled false).
 */
export async function setUserTotp(db: Kysely<Database>, userId: number, secret: string | null, enabled: boolean, now: number): Promise<boolean> {
  const r = await db
    .updateTable('user')
    .set({ totp_secret: secret, totp_enabled: enabled ? 1 : 0, updated_at: now })
    .where('id', '=', userId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function findUserById(db: Kysely<Database>, id: number): Promise<User | undefined> {
  return db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByPasskey(db: Kysely<Database>, passkey: string): Promise<User | undefined> {
  return db.selectFrom('user').selectAll().where('passkey', '=', passkey).executeTakeFirst();
}

/** Gives the member a new passkey (the old one stops working at the tracker's next refresh). Throws NotFoundError for an unknown member. */
export async function rotatePasskey(db: Kysely<Database>, userId: number, now: number): Promise<Passkey> {
  const passkey = newSecretKey() as Passkey;
  const r = await db
    .updateTable('user')
    .set({ passkey, updated_at: now })
    .where('id', '=', userId)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new NotFoundError('user', userId);
  return passkey;
}

/** Gives the member a new RSS key. Throws NotFoundError for an unknown member. */
export async function rotateRssKey(db: Kysely<Database>, userId: number, now: number): Promise<string> {
  const rssKey = newSecretKey();
  const r = await db.updateTable('user').set({ rss_key: rssKey, updated_at: now }).where('id', '=', userId).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new NotFoundError('user', userId);
  return rssKey;
}

/** Enables or disables a member; the reason is kept only while disabled. Returns false if no such member. */
export async function setUserEnabled(
  db: Kysely<Database>,
  userId: number,
  enabled: boolean,
  reason: string | null,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('user')
    .set({ enabled: enabled ? 1 : 0, disabled_reason: enabled ? null : reason, updated_at: now })
    .where('id', '=', userId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface TrackerUser {
  id: number;
  passkey: string;
  enabled: boolean;
  disabledReason: string | null;
  /** The tracker's answer to this member's download announces when the sharing rules refuse them. */
  downloadRefused: string | null;
}

export const UNVERIFIED_EMAIL_REFUSAL = 'Confirm your email address to download: follow the link we sent you (see your account page); seeding is allowed';

/**
 * The failure reason for a member's refused downloads, from the user row's columns: the sharing
 * rules' refusal, else (when the site requires it) an email address not yet verified.
 */
export function downloadRefusal(
  r: { download_refused: number; download_refused_reason: string | null; email?: string | null; email_verified?: number },
  opts: { requireVerifiedEmail?: boolean } = {},
): string | null {
  if (r.download_refused === 1) return r.download_refused_reason || 'Downloading is suspended for your account; seeding is allowed';
  if (opts.requireVerifiedEmail && r.email != null && r.email_verified !== 1) return UNVERIFIED_EMAIL_REFUSAL;
  return null;
}

/** Every member's passkey and state, for the tracker's access cache. */
export async function listTrackerUsers(db: Kysely<Database>, opts: { requireVerifiedEmail?: boolean } = {}): Promise<TrackerUser[]> {
  const rows = await db
    .selectFrom('user')
    .select(['id', 'passkey', 'enabled', 'disabled_reason', 'download_refused', 'download_refused_reason', 'email', 'email_verified'])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, passkey: r.passkey, enabled: r.enabled === 1, disabledReason: r.disabled_reason, downloadRefused: downloadRefusal(r, opts) }));
}

/** How many members have the admin role (only enabled ones with `enabledOnly`). */
export async function countAdmins(db: Kysely<Database>, opts: { enabledOnly?: boolean } = {}): Promise<number> {
  let q = db
    .selectFrom('user')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin');
  if (opts.enabledOnly) q = q.where('enabled', '=', 1);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface UserTraffic {
  /** Credited bytes. */
  uploaded: number;
  downloaded: number;
  /** Bytes as reported by the clients. */
  rawUploaded: number;
  rawDownloaded: number;
  /** Seconds. */
  seedTime: number;
  leechTime: number;
}

/** The member's totals. Throws NotFoundError for an unknown member. */
export async function getUserTraffic(db: Kysely<Database>, userId: number): Promise<UserTraffic> {
  const r = await db
    .selectFrom('user')
    .select(['uploaded', 'downloaded', 'raw_uploaded', 'raw_downloaded', 'seed_time', 'leech_time'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!r) throw new NotFoundError('user', userId);
  return {
    uploaded: r.uploaded,
    downloaded: r.downloaded,
    rawUploaded: r.raw_uploaded,
    rawDownloaded: r.raw_downloaded,
    seedTime: r.seed_time,
    leechTime: r.leech_time,
  };
}
