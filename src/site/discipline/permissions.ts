/**
 * Administration of the permissions (permission.manage): the role × permission grid (table
 * role_permission) and per-member overrides (user_permission: granted 1 adds, 0 removes).
 *
 * Nobody grants more than they hold: an editor changes only the roles ranked below their own
 * (administrators always hold everything and are not in the grid) and only the permissions they
 * hold themselves. Each change is audited with the grants before and after, in the transaction that
 * makes it; the cached grants are dropped afterwards (invalidateGrants).
 */
import type { Kysely } from 'kysely';
import type { Database, User, UserRole } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { invalidateGrants, isPermission, PERMISSIONS, permissionsOf, ROLE_RANK, type Permission } from '../staff/policy.js';
import type { Actor } from './warnings.js';

/** The grid's columns: every role but the administrator. */
export const GRID_ROLES: readonly UserRole[] = ['member', 'uploader', 'moderator', 'supermod'];

export type Grid = Map<UserRole, Set<Permission>>;

export async function readGrid(db: Kysely<Database>): Promise<Grid> {
  const rows = await db.selectFrom('role_permission').select(['role', 'permission']).execute();
  const grid: Grid = new Map(GRID_ROLES.map((r) => [r, new Set<Permission>()]));
  for (const r of rows) {
    if (isPermission(r.permission)) grid.get(r.role as UserRole)?.add(r.permission);
  }
  return grid;
}

type Editor = Actor & Pick<User, 'role' | 'enabled'> & { deleted_at?: number | null };

/** What an editor may change: roles below theirs, permissions they hold. */
export async function editableBy(db: Kysely<Database>, editor: Editor): Promise<{ roles: Set<UserRole>; permissions: Set<Permission> }> {
  const held = await permissionsOf(db, editor);
  return {
    roles: new Set(GRID_ROLES.filter((r) => ROLE_RANK[r] < ROLE_RANK[editor.role])),
    permissions: new Set(PERMISSIONS.filter((p) => held.has(p))),
  };
}

const cellKey = (role: string, p: string) => `${role}:${p}`;

/**
 * Saves the grid from the set of checked cells ("role:permission"). Cells outside what the editor
 * may change keep their current value whatever was sent. Returns the cells added and removed.
 */
export async function saveGrid(db: Kysely<Database>, editor: Editor, checked: ReadonlySet<string>, now: number): Promise<{ added: string[]; removed: string[] }> {
  const may = await editableBy(db, editor);
  const r = await inTransaction(db, async (trx) => {
    const grid = await readGrid(trx);
    const added: string[] = [];
    const removed: string[] = [];
    for (const role of may.roles) {
      for (const p of may.permissions) {
        const has = grid.get(role)!.has(p);
        const want = checked.has(cellKey(role, p));
        if (want && !has) added.push(cellKey(role, p));
        if (!want && has) removed.push(cellKey(role, p));
      }
    }
    if (added.length === 0 && removed.length === 0) return { added, removed };
    for (const c of removed) {
      const [role, permission] = c.split(':') as [string, string];
      await trx.deleteFrom('role_permission').where('role', '=', role).where('permission', '=', permission).execute();
    }
    if (added.length > 0) {
      await trx
        .insertInto('role_permission')
        .values(added.map((c) => { const [role, permission] = c.split(':') as [string, string]; return { role, permission }; }))
        .execute();
    }
    await audit(trx, { actorId: editor.id, actorName: editor.username, action: 'permission.grid', targetType: 'role_permission', targetId: null, before: { removed }, after: { added }, now });
    return { added, removed };
  });
  invalidateGrants(db);
  return r;
}

export type Override = 'inherit' | 'grant' | 'revoke';

export async function readOverrides(db: Kysely<Database>, userId: number): Promise<Map<Permission, Override>> {
  const rows = await db.selectFrom('user_permission').select(['permission', 'granted']).where('user_id', '=', userId).execute();
  const m = new Map<Permission, Override>();
  for (const r of rows) if (isPermission(r.permission)) m.set(r.permission, r.granted === 1 ? 'grant' : 'revoke');
  return m;
}

/**
 * Sets a member's overrides from `wanted` (permissions absent from it are left as they are).
 * Only permissions the editor holds change. Returns the permissions whose override changed.
 */
export async function saveOverrides(
  db: Kysely<Database>,
  editor: Editor,
  target: Pick<User, 'id' | 'username'>,
  wanted: ReadonlyMap<Permission, Override>,
  now: number,
): Promise<Permission[]> {
  const may = await editableBy(db, editor);
  const changed = await inTransaction(db, async (trx) => {
    const current = await readOverrides(trx, target.id);
    const before: Record<string, Override> = {};
    const after: Record<string, Override> = {};
    const changed: Permission[] = [];
    for (const [p, want] of wanted) {
      if (!may.permissions.has(p)) continue;
      const has = current.get(p) ?? 'inherit';
      if (has === want) continue;
      changed.push(p);
      before[p] = has;
      after[p] = want;
      await trx.deleteFrom('user_permission').where('user_id', '=', target.id).where('permission', '=', p).execute();
      if (want !== 'inherit') await trx.insertInto('user_permission').values({ user_id: target.id, permission: p, granted: want === 'grant' ? 1 : 0 }).execute();
    }
    if (changed.length > 0) {
      await audit(trx, { actorId: editor.id, actorName: editor.username, action: 'permission.override', targetType: 'user', targetId: target.id, before, after: { ...after, username: target.username }, now });
    }
    return changed;
  });
  invalidateGrants(db);
  return changed;
}
