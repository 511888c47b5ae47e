/**
 * Who may do what: permissions are named strings, granted to roles (table role_permission, seeded
 * from DEFAULT_GRANTS and editable by administrators) and overridden per member (user_permission:
 * granted 1 adds, 0 removes). `can(actor, permission, target?)` is the one question every staff
 * route asks; `requirePermission` is its route-side form.
 *
 * Rules beyond the grants (all in `can`): a disabled or deleted member can do nothing; staff may
 * act on a member only when their role ranks strictly above the target's (a moderator cannot ban
 * an administrator); an administrator always holds every permission.
 */
import type { Kysely } from 'kysely';
import type { Database, User, UserRole } from '../../db/schema.js';
import { cacheInvalidated, registerCacheDropper } from '../../shared/cache-events.js';

export const PERMISSIONS = [
  'torrent.upload_unmoderated', // uploads skip the moderation queue (the uploader role)
  'torrent.moderate', // approve, reject, ask for an edit
  'torrent.edit_any',
  'torrent.delete_any',
  'torrent.merge',
  'torrent.set_factors', // freeleech / multipliers per torrent
  'comment.moderate',
  'request.moderate', // close any request on the requests board (bounties refunded)
  'report.handle',
  'user.view_private', // staff view of a member: IPs, inviter, warnings, hidden stats
  'user.warn',
  'user.ban',
  'user.grant_credit',
  'user.edit',
  'ip.ban',
  'invite.manage',
  'application.review',
  'notice.review', // notice-and-takedown queue
  'blocklist.manage',
  'freeleech.manage', // site-wide windows
  'news.manage',
  'contact.read',
  'audit.read',
  'catalogue.manage',
  'permission.manage',
  'settings.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles from least to most powerful. */
export const ROLE_RANK: Record<UserRole, number> = { member: 0, uploader: 1, moderator: 2, supermod: 3, admin: 4 };

export const DEFAULT_GRANTS: Record<UserRole, readonly Permission[]> = {
  member: [],
  uploader: ['torrent.upload_unmoderated'],
  moderator: [
    'torrent.upload_unmoderated', 'torrent.moderate', 'torrent.edit_any', 'comment.moderate', 'request.moderate', 'report.handle',
    'user.view_private', 'user.warn', 'application.review', 'contact.read',
  ],
  supermod: [
    'torrent.upload_unmoderated', 'torrent.moderate', 'torrent.edit_any', 'torrent.delete_any', 'torrent.merge', 'torrent.set_factors',
    'comment.moderate', 'request.moderate', 'report.handle', 'user.view_private', 'user.warn', 'user.ban', 'user.grant_credit', 'user.edit', 'ip.ban',
    'invite.manage', 'application.review', 'notice.review', 'blocklist.manage', 'news.manage', 'contact.read', 'audit.read',
  ],
  admin: PERMISSIONS,
};

export function isPermission(s: unknown): s is Permission {
  return typeof s === 'string' && (PERMISSIONS as readonly string[]).includes(s);
}

export function isStaffRole(role: UserRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK.moderator;
}

type Actor = Pick<User, 'id' | 'role' | 'enabled'> & { deleted_at?: number | null };

/** The effective permissions of a member: role grants, then the member's overrides. */
export interface PermissionSet {
  has(p: Permission): boolean;
}

interface Grants {
  roles: Map<string, Set<string>>;
  loadedAt: number;
}
const cache = new WeakMap<object, Grants>();
const GRANTS_TTL_MS = 30_000;

/** Writes DEFAULT_GRANTS into role_permission when it is empty (first run). */
export async function installDefaultGrants(db: Kysely<Database>): Promise<boolean> {
  const any = await db.selectFrom('role_permission').select('role').limit(1).executeTakeFirst();
  if (any) return false;
  const rows = Object.entries(DEFAULT_GRANTS).flatMap(([role, perms]) => perms.map((permission) => ({ role, permission })));
  if (rows.length > 0) await db.insertInto('role_permission').values(rows).execute();
  invalidateGrants(db);
  return true;
}

export function invalidateGrants(db: Kysely<Database>): void {
  cache.delete(db);
  cacheInvalidated('grants', db);
}
registerCacheDropper('grants', (db) => void cache.delete(db as Kysely<Database>));

async function roleGrants(db: Kysely<Database>): Promise<Map<string, Set<string>>> {
  const c = cache.get(db);
  if (c && Date.now() - c.loadedAt < GRANTS_TTL_MS) return c.roles;
  const rows = await db.selectFrom('role_permission').select(['role', 'permission']).execute();
  const roles = new Map<string, Set<string>>();
  for (const r of rows) (roles.get(r.role) ?? roles.set(r.role, new Set()).get(r.role)!).add(r.permission);
  cache.set(db, { roles, loadedAt: Date.now() });
  return roles;
}

export async function permissionsOf(db: Kysely<Database>, actor: Actor | null): Promise<PermissionSet> {
  if (!actor || actor.enabled !== 1 || actor.deleted_at) return { has: () => false };
  if (actor.role === 'admin') return { has: () => true };
  const granted = new Set((await roleGrants(db)).get(actor.role) ?? []);
  const overrides = await db.selectFrom('user_permission').select(['permission', 'granted']).where('user_id', '=', actor.id).execute();
  for (const o of overrides) {
    if (o.granted === 1) granted.add(o.permission);
    else granted.delete(o.permission);
  }
  return { has: (p) => granted.has(p) };
}

/**
 * May `actor` do `permission` (to `target`, a member, when given)? Acting on a member also needs
 * a role strictly above theirs, and nobody acts on themselves through staff powers.
 */
export async function can(db: Kysely<Database>, actor: Actor | null, permission: Permission, target?: Pick<User, 'id' | 'role'>): Promise<boolean> {
  if (!actor) return false;
  const perms = await permissionsOf(db, actor);
  if (!perms.has(permission)) return false;
  if (target) {
    if (target.id === actor.id) return false;
    if (ROLE_RANK[actor.role] <= ROLE_RANK[target.role]) return false;
  }
  return true;
}
