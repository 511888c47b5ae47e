/** The community pages. */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import { installUnreadCount } from './header.js';

export function routes(app: FastifyInstance, site: Site): void {
  installUnreadCount(app, site);
}
