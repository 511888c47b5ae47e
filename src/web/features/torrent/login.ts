/**
 * The member of a request, or null after a redirect to the login page was sent. (context.ts's
 * requireUser throws after sending its redirect, which Fastify logs as an error because the reply
 * was already sent; these pages return instead.)
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../../db/schema.js';

export function memberOrLogin(req: FastifyRequest, reply: FastifyReply): User | null {
  const u = req.ctx.user;
  if (u) return u;
  void reply.redirect(`/login?next=${encodeURIComponent(req.ctx.path)}`, 303);
  return null;
}
