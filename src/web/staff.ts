/**
 * Route-side permission checks: `requirePermission(req, permission)` returns the member when the
 * policy (src/site/staff/policy.ts) allows, else throws LoginRequired (visitor) or a 403.
 * Every staff route calls it first; test/web/authorization.test.ts walks the routes to check.
 */
import type { FastifyRequest } from 'fastify';
import type { User } from '../db/schema.js';
import { can, type Permission } from '../site/staff/policy.js';
import { HttpError, LoginRequired } from './context.js';

export async function requirePermission(req: FastifyRequest, permission: Permission, target?: Pick<User, 'id' | 'role'>): Promise<User> {
  const user = req.ctx.user;
  if (!user) throw new LoginRequired(req.ctx.path);
  if (!(await can(req.ctx.site.db, user, permission, target))) throw new HttpError(403, 'common.error.forbidden');
  return user;
}
