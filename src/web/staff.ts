/**
 * Route-side permission checks: `requirePermission(req, permission)` returns the member when the
 * policy (src/site/staff/policy.ts) allows, else throws LoginRequired (visitor) or a 403.
 * Every staff route calls it first; test/web/authorization.test.ts walks the routes to check.
 *
 * Each check is remembered on its request (`permissionChecksOf(req)`), so that the authorization
 * test can see which permission a route asked for, with which target, and what the policy said.
 */
import type { FastifyRequest } from 'fastify';
import type { User } from '../db/schema.js';
import { can, type Permission } from '../site/staff/policy.js';
import { HttpError, LoginRequired } from './context.js';

export interface PermissionCheck {
  permissions: readonly Permission[];
  target: Pick<User, 'id' | 'role'> | null;
  granted: boolean;
}

const checks = new WeakMap<FastifyRequest, PermissionCheck[]>();

function record(req: FastifyRequest, c: PermissionCheck): void {
  const list = checks.get(req);
  if (list) list.push(c);
  else checks.set(req, [c]);
}

/** The permission checks a request made, in order. */
export function permissionChecksOf(req: FastifyRequest): readonly PermissionCheck[] {
  return checks.get(req) ?? [];
}

export async function requirePermission(req: FastifyRequest, permission: Permission, target?: Pick<User, 'id' | 'role'>): Promise<User> {
  const user = req.ctx.user;
  const granted = user !== null && (await can(req.ctx.site.db, user, permission, target));
  record(req, { permissions: [permission], target: target ? { id: target.id, role: target.role } : null, granted });
  if (!user) throw new LoginRequired(req.ctx.path);
  if (!granted) throw new HttpError(403, 'common.error.forbidden');
  return user;
}

/** The member when they hold at least one of `permissions` (pages that gather several sections). */
export async function requireAnyPermission(req: FastifyRequest, permissions: readonly Permission[]): Promise<User> {
  const user = req.ctx.user;
  let granted = false;
  if (user) for (const p of permissions) if (await can(req.ctx.site.db, user, p)) granted = true;
  record(req, { permissions, target: null, granted });
  if (!user) throw new LoginRequired(req.ctx.path);
  if (!granted) throw new HttpError(403, 'common.error.forbidden');
  return user;
}

/** Whether the viewer may (a link or a form shown only to those who can use it). */
export async function viewerCan(req: FastifyRequest, permission: Permission, target?: Pick<User, 'id' | 'role'>): Promise<boolean> {
  const user = req.ctx.user;
  return user !== null && (await can(req.ctx.site.db, user, permission, target));
}
