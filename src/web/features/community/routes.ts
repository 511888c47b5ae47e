/**
 * The community pages: comments, thanks and ratings on torrents (comment-routes.ts), the requests
 * board (request-routes.ts), private messages (pm-routes.ts), friends, members online, member
 * search and the staff team (people-routes.ts), the contact form and its staff list
 * (contact-routes.ts), news (news-routes.ts); and the unread-messages count of the header
 * (header.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import { commentRoutes } from './comment-routes.js';
import { contactRoutes } from './contact-routes.js';
import { installUnreadCount } from './header.js';
import { newsRoutes } from './news-routes.js';
import { peopleRoutes } from './people-routes.js';
import { pmRoutes } from './pm-routes.js';
import { requestRoutes } from './request-routes.js';

export function routes(app: FastifyInstance, site: Site): void {
  installUnreadCount(app, site);
  commentRoutes(app, site);
  requestRoutes(app, site);
  pmRoutes(app, site);
  peopleRoutes(app, site);
  contactRoutes(app, site);
  newsRoutes(app, site);
}
