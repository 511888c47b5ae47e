/**
 * The accounts pages: sign-up, login (with the two-factor step), logout, the member's account
 * (passkey, RSS key, preferences, password, email, sessions), two-factor authentication, password
 * reset, the first-run setup of the first administrator, and the member's data (export, deletion).
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import { accountRoutes } from './account.js';
import { entryRoutes } from './entry.js';
import { passwordResetRoutes } from './password-reset.js';
import { privacyRoutes } from './privacy.js';
import { setupRoutes } from './setup.js';
import { twoFactorRoutes } from './twofactor.js';

export function routes(app: FastifyInstance, site: Site): void {
  entryRoutes(app, site);
  accountRoutes(app, site);
  twoFactorRoutes(app, site);
  passwordResetRoutes(app, site);
  privacyRoutes(app, site);
  setupRoutes(app, site);
}
