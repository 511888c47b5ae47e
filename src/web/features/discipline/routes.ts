/**
 * Discipline and staff administration:
 *
 *   GET  /admin                       the hub: links to the staff sections the viewer may use (hub.ts)
 *   /staff/users...                   member search, staff view, warn, ban, credit, notes (members.ts)
 *   /staff/ip-bans...                 IP bans (ip-bans.ts)
 *   /staff/permissions...             role grid and per-member overrides (permissions.ts)
 *   /staff/audit...                   the audit log viewer and chain verification (audit.ts)
 *
 * Every route asks the policy first (requirePermission, src/web/staff.ts). The member's own
 * warnings appear on /account (account.ts, called by the accounts feature).
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import { auditRoutes } from './audit.js';
import { hubRoutes } from './hub.js';
import { ipBanRoutes } from './ip-bans.js';
import { memberRoutes } from './members.js';
import { permissionRoutes } from './permissions.js';

export function routes(app: FastifyInstance, site: Site): void {
  hubRoutes(app, site);
  memberRoutes(app, site);
  ipBanRoutes(app, site);
  permissionRoutes(app, site);
  auditRoutes(app, site);
}
