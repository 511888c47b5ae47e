/**
 * The joining pages: email verification, members' invitations, the application form
 * (member.ts), and the staff pages for the joining settings, applications and invitations
 * (staff.ts). Sign-up and login themselves are the accounts feature's, which applies the rules.
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import { memberRoutes } from './member.js';
import { staffRoutes } from './staff.js';

export function routes(app: FastifyInstance, site: Site): void {
  memberRoutes(app, site);
  staffRoutes(app, site);
}
