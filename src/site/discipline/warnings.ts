/**
 * Warnings and bans of members. Both are `user_warning` rows (kind 'manual' for a staff warning,
 * 'ban' for a ban; the tracker-rules job writes 'hnr' and 'ratio' ones), each with a reason and an
 * optional expiry; staff may revoke one before it expires (revoked_at, revoked_by).
 *
 * A ban disables the account: `user.enabled = 0`, `disabled_reason` = the ban's reason (what the
 * tracker answers: "Account disabled: <reason>"), every session ends, and the tracker is told at
 * once (TrackerLink.userChanged), so the passkey is refused from the next announce. A ban ends when
 * staff lift it or when it expires (`liftExpiredBans`, run by a periodic job): the row is marked
 * revoked (revoked_by null when it ran out), and the account is enabled again unless another ban
 * still holds or the account was disabled for something else meanwhile (its disabled_reason is no
 * longer a ban's), or was deleted.
 *
 * Every staff act writes an audit row in the same transaction as the change.
 */
import type { Kysely } from 'kysely';
import type { Database, User, UserWarningTable, WarningKind } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import type { Selectable } from 'kysely';
import { notify } from '../notifications.js';
import { deleteUserSessions } from '../sessions.js';
import type { TrackerLink } from '../site.js';
import { audit } from '../staff/audit.js';

export type Warning = Selectable<UserWarningTable>;

/** Who acts: a staff member, or null for the system (jobs). */
export interface Actor {
  id: number;
  username: string;
}

export interface DisciplineDeps {
  db: Kysely<Database>;
  tracker: Pick<TrackerLink, 'userChanged'>;
}

export type WarningState = 'active' | 'expired' | 'revoked';

export const MAX_REASON = 500;

export function warningState(w: Pick<Warning, 'expires_at' | 'revoked_at'>, now: number): WarningState {
  if (w.revoked_at !== null) return 'revoked';
  if (w.expires_at !== null && w.expires_at <= now) return 'expired';
  return 'active';
}

const actorName = (a: Actor | null) => a?.username ?? 'system';

/** A member's warnings (bans included unless `kinds` says otherwise), newest first. */
export async function listWarnings(db: Kysely<Database>, userId: number, o: { kinds?: readonly WarningKind[]; limit?: number } = {}): Promise<Warning[]> {
  let q = db.selectFrom('user_warning').selectAll().where('user_id', '=', userId);
  if (o.kinds) q = q.where('kind', 'in', o.kinds);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(o.limit ?? 200).execute();
}

/** Active warnings of a member (not bans): unrevoked and not expired. */
export async function activeWarningCount(db: Kysely<Database>, userId: number, now: number): Promise<number> {
  const r = await db
    .selectFrom('user_warning')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('kind', '!=', 'ban')
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The ban in force for a member (the one ending last; a permanent one first), or undefined. */
export async function activeBan(db: Kysely<Database>, userId: number, now: number): Promise<Warning | undefined> {
  const rows = await db
    .selectFrom('user_warning')
    .selectAll()
    .where('user_id', '=', userId)
    .where('kind', '=', 'ban')
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  rows.sort((a, b) => (a.expires_at === null ? -1 : b.expires_at === null ? 1 : b.expires_at - a.expires_at));
  return rows[0];
}

export interface WarnInput {
  reason: string;
  /** Epoch seconds, or null for a warning that never expires. */
  expiresAt: number | null;
}

/** A staff warning: the row, the audit entry and a notification to the member, in one transaction. */
export async function warnMember(db: Kysely<Database>, actor: Actor, target: Pick<User, 'id' | 'username'>, w: WarnInput, now: number): Promise<number> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('user_warning')
      .values({ user_id: target.id, kind: 'manual', reason: w.reason, created_by: actor.id, created_at: now, expires_at: w.expiresAt, revoked_at: null, revoked_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'user.warn',
      targetType: 'user',
      targetId: target.id,
      reason: w.reason,
      after: { warning: row.id, username: target.username, expires_at: w.expiresAt },
      now,
    });
    await notify(trx, target.id, 'discipline.warned', { reason: w.reason, expires_at: w.expiresAt, link: '/account#warnings' }, now);
    return row.id;
  });
}

/** Revokes an active warning (not a ban: see liftBan). False when there is nothing to revoke. */
export async function revokeWarning(db: Kysely<Database>, actor: Actor, warningId: number, now: number): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const w = await trx.selectFrom('user_warning').selectAll().where('id', '=', warningId).executeTakeFirst();
    if (!w || w.kind === 'ban' || warningState(w, now) !== 'active') return false;
    await trx.updateTable('user_warning').set({ revoked_at: now, revoked_by: actor.id }).where('id', '=', w.id).execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'user.warning_revoke',
      targetType: 'user',
      targetId: w.user_id,
      reason: null,
      before: { warning: w.id, kind: w.kind, reason: w.reason, expires_at: w.expires_at },
      after: { warning: w.id, revoked_at: now },
      now,
    });
    await notify(trx, w.user_id, 'discipline.warning_revoked', { reason: w.reason, link: '/account#warnings' }, now);
    return true;
  });
}

/**
 * Bans a member: the ban row, the account disabled with the ban's reason, every session ended and
 * the audit entry in one transaction; then the tracker is told. Returns the ban's id.
 */
export async function banMember(deps: DisciplineDeps, actor: Actor, target: Pick<User, 'id' | 'username'>, b: WarnInput, now: number): Promise<number> {
  const id = await inTransaction(deps.db, async (trx) => {
    const before = await trx.selectFrom('user').select(['enabled', 'disabled_reason']).where('id', '=', target.id).executeTakeFirstOrThrow();
    const stillBanned = await activeBan(trx, target.id, now);
    const row = await trx
      .insertInto('user_warning')
      .values({ user_id: target.id, kind: 'ban', reason: b.reason, created_by: actor.id, created_at: now, expires_at: b.expiresAt, revoked_at: null, revoked_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    // An account disabled for something else (not by a ban) keeps that reason: when the ban ends,
    // it stays disabled.
    const ownsState = before.enabled === 1 || stillBanned !== undefined;
    const after = ownsState ? { enabled: 0 as const, disabled_reason: b.reason } : { enabled: 0 as const, disabled_reason: before.disabled_reason };
    await trx.updateTable('user').set({ ...after, updated_at: now }).where('id', '=', target.id).execute();
    await deleteUserSessions(trx, target.id);
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'user.ban',
      targetType: 'user',
      targetId: target.id,
      reason: b.reason,
      before,
      after: { ...after, ban: row.id, username: target.username, expires_at: b.expiresAt },
      now,
    });
    return row.id;
  });
  await deps.tracker.userChanged(target.id);
  return id;
}

/**
 * Ends a ban (staff, or the expiry job with `actor` null). Enables the account again when no other
 * ban holds and the account's disabled state is still a ban's. False when the ban had already ended.
 */
export async function liftBan(deps: DisciplineDeps, actor: Actor | null, banId: number, now: number, reason: string | null = null): Promise<boolean> {
  const r = await inTransaction(deps.db, async (trx) => {
    const ban = await trx.selectFrom('user_warning').selectAll().where('id', '=', banId).where('kind', '=', 'ban').executeTakeFirst();
    if (!ban || ban.revoked_at !== null) return null;
    // Staff lift now; the job records the moment the ban ran out.
    const endedAt = actor ? now : Math.min(now, ban.expires_at ?? now);
    const upd = await trx
      .updateTable('user_warning')
      .set({ revoked_at: endedAt, revoked_by: actor?.id ?? null })
      .where('id', '=', ban.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return null;
    const user = await trx.selectFrom('user').select(['id', 'username', 'enabled', 'disabled_reason', 'deleted_at']).where('id', '=', ban.user_id).executeTakeFirst();
    let reenabled = false;
    if (user && user.enabled === 0 && user.deleted_at === null && !(await activeBan(trx, user.id, now))) {
      // Only when the current disabled reason is one a ban of theirs wrote.
      const byBan = await trx
        .selectFrom('user_warning')
        .select('id')
        .where('user_id', '=', user.id)
        .where('kind', '=', 'ban')
        .where('reason', '=', user.disabled_reason ?? '')
        .limit(1)
        .executeTakeFirst();
      if (byBan) {
        await trx.updateTable('user').set({ enabled: 1, disabled_reason: null, updated_at: now }).where('id', '=', user.id).execute();
        reenabled = true;
      }
    }
    await audit(trx, {
      actorId: actor?.id ?? null,
      actorName: actorName(actor),
      action: actor ? 'user.unban' : 'user.ban_expired',
      targetType: 'user',
      targetId: ban.user_id,
      reason,
      before: { ban: ban.id, reason: ban.reason, expires_at: ban.expires_at, enabled: user?.enabled ?? null },
      after: { ban: ban.id, ended_at: endedAt, enabled: reenabled ? 1 : (user?.enabled ?? null) },
      now,
    });
    if (reenabled) await notify(trx, ban.user_id, 'discipline.ban_lifted', { reason: ban.reason }, now);
    return ban.user_id;
  });
  if (r === null) return false;
  await deps.tracker.userChanged(r);
  return true;
}

/** The periodic job: ends every ban whose expiry has passed. Returns how many ended. */
export async function liftExpiredBans(deps: DisciplineDeps, now: number): Promise<number> {
  const due = await deps.db
    .selectFrom('user_warning')
    .select('id')
    .where('kind', '=', 'ban')
    .where('revoked_at', 'is', null)
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(1000)
    .execute();
  let n = 0;
  for (const { id } of due) if (await liftBan(deps, null, id, now)) n++;
  return n;
}
