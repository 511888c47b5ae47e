import type { FastifyInstance } from 'fastify';
import type { Site } from '../../site/site.js';

/** Stub: filled in by the torznab API work (#5). */
export function torznabRoutes(_scope: FastifyInstance, _site: Site): void {}
