/**
 * The programmatic APIs, registered beside the website in one Fastify app but in their own
 * encapsulated scopes: no session cookie, no CSRF (a token authenticates every call, never a
 * cookie), no HTML error pages. Each API formats its own errors (src/api/http.ts ApiError).
 *
 * - /api/v1 (+ /api/openapi.json, /api/docs): Essaim's own JSON API (src/api/v1/);
 * - /api/torznab: Torznab for Prowlarr, Jackett, Sonarr, Radarr (src/api/torznab/);
 * - `api.t411_base_path` (and `api.t411_host`): T411's historical REST API (src/api/t411/);
 * - /api/torrents: UNIT3D's torrents API (src/api/unit3d/).
 *
 * Every scope refuses banned IP addresses and counts each request against the per-IP limit.
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../site/site.js';
import { isIpBanned } from '../site/discipline/ip-bans.js';
import { v1Routes } from './v1/routes.js';
import { torznabRoutes } from './torznab/routes.js';
import { t411Routes } from './t411/routes.js';
import { unit3dRoutes } from './unit3d/routes.js';
import { ApiError, ipAllowed } from './http.js';

/** Installs the checks every API scope shares; errors thrown here reach the scope's own error handler. */
export function installApiGuards(scope: FastifyInstance, site: Site): void {
  scope.addHook('onRequest', async (req) => {
    if (await isIpBanned(site.db, req.ip, site.now())) throw new ApiError(403, 'forbidden', 'This address is banned.');
    if (!ipAllowed(site, req)) throw new ApiError(429, 'rate_limited', 'Too many requests from this address; slow down.');
  });
}

export function registerApis(app: FastifyInstance, site: Site): void {
  const c = site.config.api;
  if (!c.enabled) return;
  void app.register(async (scope) => v1Routes(scope, site));
  if (c.torznab_enabled) void app.register(async (scope) => torznabRoutes(scope, site));
  if (c.t411_enabled) void app.register(async (scope) => t411Routes(scope, site));
  if (c.unit3d_enabled) void app.register(async (scope) => unit3dRoutes(scope, site));
}
