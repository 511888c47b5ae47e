/**
 * Members: creation with their secret keys, lookups, passkey rotation, enabling/disabling, the
 * tracker's passkey list and traffic totals.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Passkey } from '../shared/types.js';
import { DuplicateUserError, isUniqueViolation, NotFoundError } from './errors.js';
import type { Database, User, UserRole } from './schema.js';
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
}

/** Every member's passkey and state, for the tracker's access cache. */
export async function listTrackerUsers(db: Kysely<Database>): Promise<TrackerUser[]> {
  const rows = await db.selectFrom('user').select(['id', 'passkey', 'enabled', 'disabled_reason']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, passkey: r.passkey, enabled: r.enabled === 1, disabledReason: r.disabled_reason }));
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
