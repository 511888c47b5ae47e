/**
 * What staff see of a member (permission user.view_private): the account, who invited them and
 * how many they invited, their login addresses, warnings and bans, permission overrides, staff
 * notes and credit grants; and the member search behind /staff/users.
 *
 * Staff notes are audit rows (action 'user.note', the text in `reason`): append-only and chained
 * like every other staff record, with no table of their own.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import { audit } from '../staff/audit.js';
import { inTransaction } from '../../db/util.js';
import { listCredits } from './credit.js';
import { listWarnings, type Actor, type Warning } from './warnings.js';
import { parseCidr } from './cidr.js';

export const MAX_NOTE = 2000;

export interface StaffNote {
  id: number;
  createdAt: number;
  actorId: number | null;
  actorName: string;
  text: string;
}

export interface StaffView {
  user: User;
  inviter: Pick<User, 'id' | 'username'> | null;
  invitees: number;
  loginIps: Array<{ ip: string; first_at: number; last_at: number; signup: number; others: number }>;
  warnings: Warning[];
  bans: Warning[];
  overrides: Array<{ permission: string; granted: number }>;
  notes: StaffNote[];
  credits: Awaited<ReturnType<typeof listCredits>>;
}

export async function staffView(db: Kysely<Database>, userId: number): Promise<StaffView | null> {
  const user = await db.selectFrom('user').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) return null;
  const [inviter, invitees, ips, all, overrides, notes, credits] = await Promise.all([
    user.invited_by === null ? Promise.resolve(undefined) : db.selectFrom('user').select(['id', 'username']).where('id', '=', user.invited_by).executeTakeFirst(),
    db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).where('invited_by', '=', userId).executeTakeFirstOrThrow(),
    db
      .selectFrom('login_ip as l')
      .select(['l.ip', 'l.first_at', 'l.last_at', 'l.signup'])
      // How many other accounts used the same address: the usual sign of a second account.
      .select((eb) =>
        eb
          .selectFrom('login_ip as o')
          .select((e2) => e2.fn.countAll<number>().as('n'))
          .whereRef('o.ip', '=', 'l.ip')
          .where('o.user_id', '!=', userId)
          .as('others'),
      )
      .where('l.user_id', '=', userId)
      .orderBy('l.last_at', 'desc')
      .limit(200)
      .execute(),
    listWarnings(db, userId),
    db.selectFrom('user_permission').select(['permission', 'granted']).where('user_id', '=', userId).orderBy('permission').execute(),
    listNotes(db, userId),
    listCredits(db, userId),
  ]);
  return {
    user,
    inviter: inviter ?? null,
    invitees: Number(invitees.n),
    loginIps: ips.map((r) => ({ ...r, others: Number(r.others ?? 0) })),
    warnings: all.filter((w) => w.kind !== 'ban'),
    bans: all.filter((w) => w.kind === 'ban'),
    overrides,
    notes,
    credits,
  };
}

export async function listNotes(db: Kysely<Database>, userId: number, limit = 100): Promise<StaffNote[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['id', 'created_at', 'actor_id', 'actor_name', 'reason'])
    .where('target_type', '=', 'user')
    .where('target_id', '=', userId)
    .where('action', '=', 'user.note')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at, actorId: r.actor_id, actorName: r.actor_name, text: r.reason ?? '' }));
}

export async function addNote(db: Kysely<Database>, actor: Actor, target: Pick<User, 'id' | 'username'>, text: string, now: number): Promise<number> {
  const r = await audit(db, { actorId: actor.id, actorName: actor.username, action: 'user.note', targetType: 'user', targetId: target.id, reason: text, after: { username: target.username }, now });
  return r.id;
}

/** What the staff may change on a member's account (user.edit). */
export interface MemberEdit {
  /** Custom title shown on the profile; null removes it. */
  title: string | null;
  invitesLeft: number;
  freeleechTokens: number;
}

export const MAX_TITLE = 60;
export const MAX_GRANTED = 1000;

/** Applies a staff edit of a member's account; audited with before and after. False when nothing changed. */
export async function editMember(db: Kysely<Database>, actor: Actor, target: Pick<User, 'id' | 'username' | 'title' | 'invites_left' | 'freeleech_tokens'>, next: MemberEdit, reason: string | null, now: number): Promise<boolean> {
  const before = { title: target.title, invites_left: target.invites_left, freeleech_tokens: target.freeleech_tokens };
  const after = { title: next.title, invites_left: next.invitesLeft, freeleech_tokens: next.freeleechTokens };
  if (JSON.stringify(before) === JSON.stringify(after)) return false;
  await inTransaction(db, async (trx) => {
    await trx.updateTable('user').set({ ...after, updated_at: now }).where('id', '=', target.id).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'user.edit', targetType: 'user', targetId: target.id, reason, before, after, now });
  });
  return true;
}

export interface MemberSearch {
  /** Username or email (prefix when no wildcard), or an IP address / range of login_ip. */
  q: string;
  limit: number;
  offset: number;
}

export type MemberHit = Pick<User, 'id' | 'username' | 'email' | 'role' | 'class' | 'enabled' | 'created_at' | 'last_seen_at' | 'uploaded' | 'downloaded' | 'deleted_at'>;

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/**
 * Members matching `q`: an IP address finds every account that logged in from it (a range: its
 * addresses' text prefix for IPv4 /8, /16, /24); anything else matches the start of the username
 * or the email, case-insensitively. Also `#<id>`.
 */
export async function searchMembers(db: Kysely<Database>, s: MemberSearch): Promise<{ rows: MemberHit[]; total: number }> {
  const q = s.q.trim();
  const cols = ['user.id', 'user.username', 'user.email', 'user.role', 'user.class', 'user.enabled', 'user.created_at', 'user.last_seen_at', 'user.uploaded', 'user.downloaded', 'user.deleted_at'] as const;
  let base = db.selectFrom('user');
  const idMatch = /^#(\d{1,10})$/.exec(q);
  const range = q.includes('.') || q.includes(':') ? parseCidr(q) : null;
  if (idMatch) {
    base = base.where('user.id', '=', Number(idMatch[1]));
  } else if (range) {
    const pattern = ipPattern(q, range);
    base = base.where('user.id', 'in', (eb) =>
      eb
        .selectFrom('login_ip')
        .select('login_ip.user_id')
        .where(pattern.exact ? sql<boolean>`login_ip.ip = ${pattern.value}` : sql<boolean>`login_ip.ip like ${pattern.value} escape '\\'`),
    );
  } else if (q !== '') {
    const like = likeEscape(q.toLowerCase()) + '%';
    base = base.where((eb) => eb.or([sql<boolean>`lower(${eb.ref('user.username')}) like ${like} escape '\\'`, sql<boolean>`lower(${eb.ref('user.email')}) like ${like} escape '\\'`]));
  }
  const [rows, total] = await Promise.all([
    base.select([...cols]).orderBy('user.username').limit(s.limit).offset(s.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** login_ip holds addresses as the web server saw them: exact text, or a text prefix for IPv4 byte-aligned ranges. */
function ipPattern(q: string, c: NonNullable<ReturnType<typeof parseCidr>>): { exact: boolean; value: string } {
  const single = c.prefix === (c.family === 4 ? 32 : 128);
  if (single) return { exact: true, value: q.trim().replace(/\/\d+$/, '') };
  if (c.family === 4 && c.prefix % 8 === 0) {
    const bytes = Array.from(c.bytes).slice(0, c.prefix / 8);
    return { exact: false, value: likeEscape(bytes.join('.') + '.') + '%' };
  }
  // Other ranges: the address text before the slash as a prefix (best effort).
  return { exact: false, value: likeEscape(q.trim().replace(/\/\d+$/, '').replace(/::$/, ':')) + '%' };
}
