/**
 * Invitations: a member spends one of their invitations (user.invites_left, refilled each month
 * to their class's member_class.invites_per_month) on a link `/register/invite/<code>`; the code
 * is 128 random bits, stored only as its SHA-256, valid until its expiry, once. Its inviter may
 * revoke it while unused (the invitation is given back). The account created with it records
 * `invited_by`, which makes the invite tree (who invited whom) staff can browse.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, InviteTable } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { isLinkToken, newLinkToken } from '../accounts/tokens.js';
import { hashToken } from '../sessions.js';
import { getSetting, setSetting } from '../settings.js';

export type Invite = Selectable<InviteTable>;
export type InviteState = 'pending' | 'used' | 'expired' | 'revoked';

export function inviteState(i: Pick<Invite, 'used_at' | 'revoked_at' | 'expires_at'>, now: number): InviteState {
  if (i.used_at !== null) return 'used';
  if (i.revoked_at !== null) return 'revoked';
  if (i.expires_at <= now) return 'expired';
  return 'pending';
}

export interface NewInvite {
  inviterId: number;
  email: string | null;
  ttl: number;
  now: number;
  /** Staff with invite.manage invite without spending their quota. */
  unlimited?: boolean;
}

/** Creates an invitation; returns its code (for the link) and id, or null when none is left. */
export async function createInvite(db: Kysely<Database>, o: NewInvite): Promise<{ id: number; code: string } | null> {
  return inTransaction(db, async (trx) => {
    if (!o.unlimited) {
      const r = await trx
        .updateTable('user')
        .set((eb) => ({ invites_left: eb('invites_left', '-', 1) }))
        .where('id', '=', o.inviterId)
        .where('invites_left', '>', 0)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return null;
    }
    const code = newLinkToken();
    const row = await trx
      .insertInto('invite')
      .values({
        inviter_id: o.inviterId,
        code_hash: hashToken(code),
        email: o.email,
        created_at: o.now,
        expires_at: o.now + o.ttl,
        used_by: null,
        used_at: null,
        revoked_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, code };
  });
}

/** The usable invitation behind a code (unused, unrevoked, unexpired), or null. */
export async function findInviteByCode(db: Kysely<Database>, code: string, now: number): Promise<Invite | null> {
  if (!isLinkToken(code)) return null;
  const row = await db.selectFrom('invite').selectAll().where('code_hash', '=', hashToken(code)).executeTakeFirst();
  return row && inviteState(row, now) === 'pending' ? row : null;
}

/** Marks an invitation used by a new account; false when it was used, revoked or expired meanwhile. */
export async function consumeInvite(db: Kysely<Database>, inviteId: number, userId: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('invite')
    .set({ used_by: userId, used_at: now })
    .where('id', '=', inviteId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Revokes an unused, unexpired invitation (of `inviterId` when given); the inviter gets it back
 * unless `refund` is false. Returns the invitation as it was, or null when nothing was revoked.
 */
export async function revokeInvite(db: Kysely<Database>, id: number, o: { inviterId?: number; now: number; refund?: boolean }): Promise<Invite | null> {
  return inTransaction(db, async (trx) => {
    let q = trx.selectFrom('invite').selectAll().where('id', '=', id);
    if (o.inviterId !== undefined) q = q.where('inviter_id', '=', o.inviterId);
    const row = await q.executeTakeFirst();
    if (!row || inviteState(row, o.now) !== 'pending') return null;
    const r = await trx.updateTable('invite').set({ revoked_at: o.now }).where('id', '=', id).where('used_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return null;
    if (o.refund !== false) {
      await trx.updateTable('user').set((eb) => ({ invites_left: eb('invites_left', '+', 1) })).where('id', '=', row.inviter_id).execute();
    }
    return row;
  });
}

export interface InviteListRow extends Invite {
  used_by_name: string | null;
  inviter_name: string;
}

/** A member's invitations, newest first, with the invitee's name. */
export async function listInvitesOf(db: Kysely<Database>, inviterId: number, limit = 200): Promise<InviteListRow[]> {
  return db
    .selectFrom('invite')
    .innerJoin('user as inviter', 'inviter.id', 'invite.inviter_id')
    .leftJoin('user as invitee', 'invitee.id', 'invite.used_by')
    .selectAll('invite')
    .select(['invitee.username as used_by_name', 'inviter.username as inviter_name'])
    .where('invite.inviter_id', '=', inviterId)
    .orderBy('invite.created_at', 'desc')
    .orderBy('invite.id', 'desc')
    .limit(limit)
    .execute();
}

/** Every unused, unrevoked, unexpired invitation, newest first (staff). */
export async function listPendingInvites(db: Kysely<Database>, now: number, limit = 200): Promise<InviteListRow[]> {
  return db
    .selectFrom('invite')
    .innerJoin('user as inviter', 'inviter.id', 'invite.inviter_id')
    .leftJoin('user as invitee', 'invitee.id', 'invite.used_by')
    .selectAll('invite')
    .select(['invitee.username as used_by_name', 'inviter.username as inviter_name'])
    .where('invite.used_at', 'is', null)
    .where('invite.revoked_at', 'is', null)
    .where('invite.expires_at', '>', now)
    .orderBy('invite.created_at', 'desc')
    .orderBy('invite.id', 'desc')
    .limit(limit)
    .execute();
}

export interface TreeNode {
  id: number;
  username: string;
  created_at: number;
  class: string;
  role: string;
  enabled: number;
  children: TreeNode[];
}

/**
 * Who invited whom: a forest whose roots are members who invited someone without being invited
 * themselves (or whose inviter is gone), or the subtree under `rootId`. At most `limit` members;
 * `truncated` says when more exist.
 */
export async function inviteTree(db: Kysely<Database>, o: { rootId?: number; limit?: number } = {}): Promise<{ roots: TreeNode[]; truncated: boolean; count: number }> {
  const limit = o.limit ?? 5000;
  const rows = await db
    .selectFrom('user')
    .select(['id', 'username', 'created_at', 'class', 'role', 'enabled', 'invited_by'])
    .where((eb) => eb.or([eb('invited_by', 'is not', null), eb('id', 'in', eb.selectFrom('user as u2').select('u2.invited_by').where('u2.invited_by', 'is not', null).$castTo<number>())]))
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const truncated = rows.length > limit;
  const kept = rows.slice(0, limit);
  const nodes = new Map<number, TreeNode & { parent: number | null }>();
  for (const r of kept) nodes.set(r.id, { id: r.id, username: r.username, created_at: r.created_at, class: r.class, role: r.role, enabled: r.enabled, parent: r.invited_by, children: [] });
  const roots: TreeNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parent !== null ? nodes.get(n.parent) : undefined;
    if (parent && parent.id !== n.id) parent.children.push(n);
    else roots.push(n);
  }
  const strip = (n: TreeNode & { parent?: number | null }): TreeNode => ({ id: n.id, username: n.username, created_at: n.created_at, class: n.class, role: n.role, enabled: n.enabled, children: n.children.map(strip) });
  if (o.rootId !== undefined) {
    const root = nodes.get(o.rootId);
    return { roots: root ? [strip(root)] : [], truncated, count: kept.length };
  }
  return { roots: roots.map(strip), truncated, count: kept.length };
}

const MONTH_KEY = 'joining.invites_month';

/** "2025-07" (UTC) for an instant. */
export function monthOf(now: number): string {
  const d = new Date(now * 1000);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Once per calendar month (UTC): every member's invitations are set to their class's monthly
 * quota (unused ones do not pile up). Returns whether a refill happened now.
 */
export async function refillMonthlyInvites(db: Kysely<Database>, now: number): Promise<boolean> {
  const month = monthOf(now);
  if ((await getSetting(db, MONTH_KEY)) === month) return false;
  await inTransaction(db, async (trx) => {
    const classes = await trx.selectFrom('member_class').select(['id', 'invites_per_month']).execute();
    for (const c of classes) {
      await trx.updateTable('user').set({ invites_left: c.invites_per_month }).where('class', '=', c.id).where('deleted_at', 'is', null).execute();
    }
    await setSetting(trx, MONTH_KEY, month, now);
  });
  return true;
}
